"""Checkpoints: written atomically, carrying the model config so that a checkpoint alone rebuilds its model.

Reading also accepts the GAST-Net authors' checkpoints (see :mod:`gastnet.model.authors`): they are
converted on the fly into the same contents.
"""

from __future__ import annotations

import os
import pickle
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_path
from .authors import _listed, authors_payload, describe_architecture, is_authors_checkpoint
from .gastnet import GASTNet, validate_config

__all__ = ["save_checkpoint", "load_checkpoint", "model_from_checkpoint", "load_weights", "CHECKPOINT_FORMAT"]

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

    What the rest of gastnet reads is checked here, before any model is built: ``model_config``
    (see :func:`~gastnet.model.gastnet.validate_config`: a config beyond the sizes gastnet builds
    is refused), ``state_dict`` (names to dense tensors), the training ``config`` when present
    and ``description``; whether the weights fit the config is checked by :func:`load_weights`.
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
        try:  # the architecture read from the tensors goes through the same checks as a model config
            return {"format": CHECKPOINT_FORMAT, **authors_payload(payload, path, causal)}
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a gastnet checkpoint (expected format {CHECKPOINT_FORMAT!r} "
                         "or the GAST-Net authors' {'model_pos': ...})")
    recorded = _check_contents(payload, str(path))["causal"]
    if causal is not None and causal != recorded:
        raise ValueError(f"{path} holds a {'causal' if recorded else 'non-causal'} model; "
                         "causal= only chooses for the authors' checkpoints, which do not record it")
    return payload


def model_from_checkpoint(checkpoint: dict[str, Any] | str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Rebuild the model stored in a checkpoint (a path or a loaded dict; ours or the authors'), in eval mode.

    ``model.description`` says what was loaded; ``causal`` as in :func:`load_checkpoint`. ValueError
    for contents :func:`load_checkpoint` refuses and for weights that do not fit the model config.
    """
    if isinstance(checkpoint, dict):
        payload, where = checkpoint, "the checkpoint"
        _check_contents(payload, where)
    else:
        payload, where = load_checkpoint(checkpoint, causal=causal), str(checkpoint)
    model = GASTNet.from_config(payload["model_config"])
    load_weights(model, payload["state_dict"], where)
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


def _check_contents(payload: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The checked model config (see :func:`load_checkpoint`) of a checkpoint's contents; ValueError,
    starting with ``source``, for anything gastnet could not read."""
    missing = [key for key in ("model_config", "state_dict") if key not in payload]
    if missing:
        raise ValueError(f"{source}: no {' or '.join(missing)} (expected the model's config and weights, "
                         "as gastnet writes them)")
    try:
        config = validate_config(payload["model_config"])
    except ValueError as err:
        raise ValueError(f"{source}: model_config: {err}") from None
    state_dict = payload["state_dict"]
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: state_dict: expected a table of tensors, found {type(state_dict).__name__}")
    for key, value in state_dict.items():
        if not (isinstance(key, str) and isinstance(value, torch.Tensor) and value.layout == torch.strided):
            found = f"a {value.layout} tensor" if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{source}: state_dict: expected names of dense tensors, "
                             f"found {reprlib.repr(key)}: {found}")
    if "config" in payload:
        from ..training.config import Config  # the training layer sits above this one

        try:
            Config.from_dict(payload["config"])
        except ValueError as err:
            raise ValueError(f"{source}: training config: {err}") from None
    if not isinstance(payload.get("description", ""), str):
        raise ValueError(f"{source}: description: expected a string, found {type(payload['description']).__name__}")
    return config


def load_weights(model: GASTNet, state_dict: Mapping[str, Any], source: str) -> None:
    """Load ``state_dict`` into ``model``; ValueError, starting with ``source``, naming missing and
    unexpected keys and tensors of the wrong shape or kind, when it does not fit the model."""
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: expected the weights as a table of tensors, found {type(state_dict).__name__}")
    expected = model.state_dict()

    def fits(want: torch.Tensor, have: Any) -> bool:
        return (isinstance(have, torch.Tensor) and have.shape == want.shape and have.layout == torch.strided
                and have.dtype.is_floating_point == want.dtype.is_floating_point
                and not have.is_complex() and have.dtype != torch.bool)

    def found(have: Any) -> str:
        return f"{tuple(have.shape)} {have.dtype}" if isinstance(have, torch.Tensor) else type(have).__name__

    missing = [k for k in expected if k not in state_dict]
    unexpected = [str(k) for k in state_dict if k not in expected]
    wrong = [f"{k}: expected {tuple(v.shape)} {v.dtype}, found {found(state_dict[k])}"
             for k, v in expected.items() if k in state_dict and not fits(v, state_dict[k])]
    problems = ([f"missing keys {_listed(missing)}"] if missing else []) + (
        [f"unexpected keys {_listed(unexpected)}"] if unexpected else []) + (
        [_listed(wrong)] if wrong else [])
    if problems:
        raise ValueError(f"{source}: the weights do not fit the model its config describes "
                         f"({describe_architecture(model)}): " + "; ".join(problems))
    model.load_state_dict(state_dict)
