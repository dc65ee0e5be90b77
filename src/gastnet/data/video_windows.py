"""Training windows that look like video: mocap seen through random cameras, bodies, detectors and frame rates.

:class:`VideoWindowLoader` draws each sample from the world-frame motion capture on the fly:

1. a frame rate, log-uniform in ``fps`` (10-60 by default), and the window of ``receptive_field``
   frames at that rate around (or, causal, ending at) a random frame, linearly interpolated
   between the 50 fps mocap frames and edge-clamped at the sequence ends;
2. a mirror image half of the time; body proportions (:func:`~gastnet.data.augment.scale_bodies`);
3. a virtual camera (:func:`~gastnet.data.virtual_cameras.sample_cameras`) around the hips of the
   target frame: the target is that frame's root-relative 3D in this camera's frame (metres);
4. the input: the joints displaced to another definition
   (:func:`~gastnet.data.augment.displace_joint_definitions`), projected, with detector errors
   (:func:`~gastnet.data.augment.detector_errors`).

A fraction ``real_cameras`` of the samples is seen through one of the dataset's own calibrated
cameras instead (with its lens distortion), so that the model keeps what it knew of them.

Every step is batched torch; a batch is a fixed function of (seed, epoch, batch index, rank).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..geometry.camera import project_to_2d, world_to_camera
from ..skeleton import standing_height
from .augment import (
    BodyRanges,
    DetectorErrorRanges,
    JointDefinitionRanges,
    detector_errors,
    displace_joint_definitions,
    mirror_world,
    scale_bodies,
)
from .cameras import Camera
from .virtual_cameras import CameraRanges, sample_cameras, seeded_generator

__all__ = ["VideoAugmentation", "VideoWindowLoader"]


@dataclass
class VideoAugmentation:
    """What :class:`VideoWindowLoader` varies; each part can be switched off (cameras cannot:
    a window needs a camera to be seen through)."""

    fps: tuple[float, float] = (10.0, 60.0)
    flip: bool = True
    cameras: CameraRanges = field(default_factory=CameraRanges)
    bodies: BodyRanges | None = field(default_factory=BodyRanges)
    joint_definitions: JointDefinitionRanges | None = field(default_factory=JointDefinitionRanges)
    detector: DetectorErrorRanges | None = field(default_factory=DetectorErrorRanges)
    real_cameras: float = 0.0  # fraction of samples seen through the dataset's own cameras


class VideoWindowLoader:
    """Batches ``(inputs (B, RF + K - 1, 17, 2) normalised, targets (B, K, 17, 3) metres)`` of float32,
    K = ``target_frames`` consecutive output frames at the drawn frame rate (1 by default).

    Args:
        sequences: world-frame Human3.6M-17 motion, one (N, 17, 3) array per sequence, metres, z up.
        source_fps: their frame rate.
        receptive_field: window length RF.
        batch_size: samples per batch (per process).
        augmentation: what to vary.
        causal: windows end at their target frame.
        samples_per_epoch: samples per epoch over all processes (0: one per mocap frame).
        seed, rank, world_size: as for :class:`~gastnet.data.windows.WindowLoader`.
        cameras: the calibrated cameras of each sequence (all with intrinsics and the same count),
            needed when ``augmentation.real_cameras`` > 0.
        target_frames: K consecutive targets per sample (for a loss on their velocity): the window
            grows by K - 1 frames; the drawn frame is the middle target (causal: the last), and all
            K targets are seen through the same camera, each relative to its own root joint.
    """

    def __init__(
        self,
        sequences: Sequence[np.ndarray],
        source_fps: float,
        receptive_field: int,
        batch_size: int,
        augmentation: VideoAugmentation | None = None,
        causal: bool = False,
        samples_per_epoch: int = 0,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        cameras: Sequence[Sequence[Camera]] | None = None,
        target_frames: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not sequences:
            raise ValueError("no sequences to draw windows from")
        for s in sequences:
            if s.ndim != 3 or s.shape[1:] != (17, 3):
                raise ValueError(f"expected world poses (N, 17, 3), got {s.shape}")
        self.world = torch.from_numpy(np.concatenate(sequences).astype(np.float32))
        lengths = np.array([len(s) for s in sequences])
        ends = np.cumsum(lengths)
        self.seq_start = torch.from_numpy(np.repeat(ends - lengths, lengths))
        self.seq_end = torch.from_numpy(np.repeat(ends - 1, lengths))  # last frame, inclusive
        self.source_fps = source_fps
        if target_frames < 1:
            raise ValueError(f"target_frames must be positive, got {target_frames}")
        self.receptive_field = receptive_field
        self.target_frames = target_frames
        self.window_length = receptive_field + target_frames - 1
        self.first_target = receptive_field - 1 if causal else receptive_field // 2  # window index of target 1
        # the drawn frame: the last target of a causal window, else the middle one
        self.target_index = self.first_target + (target_frames - 1 if causal else (target_frames - 1) // 2)
        self.batch_size = batch_size
        self.augmentation = augmentation or VideoAugmentation()
        self.samples = samples_per_epoch or len(self.world)
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.real = None
        if self.augmentation.real_cameras > 0:
            if cameras is None or len(cameras) != len(sequences):
                raise ValueError("real_cameras > 0 needs the calibrated cameras of every sequence")
            self.real = _camera_table(cameras)
            self.seq_id = torch.from_numpy(np.repeat(np.arange(len(sequences)), lengths))

    @property
    def num_samples(self) -> int:
        return self.samples

    def __len__(self) -> int:
        return -(-(self.samples // self.world_size) // self.batch_size)

    def windows(self, frames: torch.Tensor, fps: torch.Tensor) -> torch.Tensor:
        """World windows (B, RF + K - 1, 17, 3) around the global ``frames`` (B,) sampled at ``fps`` (B,)."""
        step = self.source_fps / fps
        offsets = torch.arange(self.window_length, dtype=torch.float32) - self.target_index
        times = frames[:, None].float() + step[:, None] * offsets  # (B, RF) in source frames
        lo, hi = self.seq_start[frames][:, None].float(), self.seq_end[frames][:, None].float()
        times = torch.maximum(torch.minimum(times, hi), lo)
        before = times.floor().long()
        after = torch.minimum(before + 1, hi.long())
        w = (times - before.float())[..., None, None]
        return self.world[before] * (1 - w) + self.world[after] * w

    def batch(self, frames: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The samples whose target frames are ``frames`` (B,), drawn with ``generator``."""
        aug = self.augmentation
        b = len(frames)
        lo, hi = math.log(aug.fps[0]), math.log(aug.fps[1])
        fps = torch.exp(lo + (hi - lo) * torch.rand(b, generator=generator))
        world = self.windows(frames, fps)
        if aug.flip:
            world = mirror_world(world, torch.rand(b, generator=generator) < 0.5)
        if aug.bodies is not None:
            world = scale_bodies(world, aug.bodies, generator)
        target_pose = world[:, self.target_index]
        target_poses = world[:, self.first_target : self.first_target + self.target_frames]  # (B, K, 17, 3)
        height = standing_height(target_pose)
        cameras = sample_cameras(target_pose[:, 0], height, aug.cameras, generator)
        seen = world
        if aug.joint_definitions is not None:
            seen = displace_joint_definitions(world, height, aug.joint_definitions, generator)
        target = cameras.to_camera(target_poses)
        inputs = cameras.project(seen)
        if self.real is not None:
            real = torch.rand(b, generator=generator) < aug.real_cameras
            which = torch.randint(self.real["q"].shape[1], (b,), generator=generator)
            params = {k: v[self.seq_id[frames], which] for k, v in self.real.items()}
            target = torch.where(real[:, None, None, None], _to_camera(target_poses, params), target)
            inputs = torch.where(real[:, None, None, None], _project(seen, params), inputs)
        target = target - target[..., :1, :]
        if aug.detector is not None:
            inputs = detector_errors(inputs, aug.detector, generator)
        return inputs.contiguous(), target.contiguous()

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of ``epoch`` from ``start_batch`` on; each a fixed function of the seed, epoch and index."""
        for b in range(start_batch, len(self)):
            generator = seeded_generator(self.seed, epoch, b, self.rank)
            frames = torch.randint(len(self.world), (self.batch_size,), generator=generator)
            yield self.batch(frames, generator)


def _camera_table(cameras: Sequence[Sequence[Camera]]) -> dict[str, torch.Tensor]:
    """Calibrations as float32 tensors (S, C, ...) over sequences and cameras."""
    counts = {len(c) for c in cameras}
    if len(counts) != 1 or not all(cam.has_intrinsics for c in cameras for cam in c):
        raise ValueError("real cameras need intrinsics and the same number of cameras for every sequence")

    def stack(get) -> torch.Tensor:
        return torch.tensor(np.array([[get(cam) for cam in c] for c in cameras]), dtype=torch.float32)

    return {"q": stack(lambda c: c.orientation), "t": stack(lambda c: c.translation),
            "f": stack(lambda c: c.focal_length), "c": stack(lambda c: c.center),
            "k": stack(lambda c: c.radial_distortion), "p": stack(lambda c: c.tangential_distortion),
            "size": stack(lambda c: [c.width, c.height])}


def _to_camera(points: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """World points (B, T, J, 3) into each sample's real camera frame."""
    return world_to_camera(points, params["q"][:, None, None], params["t"][:, None, None])


def _project(points: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """World points (B, T, J, 3) through each sample's real camera, in normalised screen coordinates."""
    def per_sample(x: torch.Tensor) -> torch.Tensor:
        return x[:, None, None]

    pixels = project_to_2d(_to_camera(points, params), per_sample(params["f"]), per_sample(params["c"]),
                           per_sample(params["k"]), per_sample(params["p"]))
    w, h = per_sample(params["size"][:, :1]), per_sample(params["size"][:, 1:])
    return pixels / w * 2 - torch.cat([torch.ones_like(h), h / w], -1)
