"""Training configuration: TOML files with four sections, every field overridable by ``section.key=value``.

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
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    init: str = ""  # start from these weights: a checkpoint path or a pretrained model name ("": random)


@dataclass
class EvalConfig:
    flip: bool = True  # test-time flip averaging


@dataclass
class AugmentConfig:
    """Video-like training windows: virtual cameras, bodies, joint definitions, detector errors and
    frame rates drawn per sample from the world-frame mocap (Human3.6M-17 only). Off: the 2D of the
    dataset's own cameras, as in the paper."""

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

    def to_augmentation(self, flip: bool = True):
        from ..data.augment import BodyRanges, DetectorErrorRanges, JointDefinitionRanges
        from ..data.video_windows import VideoAugmentation
        from ..data.virtual_cameras import CameraRanges

        for name in ("fps", "fov_deg", "elevation_deg", "person_height", "noise"):
            value = getattr(self, name)
            if not (isinstance(value, list) and len(value) == 2 and value[0] <= value[1]):
                raise ValueError(f"[augment] {name} must be a range [low, high], got {value!r}")
        return VideoAugmentation(
            fps=tuple(self.fps), flip=flip,
            cameras=CameraRanges(fov_deg=tuple(self.fov_deg), elevation_deg=tuple(self.elevation_deg),
                                 person_height=tuple(self.person_height), position=self.position),
            bodies=BodyRanges() if self.bodies else None,
            joint_definitions=JointDefinitionRanges(std=self.joint_std) if self.joint_definitions else None,
            detector=DetectorErrorRanges(noise=tuple(self.noise)) if self.detector_errors else None,
            real_cameras=self.real_cameras,
        )


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
    def from_dict(cls, data: dict[str, Any]) -> Config:
        unknown = set(data) - {"model", "data", "train", "eval", "augment"}
        if unknown:
            raise ValueError(f"unknown config sections {sorted(unknown)}; expected model, data, train, eval, augment")
        model = dict(data.get("model", {}))
        name = model.pop("name", ModelConfig.name)
        return cls(
            model=ModelConfig(name, model),
            data=_section(DataConfig, data.get("data", {}), "data"),
            train=_section(TrainConfig, data.get("train", {}), "train"),
            eval=_section(EvalConfig, data.get("eval", {}), "eval"),
            augment=_section(AugmentConfig, data.get("augment", {}), "augment"),
        )


def _section(cls, values: dict[str, Any], name: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown keys in [{name}]: {sorted(unknown)}; expected some of {sorted(known)}")
    defaults = cls()
    for key, value in values.items():
        default = getattr(defaults, key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"[{name}] {key} must be true or false, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, int):
            raise ValueError(f"[{name}] {key} must be an integer, got {value!r}")
        if isinstance(default, float) and not isinstance(value, (int, float)):
            raise ValueError(f"[{name}] {key} must be a number, got {value!r}")
    return cls(**{k: (float(v) if isinstance(getattr(defaults, k), float) else v) for k, v in values.items()})


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
    out = {k: dict(v) for k, v in data.items()}
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise ValueError(f"override {item!r} must look like section.key=value, e.g. train.epochs=10")
        out.setdefault(section, {})[name] = _parse_value(value.strip())
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
