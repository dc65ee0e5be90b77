"""The settings of a training run: TOML files with five sections, every field overridable by ``section.key=value``.

They live with the model because checkpoints record them and the model layer reads them back (what a
checkpoint's weights were trained on, :func:`gastnet.model.checkpoint.checkpoint_weights`); the training
loop reads them through :mod:`gastnet.training.config`.

.. code-block:: toml

    [model]
    name = "gastnet_rf27"      # a registered model; other keys override its architecture
    channels = 64

    [data]
    dataset = "h36m"           # h36m | humaneva
    keypoints = "gt"           # 2D source: data_2d_<dataset>_<keypoints>.npz
    downsample = 5

    [train]
    epochs = 80

    [eval]
    flip = true

    [augment]                  # optional: video-like training windows (see gastnet.data.video_windows)
    enabled = true
    fps = [10, 60]
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import reprlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .gastnet import validate_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Config", "ModelConfig", "DataConfig", "TrainConfig", "EvalConfig", "AugmentConfig", "load_config",
           "apply_overrides"]


@dataclass
class ModelConfig:
    name: str = "gastnet_rf27"
    overrides: dict[str, Any] = field(default_factory=dict)  # GASTNet arguments replacing the preset's


@dataclass
class DataConfig:
    dataset: str = "h36m"
    keypoints: str = "gt"
    train_subjects: list[str] | None = None  # None: the dataset's standard split
    test_subjects: list[str] | None = None
    actions: list[str] | None = None  # action groups; None: the dataset's standard protocol
    downsample: int = 1


@dataclass
class TrainConfig:
    epochs: int = 80
    batch_size: int = 128  # in total over all processes
    lr: float = 1e-3
    lr_decay: float = 0.95  # multiplies the learning rate after every epoch
    amsgrad: bool = True
    flip: bool = True  # flip augmentation
    noise_std: float = 0.0  # 2D input noise, normalised screen units
    seed: int = 0
    max_steps: int = 0  # stop after this many optimiser steps in total (0: no limit)
    checkpoint_every: int = 0  # also checkpoint every n steps inside an epoch (0: at epoch ends only)
    eval_every: int = 1  # evaluate on the test subjects every n epochs (0: never)
    eval_sequences: int = 0  # evaluate during training on the first n test sequences only (0: all)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0  # torch CPU threads (0: torch's default)
    init: str = ""  # start from these weights: a checkpoint path or a pretrained model name ("": random);
    # weights of a model with fewer temporal blocks (a smaller receptive field) grow into this one's
    # (gastnet.model.checkpoint.grow_weights): the extra blocks start as identities
    velocity_weight: float = 0.0  # weight of the frame-to-frame velocity error in the loss (0: position only)
    acceleration_weight: float = 0.0  # weight of the acceleration error; either > 0 trains on consecutive frames
    freeze_norms: bool = False  # BatchNorms normalise with, and keep, their running statistics while training


@dataclass
class EvalConfig:
    flip: bool = True  # test-time flip averaging


@dataclass
class AugmentConfig:
    """Video-like training windows: virtual cameras, bodies, joint definitions, detector errors and
    frame rates drawn per sample from the world-frame mocap (Human3.6M-17 only). Off: the 2D of the
    dataset's own cameras, as in the paper. :func:`gastnet.training.config.video_augmentation` makes
    the data layer's :class:`~gastnet.data.video_windows.VideoAugmentation` of it."""

    enabled: bool = False
    fps: list[float] = field(default_factory=lambda: [10.0, 60.0])  # frame rates drawn log-uniformly
    fov_deg: list[float] = field(default_factory=lambda: [35.0, 105.0])  # across the image's long side
    elevation_deg: list[float] = field(default_factory=lambda: [-10.0, 45.0])  # camera seen from the hips
    person_height: list[float] = field(default_factory=lambda: [0.25, 0.9])  # fraction of the image height
    position: float = 1.0  # 1: the person anywhere in the frame; 0: always centred
    bodies: bool = True
    joint_definitions: bool = True
    joint_std: float = 0.03  # joint-definition offsets, fraction of body height per axis
    detector_errors: bool = True
    noise: list[float] = field(default_factory=lambda: [0.0, 0.025])  # fraction of the person's image height
    samples_per_epoch: int = 0  # 0: one sample per mocap frame
    real_cameras: float = 0.0  # fraction of samples seen through the dataset's own cameras instead


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["model"] = {"name": self.model.name, **self.model.overrides}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """The config in ``data`` (a parsed TOML file or :meth:`to_dict`); ValueError naming the
        first entry of an unknown name, of the wrong type or outside its range (see ``_RANGES``).

        The model section is checked entry by entry (:func:`~gastnet.model.gastnet.validate_config`);
        whether the named model with those overrides can be built is checked by the trainer.
        """
        sections = ("model", "data", "train", "eval", "augment")
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a table of sections ({', '.join(sections)}), found {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in sections)
        if unknown:
            raise ValueError(f"unknown config sections {unknown}; expected model, data, train, eval, augment")
        for name in sections:
            if not isinstance(data.get(name, {}), Mapping):
                raise ValueError(f"[{name}] must be a table, got {type(data[name]).__name__}")
        model = dict(data.get("model", {}))
        name = model.pop("name", ModelConfig.name)
        if not isinstance(name, str) or not name:
            raise ValueError(f"[model] name must be a model's name, got {reprlib.repr(name)}")
        try:
            validate_config(model, partial=True)
        except ValueError as err:
            raise ValueError(f"[model] {err}") from None
        return cls(
            model=ModelConfig(name, model),
            data=_section(DataConfig, data.get("data", {}), "data"),
            train=_section(TrainConfig, data.get("train", {}), "train"),
            eval=_section(EvalConfig, data.get("eval", {}), "eval"),
            augment=_section(AugmentConfig, data.get("augment", {}), "augment"),
        )


@dataclass(frozen=True)
class _Range:
    """The numbers a setting allows: ``low`` to ``high`` (``None``: no upper bound), ends open or closed."""

    low: int
    high: int | None = None
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return above and below and math.isfinite(value)

    def __str__(self) -> str:
        """``>= 0`` or ``in (0, 1]``: what follows "an integer" or "a number" in a message."""
        if self.high is None:
            return f"{'>' if self.open_low else '>='} {self.low}"
        return f"in {'(' if self.open_low else '['}{self.low}, {self.high}{')' if self.open_high else ']'}"


# What each numeric setting allows (lists such as [augment] fps are [low, high] ranges whose ends lie
# in it). Upper bounds keep a stranger's config from asking for unbounded memory or threads; every
# shipped config (configs/) lies well inside them.
_RANGES: dict[str, dict[str, _Range]] = {
    "data": {"downsample": _Range(1, 100)},
    "train": {
        "epochs": _Range(1, 10_000), "batch_size": _Range(1, 8192), "lr": _Range(0, 1, open_low=True),
        "lr_decay": _Range(0, 1, open_low=True), "noise_std": _Range(0, 1), "seed": _Range(0, 2**63 - 1),
        "max_steps": _Range(0), "checkpoint_every": _Range(0), "eval_every": _Range(0), "eval_sequences": _Range(0),
        "threads": _Range(0, 1024), "velocity_weight": _Range(0, 1000), "acceleration_weight": _Range(0, 1000),
    },
    "augment": {
        "fps": _Range(0, 1000, open_low=True), "fov_deg": _Range(0, 180, open_low=True, open_high=True),
        "elevation_deg": _Range(-90, 90), "person_height": _Range(0, 1, open_low=True), "position": _Range(0, 1),
        "joint_std": _Range(0, 1), "noise": _Range(0, 1), "samples_per_epoch": _Range(0, 10_000_000),
        "real_cameras": _Range(0, 1),
    },
}
# strings that become part of a file name or pick a device
_PATTERNS = {("data", "keypoints"): (r"[A-Za-z0-9][A-Za-z0-9_.-]*", "a plain name such as gt or cpn_ft_h36m_dbb"),
             ("train", "device"): (r"auto|cpu|mps|cuda(:\d+)?", "auto, cpu, mps, cuda or cuda:N")}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_value(section: str, key: str, default: Any, value: Any) -> Any:
    """``value`` for the setting ``[section] key`` whose default is ``default``, converted like the
    default (floats to float); ValueError when its type or range is not the setting's."""
    where, allowed = f"[{section}] {key}", _RANGES.get(section, {}).get(key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {reprlib.repr(value)}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {reprlib.repr(value)}")
        pattern, text = _PATTERNS.get((section, key), (None, ""))
        if pattern and not re.fullmatch(pattern, value):
            raise ValueError(f"{where} must be {text}, got {reprlib.repr(value)}")
        return value
    within = "" if allowed is None else f" {allowed}"
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or (allowed is not None and value not in allowed):
            raise ValueError(f"{where} must be an integer{within}, got {reprlib.repr(value)}")
        return value
    if isinstance(default, float):
        if not _is_number(value) or (allowed is not None and value not in allowed):
            raise ValueError(f"{where} must be a number{within}, got {reprlib.repr(value)}")
        return float(value)
    if allowed is not None:  # a [low, high] range of numbers
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) and v in allowed for v in value)
                and value[0] <= value[1]):
            raise ValueError(f"{where} must be a range [low, high] with low <= high, both{within}, "
                             f"got {reprlib.repr(value)}")
        return [float(v) for v in value]
    if not (value is None or isinstance(value, list) and all(isinstance(v, str) for v in value)):  # names
        raise ValueError(f"{where} must be a list of names, got {reprlib.repr(value)}")
    return value


def _section(cls, values: Mapping[str, Any], name: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise ValueError(f"unknown keys in [{name}]: {unknown}; expected some of {sorted(known)}")
    defaults = cls()
    return cls(**{k: _check_value(name, k, getattr(defaults, k), v) for k, v in values.items()})


def _parse_value(text: str) -> Any:
    """A TOML value (``3``, ``true``, ``[1, 2]``, ``"x"``), or the plain string if it is not one."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` strings to a config dict (a copy is returned).

    >>> apply_overrides({"train": {"epochs": 80}}, ["train.epochs=2", "model.channels=64"])
    {'train': {'epochs': 2}, 'model': {'channels': 64}}
    """
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in data.items()}
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise ValueError(f"override {item!r} must look like section.key=value, e.g. train.epochs=10")
        table = out.setdefault(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"override {item!r}: {section} is not a section of the config but a single value")
        table[name] = _parse_value(value.strip())
    return out


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] | None = None) -> Config:
    """Read a TOML config (or start from the defaults when ``path`` is None) and apply overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"config file {path} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML ({err})") from None
    return Config.from_dict(apply_overrides(data, overrides or []))
