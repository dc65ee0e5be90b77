"""Checkpoints: written atomically, carrying the model config so that a checkpoint alone rebuilds its model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_path
from .gastnet import GASTNet

__all__ = ["save_checkpoint", "load_checkpoint", "model_from_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "gastnet-checkpoint-1"


def save_checkpoint(path: str | os.PathLike[str], model: GASTNet, **extra: Any) -> Path:
    """Save ``model`` (state dict and config) and ``extra`` entries; the file appears complete or not at all."""
    payload = {"format": CHECKPOINT_FORMAT, "model_config": model.config, "state_dict": model.state_dict(), **extra}
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; ValueError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # torch raises several types for a corrupt or foreign file
        raise ValueError(f"{path}: not a readable checkpoint ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a gastnet checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return payload


def model_from_checkpoint(checkpoint: dict[str, Any] | str | os.PathLike[str]) -> GASTNet:
    """Rebuild the model stored in a checkpoint (a path or a loaded dict), in eval mode."""
    payload = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    model = GASTNet.from_config(payload["model_config"])
    model.load_state_dict(payload["state_dict"])
    data = payload.get("config", {}).get("data", {})
    augment = payload.get("config", {}).get("augment", {})
    if augment.get("enabled"):
        model.frame_rate_range = tuple(float(f) for f in augment.get("fps", (10.0, 60.0)))
    elif data.get("dataset"):
        from ..data.mocap import get_dataset_spec  # the training data's frame rate, after downsampling

        model.frame_rate = get_dataset_spec(data["dataset"]).fps / data.get("downsample", 1)
    return model.eval()
