"""Training samples: per-camera pose sequences and shuffled batches of windows over every frame.

A sample is one frame of one sequence seen by one camera: the network input is the window of
``receptive_field`` 2D frames around it (ending at it for a causal model), edge-padded at the
sequence ends, and the target is that frame's root-relative 3D pose.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import torch

from ..skeleton import Skeleton
from .keypoints2d import Keypoints2D
from .mocap import MocapDataset

__all__ = ["PoseSequence", "build_sequences", "WindowLoader", "flip_poses"]


@dataclass
class PoseSequence:
    """One sequence seen by one camera.

    ``inputs``: float32 (N, J, 2) normalised screen coordinates. ``targets``: float32 (N, J, 3)
    camera-frame metres with the root joint at the origin.
    """

    subject: str
    action: str
    camera: int
    inputs: np.ndarray
    targets: np.ndarray


def build_sequences(
    mocap: MocapDataset,
    keypoints: Keypoints2D,
    subjects: Sequence[str],
    actions: Sequence[str] | None = None,
    downsample: int = 1,
) -> list[PoseSequence]:
    """Pair every (subject, action, camera) of the mocap with its 2D keypoints.

    ``keypoints`` must already be matched to the mocap (see :func:`~gastnet.data.keypoints2d.match_mocap`).
    ``downsample`` keeps every n-th frame (5 turns Human3.6M's 50 fps into 10 fps).
    """
    if downsample < 1:
        raise ValueError(f"downsample must be a positive integer, got {downsample}")
    root = mocap.skeleton.root
    sequences = []
    for subject, action in mocap.sequences(subjects, actions):
        poses = mocap.camera_frame(subject, action)
        for c, camera in enumerate(mocap.cameras(subject)):
            inputs = camera.normalize(keypoints.positions[subject][action][c]).astype(np.float32)
            targets = poses[c] - poses[c][:, root : root + 1]
            sequences.append(PoseSequence(subject, action, c, inputs[::downsample], targets[::downsample]))
    if not sequences:
        raise ValueError(f"no sequences for subjects {list(subjects)} and actions {actions}")
    return sequences


@overload
def flip_poses(poses: torch.Tensor, skeleton: Skeleton) -> torch.Tensor: ...


@overload
def flip_poses(poses: np.ndarray, skeleton: Skeleton) -> np.ndarray: ...


def flip_poses(poses: np.ndarray | torch.Tensor, skeleton: Skeleton) -> np.ndarray | torch.Tensor:
    """Mirror poses (..., J, 2 or 3): negate x and swap left and right joints (a tensor for a tensor)."""
    signs = [-1.0] + [1.0] * (poses.shape[-1] - 1)
    mirrored = poses[..., skeleton.flip_permutation(), :]
    if isinstance(poses, torch.Tensor):
        return mirrored * torch.tensor(signs, dtype=poses.dtype, device=poses.device)
    return mirrored * np.asarray(signs, dtype=poses.dtype)


class WindowLoader:
    """Shuffled batches of ``(inputs (B, RF, J, 2), targets (B, 1, J, 3))`` float32 tensors.

    Args:
        sequences: the pose sequences.
        receptive_field: window length RF.
        batch_size: samples per batch (per process when distributed).
        causal: windows end at their frame instead of being centred on it.
        flip_skeleton: if given, every window also appears mirrored (flip augmentation).
        noise_std: standard deviation of Gaussian noise added to every 2D input coordinate, in
            normalised screen units (0.01 is 5 px on a 1000 px wide image).
        seed: with the epoch number, fixes the order and the noise: an epoch is reproducible, and
            can be resumed at any batch.
        rank, world_size: this process's share of every epoch when training on several processes.
        shuffle: False keeps sequence order (for evaluation).
    """

    def __init__(
        self,
        sequences: Sequence[PoseSequence],
        receptive_field: int,
        batch_size: int,
        causal: bool = False,
        flip_skeleton: Skeleton | None = None,
        noise_std: float = 0.0,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        total = receptive_field - 1
        left, right = (total, 0) if causal else (total // 2, total - total // 2)
        padded, starts, offset = [], [], 0
        for seq in sequences:
            padded.append(np.pad(seq.inputs, ((left, right), (0, 0), (0, 0)), mode="edge"))
            starts.append(offset + np.arange(len(seq.inputs)))
            offset += len(padded[-1])
        self.inputs = np.concatenate(padded)
        self.targets = np.concatenate([seq.targets for seq in sequences])
        self.window_starts = np.concatenate(starts)
        self.receptive_field = receptive_field
        self.batch_size = batch_size
        self.flip_skeleton = flip_skeleton
        self.noise_std = noise_std
        self.seed, self.rank, self.world_size, self.shuffle = seed, rank, world_size, shuffle

    @property
    def num_frames(self) -> int:
        return len(self.targets)

    @property
    def num_samples(self) -> int:
        """Samples per epoch over all processes (frames, twice with flip augmentation)."""
        return self.num_frames * (2 if self.flip_skeleton is not None else 1)

    def __len__(self) -> int:
        """Batches per epoch for this process."""
        per_rank = self.num_samples // self.world_size
        return -(-per_rank // self.batch_size)

    def _order(self, epoch: int) -> np.ndarray:
        n = self.num_samples
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)
        usable = n - n % self.world_size  # every process gets the same number of samples
        return order[self.rank : usable : self.world_size]

    def batch(self, indices: np.ndarray, noise_rng: np.random.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The samples ``indices`` (in 0 .. num_samples - 1) as tensors."""
        frames = indices % self.num_frames
        window = self.window_starts[frames][:, None] + np.arange(self.receptive_field)
        x = self.inputs[window]  # (B, RF, J, 2)
        y = self.targets[frames][:, None].copy()  # (B, 1, J, 3)
        flipped = indices >= self.num_frames
        if flipped.any():
            assert self.flip_skeleton is not None  # flipped samples exist only with one (num_samples)
            x[flipped] = flip_poses(x[flipped], self.flip_skeleton)
            y[flipped] = flip_poses(y[flipped], self.flip_skeleton)
        if self.noise_std > 0 and noise_rng is not None:
            x += noise_rng.normal(0.0, self.noise_std, size=x.shape).astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(y)

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of ``epoch`` from batch ``start_batch`` on (to resume inside an epoch)."""
        order = self._order(epoch)
        for b in range(start_batch, len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            rng = np.random.default_rng([self.seed, epoch, b, self.rank]) if self.noise_std > 0 else None
            yield self.batch(indices, rng)
