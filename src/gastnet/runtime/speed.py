"""The paper's speed table (Table V) measured on this machine, plus the streaming mode.

Modes, for each receptive field (batch of one person, BatchNorms folded as for inference):

- layer by layer: a long sequence through the dilated form (``forward_sequence``); frames per second.
- one frame at a time: every frame recomputes its window in the strided (one-frame) form.
- window, dilated: every frame recomputes its window in the dilated form (the naive real-time loop).
- streaming: :class:`~gastnet.runtime.StreamingLifter` on the causal model, one push per frame.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..model.fusion import fuse_batchnorm
from ..model.registry import count_parameters, create_model
from .streaming import StreamingLifter

__all__ = ["SpeedRow", "measure_speed", "VIDEOPOSE3D_PARAMETERS"]

VIDEOPOSE3D_PARAMETERS = {27: 8_560_000, 81: 12_750_000, 243: 16_950_000}
"""Parameter counts of VideoPose3D's models as published (8.56M / 12.75M / 16.95M)."""


@dataclass
class SpeedRow:
    receptive_field: int
    parameters: int
    videopose3d_parameters: int | None
    layer_by_layer_fps: float
    one_frame_fps: float
    dilated_window_fps: float
    streaming_fps: float

    @property
    def reduction_percent(self) -> float | None:
        if not self.videopose3d_parameters:
            return None
        return 100.0 * (1 - self.parameters / self.videopose3d_parameters)

    def to_dict(self) -> dict:
        return {**asdict(self), "reduction_percent": self.reduction_percent}


def _seconds_per_call(fn: Callable[[], object], device: torch.device, budget: float, repeats: int = 5) -> float:
    """Median time of one call over ``repeats`` rounds that each last about ``budget / repeats`` seconds."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    single = max(time.perf_counter() - start, 1e-6)
    calls = max(1, int(budget / repeats / single))
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)


@torch.inference_mode()
def measure_speed(receptive_field: int, device: str | torch.device = "cpu", frames: int = 2000,
                  budget: float = 2.0) -> SpeedRow:
    """Measure every mode for the paper's model of this receptive field (random weights)."""
    device = torch.device(device)
    torch.manual_seed(0)
    model = create_model(f"gastnet_rf{receptive_field}")
    params = count_parameters(model)
    fused = fuse_batchnorm(model).to(device)
    rf = receptive_field
    sequence = torch.randn(1, frames, model.num_joints, 2, device=device)
    window = torch.randn(1, rf, model.num_joints, 2, device=device)
    layer_by_layer = frames / _seconds_per_call(lambda: fused.forward_sequence(sequence), device, budget)
    dilated_window = 1 / _seconds_per_call(lambda: fused(window), device, budget)
    fused.form = "strided"
    one_frame = 1 / _seconds_per_call(lambda: fused(window), device, budget)
    lifter = StreamingLifter(create_model(f"gastnet_rf{rf}_causal"), device=device)
    frame = torch.randn(model.num_joints, 2)
    for _ in range(rf):  # fill the receptive field first
        lifter.push(frame)
    streaming = 1 / _seconds_per_call(lambda: lifter.push(frame), device, budget)
    return SpeedRow(rf, params, VIDEOPOSE3D_PARAMETERS.get(rf), layer_by_layer, one_frame, dilated_window, streaming)
