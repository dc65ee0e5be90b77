"""Training configuration (``gastnet.training.config``): the schema lives in
:mod:`gastnet.model.run_config`, where checkpoints read it too; this module is its name for the
training loop and for users' imports, and turns its ``[augment]`` section into the data layer's
video-like windows."""

from collections.abc import Sequence

from ..data.augment import BodyRanges, DetectorErrorRanges, JointDefinitionRanges
from ..data.video_windows import VideoAugmentation
from ..data.virtual_cameras import CameraRanges
from ..model.run_config import (
    AugmentConfig,
    Config,
    DataConfig,
    EvalConfig,
    ModelConfig,
    TrainConfig,
    apply_overrides,
    load_config,
)

__all__ = ["Config", "ModelConfig", "DataConfig", "TrainConfig", "EvalConfig", "AugmentConfig", "load_config",
           "apply_overrides", "video_augmentation"]


def _pair(values: Sequence[float]) -> tuple[float, float]:
    """A ``[low, high]`` range from a config list as the tuple the augmentation takes."""
    low, high = values
    return float(low), float(high)


def video_augmentation(augment: AugmentConfig, flip: bool = True) -> VideoAugmentation:
    """The video-like training windows an ``[augment]`` section describes (ValueError for ranges the
    augmentation refuses); ``flip``: mirror half the samples, as ``train.flip`` says."""
    return VideoAugmentation(
        fps=_pair(augment.fps), flip=flip,
        cameras=CameraRanges(fov_deg=_pair(augment.fov_deg), elevation_deg=_pair(augment.elevation_deg),
                             person_height=_pair(augment.person_height), position=augment.position),
        bodies=BodyRanges() if augment.bodies else None,
        joint_definitions=JointDefinitionRanges(std=augment.joint_std) if augment.joint_definitions else None,
        detector=DetectorErrorRanges(noise=_pair(augment.noise)) if augment.detector_errors else None,
        real_cameras=augment.real_cameras,
    )
