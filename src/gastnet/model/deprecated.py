"""The loaders of the previous release, kept for one more: each warns and calls
:func:`~gastnet.model.registry.create_model`, the one way to get a model (the third,
``model_from_checkpoint``, stays in :mod:`gastnet.model.checkpoint`)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .gastnet import GASTNet
from .registry import create_model

__all__ = ["load_model", "load_authors_checkpoint"]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated and goes in the next release; use {new}", DeprecationWarning, stacklevel=3)


def _load(path: str | os.PathLike[str], causal: bool | None) -> GASTNet:
    return create_model(Path(path)) if causal is None else create_model(Path(path), causal=causal)


def load_model(checkpoint: str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Deprecated: ``create_model(path, causal=...)``."""
    _deprecated("gastnet.load_model(path)", "gastnet.create_model(path)")
    return _load(checkpoint, causal)


def load_authors_checkpoint(path: str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Deprecated: ``create_model(path, causal=...)``, which takes the authors' files and ours alike."""
    _deprecated("load_authors_checkpoint(path)", "gastnet.create_model(path)")
    model = _load(path, causal)
    if model.pretrained_weights is None or model.pretrained_weights.source != "authors":
        raise ValueError(f"{path} is a gastnet checkpoint already, not one of the authors' files")
    return model
