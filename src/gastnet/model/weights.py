"""Pretrained weights that ship inside the package, with their metadata (torchvision-style).

Each entry of :data:`PRETRAINED` names a registered architecture and a weight file in
``gastnet/weights/`` (a float16 state dict), and says what the weights are: training data, 2D
source, joint layout, input normalisation, measured metrics with the command that reproduces
them, training config, epochs and wall time, and the licence note. ``create_model(name,
pretrained=True)`` loads them with no network access.

Models trained on Human3.6M are for research use only (the dataset's licence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import torch

__all__ = ["Weights", "PRETRAINED", "get_weights", "list_pretrained", "recorded_input"]


@dataclass(frozen=True)
class Weights:
    """One set of pretrained weights for a registered model."""

    model: str  # the registered architecture
    file: str  # file name in gastnet/weights/
    meta: dict[str, Any] = field(default_factory=dict)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The weights as float32 tensors (stored as float16)."""
        ref = resources.files("gastnet.weights").joinpath(self.file)
        with resources.as_file(ref) as path:
            if not path.is_file():
                raise ValueError(f"the weight file {self.file} of {self.model} is missing from the installed package")
            stored = torch.load(path, map_location="cpu", weights_only=True)
        return {k: v.float() if v.is_floating_point() else v for k, v in stored.items()}


def _load_index() -> dict[str, Weights]:
    ref = resources.files("gastnet.weights").joinpath("index.json")
    if not ref.is_file():
        return {}
    entries = json.loads(ref.read_text())
    return {name: Weights(model=name, file=e["file"], meta=e["meta"]) for name, e in entries.items()}


PRETRAINED: dict[str, Weights] = _load_index()
"""Registered model name -> its pretrained weights (read from ``gastnet/weights/index.json``)."""


def list_pretrained() -> list[str]:
    """Names of the models that have pretrained weights in this installation."""
    return sorted(PRETRAINED)


def get_weights(model: str) -> Weights:
    try:
        return PRETRAINED[model]
    except KeyError:
        have = ", ".join(list_pretrained()) or "none yet"
        raise ValueError(f"no pretrained weights are registered for {model!r}; models with weights: {have}") from None


def recorded_input(num_joints: int, frames: int) -> torch.Tensor:
    """The fixed input whose outputs are recorded with each weight file: (1, frames, J, 2).

    A smooth, deterministic figure (no random generator), so that it is the same everywhere.
    """
    t = torch.arange(frames, dtype=torch.float32)[:, None]
    j = torch.arange(num_joints, dtype=torch.float32)[None, :]
    x = 0.3 * torch.sin(0.2 * t + 0.7 * j)
    y = 0.4 * torch.cos(0.15 * t + 0.5 * j) + 0.02 * j
    return torch.stack([x, y], dim=-1)[None]
