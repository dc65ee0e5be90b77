"""Pretrained weights that ship inside the package, named timm-style ``architecture.tag``.

An architecture is registered once (:mod:`gastnet.model.registry`); each set of weights for it has
a tag saying what it was trained on: ``gastnet_rf27_c32.h36m`` (Human3.6M, ground-truth 2D),
``gastnet_rf27_c32.h36m_noise`` (the same with 2D noise), ``gastnet_rf27_c32.video`` (video-like
input). ``create_model("gastnet_rf27_c32.video", pretrained=True)`` loads them with no network
access; the bare ``create_model("gastnet_rf27_c32", pretrained=True)`` loads the architecture's
default tag.

The files are float16 state dicts in ``gastnet/weights/``, listed in ``gastnet/weights/index.json``
(written by ``tools/publish_weights.py``) with their metadata, read into :class:`Weights`; every
file's sha256 is checked when it is loaded.

Models trained on Human3.6M are for research use only (the dataset's licence).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import torch

__all__ = [
    "Weights", "Metric", "PRETRAINED", "DEFAULT_TAGS", "RENAMED", "INDEX_FORMAT", "get_weights", "list_pretrained",
    "pretrained_tags", "renamed_to", "recorded_input", "input_description", "OUTPUT_DESCRIPTION",
]

INDEX_FORMAT = "gastnet-weights-index-2"

OUTPUT_DESCRIPTION = "root-relative 3D joints in the camera frame, metres"

RENAMED: dict[str, str] = {
    "gastnet_rf27_c32_wild": "gastnet_rf27_c32.h36m_noise",
    "gastnet_rf27_c32_video": "gastnet_rf27_c32.video",
    "gastnet_rf27_c32_video_causal": "gastnet_rf27_c32_causal.video",
}
"""Model names of the previous release -> the ``architecture.tag`` that replaces each. They still
load, with a DeprecationWarning, and go in the next release."""


def input_description(num_joints: int) -> str:
    """What every gastnet model reads: the input normalisation, for ``num_joints`` joints."""
    return (f"keypoints (B, T, {num_joints}, 2) in normalised screen coordinates: "
            "x' = 2x/w - 1, y' = 2y/w - h/w")


@dataclass(frozen=True)
class Metric:
    """One measured result of a set of weights, with the command that reproduces it."""

    name: str  # e.g. "h36m_gt_s9_s11", "h36m_gt_s9_s11_noise0.01", "cmu-vcam"
    dataset: str  # what ``gastnet evaluate --dataset`` was given
    input_noise: float  # standard deviation of the Gaussian noise added to the 2D, normalised units (0: none)
    protocol1_mm: float  # MPJPE
    protocol2_mm: float  # P-MPJPE
    command: str  # the ``gastnet evaluate`` call that measures it
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # per group, breakdowns, frames, flip


@dataclass(frozen=True)
class Weights:
    """What a model's weights are: shipped weights (``source="shipped"``, every field filled), or
    what a checkpoint file says of itself (``"checkpoint"``, ``"authors"``: empty strings, empty
    tuples and None where the file does not say).

    ``frame_rates`` is the range of frame rates (frames per second) of the training input, equal
    ends for one rate (``(10.0, 10.0)``); None when unknown. The first of ``metrics`` is the
    headline: the training dataset's test split with clean 2D. ``recorded_outputs`` are the
    outputs on :func:`recorded_input` of ``recorded_frames`` frames, for the tests.
    """

    arch: str  # the registered architecture ("" for a checkpoint whose training config does not name one)
    tag: str  # what the weights were trained on ("" for a checkpoint)
    source: Literal["shipped", "checkpoint", "authors"]
    file: str  # the file name in gastnet/weights/, or the checkpoint's path
    sha256: str  # of the file ("" for a checkpoint's contents given without a file)
    description: str
    training_data: str
    keypoints_2d: str  # the 2D the model was trained on
    joint_layout: str  # the skeleton's name
    input: str  # the input normalisation
    output: str
    frame_rates: tuple[float, float] | None
    metrics: tuple[Metric, ...]
    licence: str
    train_config: dict[str, Any] = field(repr=False, compare=False)  # the training run's config (Config.to_dict)
    epochs: int | None
    steps: int | None
    wall_time_h: float | None
    training_curve: tuple[dict[str, float], ...] = field(repr=False, compare=False)
    recorded_frames: int = field(repr=False)
    recorded_outputs: tuple[float, ...] = field(repr=False)

    @property
    def name(self) -> str:
        """``architecture.tag`` for shipped weights, else the file."""
        return f"{self.arch}.{self.tag}" if self.tag else self.file

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shipped weights as float32 tensors (stored as float16), after checking the file's sha256."""
        if self.source != "shipped":
            raise ValueError(f"{self.file}: the metadata of a checkpoint; its weights load with gastnet.create_model(path)")
        ref = resources.files("gastnet.weights").joinpath(self.file)
        if not ref.is_file():
            raise ValueError(f"the weight file {self.file} of {self.name} is missing from the installed package")
        data = ref.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(f"the weight file {self.file} of {self.name} has sha256 {digest}, expected {self.sha256} "
                             "(a damaged or replaced file: reinstall gastnet)")
        stored = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        return {k: v.float() if v.is_floating_point() else v for k, v in stored.items()}

    def to_dict(self) -> dict[str, Any]:
        """The entry of ``gastnet/weights/index.json`` (without the name, which is its key)."""
        entry = dataclasses.asdict(self)
        for key in ("arch", "tag", "source"):
            del entry[key]
        return entry

    @classmethod
    def from_dict(cls, name: str, entry: dict[str, Any]) -> Weights:
        """The shipped weights ``name`` (``architecture.tag``) from their entry in ``index.json``."""
        arch, _, tag = name.partition(".")
        fields = {f.name for f in dataclasses.fields(cls)} - {"arch", "tag", "source"}
        if not tag or set(entry) != fields:
            raise ValueError(f"gastnet/weights/index.json: entry {name!r}: expected a name architecture.tag and the "
                             f"keys {sorted(fields)}, found {sorted(entry)}")
        rates = entry["frame_rates"]
        return cls(**{
            **entry, "arch": arch, "tag": tag, "source": "shipped",
            "frame_rates": None if rates is None else (float(rates[0]), float(rates[1])),
            "metrics": tuple(Metric(**m) for m in entry["metrics"]),
            "training_curve": tuple(entry["training_curve"]), "recorded_outputs": tuple(entry["recorded_outputs"]),
        })


def _load_index() -> tuple[dict[str, Weights], dict[str, str]]:
    ref = resources.files("gastnet.weights").joinpath("index.json")
    if not ref.is_file():
        return {}, {}
    index = json.loads(ref.read_text())
    if index.get("format") != INDEX_FORMAT:
        raise ValueError(f"gastnet/weights/index.json: expected format {INDEX_FORMAT!r}, found {index.get('format')!r}")
    weights = {name: Weights.from_dict(name, entry) for name, entry in index["weights"].items()}
    defaults = dict(index["defaults"])
    orphans = sorted(f"{arch}.{tag}" for arch, tag in defaults.items() if f"{arch}.{tag}" not in weights)
    if orphans:
        raise ValueError(f"gastnet/weights/index.json: defaults name weights it does not list: {', '.join(orphans)}")
    return weights, defaults


_INDEX = _load_index()
PRETRAINED: dict[str, Weights] = _INDEX[0]
"""``architecture.tag`` -> its shipped weights (read from ``gastnet/weights/index.json``)."""
DEFAULT_TAGS: dict[str, str] = _INDEX[1]
"""Architecture -> the tag ``create_model(architecture, pretrained=True)`` loads."""


def renamed_to(name: str, stacklevel: int = 2) -> str:
    """``name``, or for a name of the previous release (:data:`RENAMED`) its replacement, with a
    DeprecationWarning naming it (``stacklevel`` as for :func:`warnings.warn`, counted from the caller)."""
    if name not in RENAMED:
        return name
    warnings.warn(f"the model name {name} is deprecated and goes in the next release; use {RENAMED[name]}",
                  DeprecationWarning, stacklevel=stacklevel + 1)
    return RENAMED[name]


def pretrained_tags(arch: str) -> list[str]:
    """The tags of the shipped weights of architecture ``arch``, sorted (empty when none ship)."""
    return sorted(w.tag for w in PRETRAINED.values() if w.arch == arch)


def list_pretrained() -> list[str]:
    """Every name that has shipped weights: each ``architecture.tag``, each architecture with a
    default tag, and the previous release's names (:data:`RENAMED`) while they last; sorted."""
    return sorted({*PRETRAINED, *DEFAULT_TAGS, *RENAMED})


def get_weights(name: str) -> Weights:
    """The shipped weights ``architecture.tag``, or an architecture's default ones.

    ValueError naming the names with weights when there are none."""
    name = renamed_to(name, stacklevel=2)
    if name in DEFAULT_TAGS:
        name = f"{name}.{DEFAULT_TAGS[name]}"
    try:
        return PRETRAINED[name]
    except KeyError:
        have = ", ".join(sorted(PRETRAINED)) or "none yet"
        raise ValueError(f"no pretrained weights are registered for {name!r}; weights: {have}") from None


def recorded_input(num_joints: int, frames: int) -> torch.Tensor:
    """The fixed input whose outputs are recorded with each weight file: (1, frames, J, 2).

    A smooth, deterministic figure (no random generator), so that it is the same everywhere.
    """
    t = torch.arange(frames, dtype=torch.float32)[:, None]
    j = torch.arange(num_joints, dtype=torch.float32)[None, :]
    x = 0.3 * torch.sin(0.2 * t + 0.7 * j)
    y = 0.4 * torch.cos(0.15 * t + 0.5 * j) + 0.02 * j
    return torch.stack([x, y], dim=-1)[None]
