"""Real-time lifting: push one frame of 2D keypoints, get that frame's 3D pose at once.

A causal GAST-Net's output at frame t depends on frames t - RF + 1 .. t. Instead of re-running
that whole window for every frame, :class:`StreamingLifter` keeps, for every temporal
convolution, a ring buffer of the activations it still needs (``(w - 1) * dilation + 1`` frames)
and computes only the newest frame of every layer: the work per frame is one frame's worth of
each layer, whatever the receptive field. The taps of each layer are gathered into a compact
window and run through the model's own modules in the strided form, so the weights and the
maths are exactly the model's.

Before the receptive field has filled, the first frame stands in for the missing past, as the
whole-sequence causal model does with edge padding: the outputs match
``model.forward_sequence`` frame for frame.

>>> import torch, gastnet
>>> lifter = StreamingLifter(gastnet.create_model("gastnet_rf27_causal"))
>>> lifter.push(torch.zeros(17, 2)).shape
torch.Size([17, 3])
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..model.fusion import fuse_batchnorm
from ..model.gastnet import GASTNet

__all__ = ["StreamingLifter"]


@dataclass
class _RingBuffer:
    """The last ``length`` frames of one layer's input: (1, length, J, C)."""

    frames: torch.Tensor
    position: int = 0  # slot of the newest frame

    @classmethod
    def filled_with(cls, frame: torch.Tensor, length: int) -> _RingBuffer:
        return cls(frame.expand(1, length, *frame.shape[2:]).clone())

    def push(self, frame: torch.Tensor) -> None:
        self.position = (self.position + 1) % self.frames.shape[1]
        self.frames[:, self.position] = frame[:, 0]

    def taps(self, width: int, dilation: int) -> torch.Tensor:
        """Frames t - (width - 1) * dilation, ..., t - dilation, t, oldest first: (1, width, J, C)."""
        length = self.frames.shape[1]
        index = [(self.position - (width - 1 - k) * dilation) % length for k in range(width)]
        return self.frames[:, index]


class _StridedStep(torch.nn.Module):
    """A temporal block applied to one window of its taps (the strided form): (1, w, J, C) -> (1, 1, J, C)."""

    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, taps: torch.Tensor) -> torch.Tensor:
        return self.block(taps, strided=True)


@dataclass
class _Stream:
    buffers: list[_RingBuffer] = field(default_factory=list)
    frames_seen: int = 0


class StreamingLifter:
    """Frame-by-frame 3D lifting with a causal GAST-Net, one state per track.

    Args:
        model: a causal :class:`~gastnet.model.GASTNet` (zero frames of look-ahead).
        device: where to run (default: the model's device).
        fuse: fold the BatchNorms into the layers before them (faster, same outputs).
        compile: trace every block for its fixed one-frame shapes with TorchScript (frozen), which
            removes most of the Python overhead of a push (about 20% faster on a CPU).

    ``push(keypoints, track=...)`` takes one frame of normalised 2D keypoints ``(J, 2)`` and returns
    its root-relative 3D pose ``(J_out, 3)``. Tracks are independent; ``reset(track)`` forgets one
    (a person who left), ``reset()`` all of them.
    """

    def __init__(self, model: GASTNet, device: str | torch.device | None = None, fuse: bool = True,
                 compile: bool = True) -> None:
        if not model.causal:
            raise ValueError("streaming needs a causal model (output t may not see later frames); "
                             "use a '_causal' model such as gastnet_rf27_causal")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = (fuse_batchnorm(model) if fuse else model.eval()).to(self.device)
        self._attention: list = list(self.model.attention_blocks)
        self._temporal: list = [_StridedStep(block) for block in self.model.temporal_blocks]
        if compile:
            self._compile()
        self._streams: dict[Hashable, _Stream] = {}

    @torch.no_grad()
    def _compile(self) -> None:
        """Replace every block by a frozen TorchScript trace for the shapes a push feeds it."""
        m, j = self.model, self.model.num_joints
        width = m.stem.weight.shape[0]

        def trace(module: torch.nn.Module, frames: int, channels: int):
            example = torch.zeros(1, frames, j, channels, device=self.device)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the input checks run once while tracing
                return torch.jit.freeze(torch.jit.trace(module.eval(), (example,), check_trace=False))

        self._attention = [trace(block, 1, width * 2**i) for i, block in enumerate(self._attention)]
        self._temporal = [trace(step, w, width * 2 ** (i + 1))
                          for i, (step, w) in enumerate(zip(self._temporal, m.filter_widths[1:]))]

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

    @torch.inference_mode()
    def push(self, keypoints: torch.Tensor | np.ndarray, track: Hashable = 0) -> torch.Tensor:
        """Lift one frame: ``(J, 2)`` normalised screen coordinates -> ``(J_out, 3)`` (on the CPU)."""
        m = self.model
        x = torch.as_tensor(keypoints, dtype=torch.float32, device=self.device)
        if x.shape != (m.num_joints, m.in_channels):
            raise ValueError(f"expected one frame of shape ({m.num_joints}, {m.in_channels}), got {tuple(x.shape)}")
        stream = self._streams.setdefault(track, _Stream())
        first = stream.frames_seen == 0
        stream.frames_seen += 1
        widths = m.filter_widths

        def through(layer: int, frame: torch.Tensor, dilation: int) -> torch.Tensor:
            """Feed ``frame`` (1, 1, J, C) to layer's buffer and return that layer's taps."""
            if first:
                stream.buffers.append(_RingBuffer.filled_with(frame, (widths[layer] - 1) * dilation + 1))
            else:
                stream.buffers[layer].push(frame)
            return stream.buffers[layer].taps(widths[layer], dilation)

        h = m.input_norm(x[None, None])  # (1, 1, J, 2)
        taps = through(0, h, 1)
        h = torch.relu(m.stem_norm(m.stem(taps, 1, strided=True)))
        h = self._attention[0](h)
        dilation = widths[0]
        for i, (temporal, attention) in enumerate(zip(self._temporal, self._attention[1:]), start=1):
            h = attention(temporal(through(i, h, dilation)))
            dilation *= widths[i]
        out = m.head(h)
        if m.joint_regressor is not None:
            out = m.joint_regressor(out.transpose(-1, -2)).transpose(-1, -2)
        return out[0, 0].cpu()
