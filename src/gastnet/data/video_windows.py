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

Every step is batched torch; a batch is a fixed function of (seed, epoch, batch index, rank).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .augment import (BodyRanges, DetectorErrorRanges, JointDefinitionRanges, detector_errors,
                      displace_joint_definitions, mirror_world, scale_bodies)
from .virtual_cameras import CameraRanges, sample_cameras, standing_height

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


class VideoWindowLoader:
    """Batches ``(inputs (B, RF, 17, 2) normalised, targets (B, 1, 17, 3) metres)`` of float32.

    Args:
        sequences: world-frame Human3.6M-17 motion, one (N, 17, 3) array per sequence, metres, z up.
        source_fps: their frame rate.
        receptive_field: window length RF.
        batch_size: samples per batch (per process).
        augmentation: what to vary.
        causal: windows end at their target frame.
        samples_per_epoch: samples per epoch over all processes (0: one per mocap frame).
        seed, rank, world_size: as for :class:`~gastnet.data.windows.WindowLoader`.
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
        self.receptive_field = receptive_field
        self.target_index = receptive_field - 1 if causal else receptive_field // 2
        self.batch_size = batch_size
        self.augmentation = augmentation or VideoAugmentation()
        self.samples = samples_per_epoch or len(self.world)
        self.seed, self.rank, self.world_size = seed, rank, world_size

    @property
    def num_samples(self) -> int:
        return self.samples

    def __len__(self) -> int:
        return -(-(self.samples // self.world_size) // self.batch_size)

    def _generator(self, epoch: int, batch: int) -> torch.Generator:
        seed = int(np.random.SeedSequence([self.seed, epoch, batch, self.rank]).generate_state(1)[0])
        return torch.Generator().manual_seed(seed)

    def windows(self, frames: torch.Tensor, fps: torch.Tensor) -> torch.Tensor:
        """World windows (B, RF, 17, 3) around the global ``frames`` (B,) sampled at ``fps`` (B,)."""
        step = self.source_fps / fps
        offsets = torch.arange(self.receptive_field, dtype=torch.float32) - self.target_index
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
        height = standing_height(target_pose)
        cameras = sample_cameras(target_pose[:, 0], height, aug.cameras, generator)
        target = cameras.to_camera(target_pose)
        target = (target - target[:, :1])[:, None]
        seen = world
        if aug.joint_definitions is not None:
            seen = displace_joint_definitions(world, height, aug.joint_definitions, generator)
        inputs = cameras.project(seen)
        if aug.detector is not None:
            inputs = detector_errors(inputs, aug.detector, generator)
        return inputs.contiguous(), target.contiguous()

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of ``epoch`` from ``start_batch`` on; each a fixed function of the seed, epoch and index."""
        for b in range(start_batch, len(self)):
            generator = self._generator(epoch, b)
            frames = torch.randint(len(self.world), (self.batch_size,), generator=generator)
            yield self.batch(frames, generator)
