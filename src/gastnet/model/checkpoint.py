"""Checkpoints: written atomically, carrying the model config so that a checkpoint alone rebuilds its model.

Reading also accepts the GAST-Net authors' checkpoints (see :mod:`gastnet.model.authors`): they are
converted on the fly into the same contents.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_path
from .authors import authors_payload, describe_architecture, is_authors_checkpoint
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


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu", causal: bool | None = None
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, or an authors' checkpoint converted to
    the same contents (plus ``authors`` and ``description``); ValueError for anything else.

    ``causal`` applies to authors' files, whose tensors do not say (``None``: from the file name);
    for our own checkpoints it may only confirm what the checkpoint records.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # weights_only refused something: a class or a function to call
        raise ValueError(f"{path}: not a readable checkpoint: it holds objects other than tensors and plain values, "
                         "which gastnet does not load (loading them could run code)") from None
    except Exception as err:  # torch raises several types for a corrupt or foreign file
        first = (str(err).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {first})") from None
    if is_authors_checkpoint(payload):
        return {"format": CHECKPOINT_FORMAT, **authors_payload(payload, path, causal)}
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a gastnet checkpoint (expected format {CHECKPOINT_FORMAT!r} "
                         "or the GAST-Net authors' {'model_pos': ...})")
    recorded = bool(payload["model_config"].get("causal", False))
    if causal is not None and causal != recorded:
        raise ValueError(f"{path} holds a {'causal' if recorded else 'non-causal'} model; "
                         "causal= only chooses for the authors' checkpoints, which do not record it")
    return payload


def model_from_checkpoint(checkpoint: dict[str, Any] | str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Rebuild the model stored in a checkpoint (a path or a loaded dict; ours or the authors'), in eval mode.

    ``model.description`` says what was loaded; ``causal`` as in :func:`load_checkpoint`.
    """
    payload = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint, causal=causal)
    model = GASTNet.from_config(payload["model_config"])
    model.load_state_dict(payload["state_dict"])
    data = payload.get("config", {}).get("data", {})
    augment = payload.get("config", {}).get("augment", {})
    if augment.get("enabled"):
        model.frame_rate_range = tuple(float(f) for f in augment.get("fps", (10.0, 60.0)))
    elif data.get("dataset"):
        from ..data.mocap import get_dataset_spec  # the training data's frame rate, after downsampling

        model.frame_rate = get_dataset_spec(data["dataset"]).fps / data.get("downsample", 1)
    source = "gastnet checkpoint" if isinstance(checkpoint, dict) else f"gastnet checkpoint {Path(checkpoint).name}"
    model.description = payload.get("description") or f"{source}: {describe_architecture(model)}"
    return model.eval()
