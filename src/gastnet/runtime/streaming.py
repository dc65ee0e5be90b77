"""Real-time lifting: push one frame of 2D keypoints, get that frame's 3D pose at once.

A causal GAST-Net's output at frame t depends on frames t - RF + 1 .. t. Instead of re-running
that whole window for every frame, :class:`StreamingLifter` keeps, for every temporal
convolution, a ring buffer of the activations it still needs (``(w - 1) * dilation + 1`` frames)
and computes only the newest frame of every layer: the work per frame is one frame's worth of
each layer, whatever the receptive field. The network runs as a
:class:`~gastnet.runtime.frame_plan.FramePlan`: the model's weights, BatchNorms folded,
rearranged into few large products for one frame.

Before the receptive field has filled, the first frame stands in for the missing past, as the
whole-sequence causal model does with edge padding: the outputs match
``model.forward_sequence`` frame for frame.

>>> import torch, gastnet
>>> lifter = StreamingLifter(gastnet.create_model("gastnet_rf27_causal"))
>>> lifter.push(torch.zeros(17, 2)).shape
torch.Size([17, 3])
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..model.gastnet import GASTNet
from .frame_plan import FramePlan, RingBuffer

__all__ = ["StreamingLifter"]


@dataclass
class _Stream:
    buffers: list[RingBuffer] = field(default_factory=list)
    frames_seen: int = 0


class StreamingLifter:
    """Frame-by-frame 3D lifting with a causal GAST-Net, one state per track.

    Args:
        model: a causal :class:`~gastnet.model.GASTNet` (zero frames of look-ahead); it is
            copied (BatchNorms folded, see :class:`~gastnet.runtime.frame_plan.FramePlan`), so
            later changes to it do not reach the lifter.
        device: where to run (default: the model's device).

    ``push(keypoints, track=...)`` takes one frame of normalised 2D keypoints ``(J, 2)`` and returns
    its root-relative 3D pose ``(J_out, 3)``. Tracks are independent; ``reset(track)`` forgets one
    (a person who left), ``reset()`` all of them.
    """

    def __init__(self, model: GASTNet, device: str | torch.device | None = None) -> None:
        if not model.causal:
            raise ValueError("streaming needs a causal model (output t may not see later frames); "
                             "use a '_causal' model such as gastnet_rf27_causal")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model
        self._plan = FramePlan(model, self.device)
        self._streams: dict[Hashable, _Stream] = {}

    @property
    def receptive_field(self) -> int:
        return self.model.receptive_field

    @property
    def tracks(self) -> list[Hashable]:
        return list(self._streams)

    def reset(self, track: Hashable | None = None) -> None:
        """Forget the history of ``track`` (or of every track when None)."""
        if track is None:
            self._streams.clear()
        else:
            self._streams.pop(track, None)

    def frames_seen(self, track: Hashable = 0) -> int:
        stream = self._streams.get(track)
        return stream.frames_seen if stream else 0

    def push(self, keypoints: torch.Tensor | np.ndarray, track: Hashable = 0) -> torch.Tensor:
        """Lift one frame: ``(J, 2)`` normalised screen coordinates -> ``(J_out, 3)`` (on the CPU)."""
        m = self.model
        x = torch.as_tensor(keypoints, dtype=torch.float32, device=self.device)
        if x.shape != (m.num_joints, m.in_channels):
            raise ValueError(f"expected one frame of shape ({m.num_joints}, {m.in_channels}), got {tuple(x.shape)}")
        stream = self._streams.setdefault(track, _Stream())
        stream.frames_seen += 1
        return self._plan.step(stream.buffers, x).cpu()
