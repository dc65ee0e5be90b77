"""CMU Graphics Lab motion capture (BVH) as Human3.6M-17 world motion, for cross-dataset checks.

Mapping from the CMU 31-joint skeleton (joint positions from forward kinematics):

========================  =======================================================
Human3.6M-17 joint        CMU source
========================  =======================================================
pelvis (0)                midpoint of LeftHip and RightHip (CMU's root sits above them)
right/left hip (1, 4)     RightHip / LeftHip
right/left knee (2, 5)    RightKnee / LeftKnee
right/left ankle (3, 6)   RightAnkle / LeftAnkle
spine (7)                 midpoint of pelvis and thorax
thorax (8)                Neck (at shoulder height)
neck/nose (9)             Head (the base of the head)
head top (10)             Head's end site
shoulders (11, 14)        LeftShoulder / RightShoulder
elbows (12, 15)           LeftElbow / RightElbow
wrists (13, 16)           LeftWrist / RightWrist
========================  =======================================================

Lengths: CMU's BVH files measure in units of 1/0.45 inch; ``UNIT_METRES`` turns them into
metres. Axes: BVH's Y up becomes z up (x, y, z) -> (x, -z, y), as in the Human3.6M data.
"""

from __future__ import annotations

import os

import numpy as np

from ..animation.bvh import forward_kinematics, read_bvh

__all__ = ["CMU_TO_H36M", "UNIT_METRES", "load_cmu_bvh"]

UNIT_METRES = 0.0254 / 0.45
"""Metres per CMU BVH length unit."""

CMU_TO_H36M = {1: "RightHip", 2: "RightKnee", 3: "RightAnkle", 4: "LeftHip", 5: "LeftKnee", 6: "LeftAnkle",
               8: "Neck", 9: "Head", 10: "Head_end", 11: "LeftShoulder", 12: "LeftElbow", 13: "LeftWrist",
               14: "RightShoulder", 15: "RightElbow", 16: "RightWrist"}
"""Human3.6M-17 index -> CMU joint name, for the joints that are copied (the rest are midpoints)."""


def load_cmu_bvh(path: str | os.PathLike[str], fps: float | None = None) -> tuple[np.ndarray, float]:
    """A CMU BVH file as Human3.6M-17 world poses (N, 17, 3) in metres, z up, and their frame rate.

    ``fps`` keeps every ``round(file_fps / fps)``-th frame (120 -> 30 fps keeps every 4th).
    """
    bvh = read_bvh(path)
    missing = [name for name in CMU_TO_H36M.values() if name not in bvh.names]
    if missing:
        raise ValueError(f"{path}: not a CMU skeleton; joints {missing} are missing")
    positions = forward_kinematics(bvh)
    step = max(1, round(bvh.fps / fps)) if fps else 1
    positions = positions[::step]
    h36m = np.zeros((len(positions), 17, 3))
    for joint, name in CMU_TO_H36M.items():
        h36m[:, joint] = positions[:, bvh.names.index(name)]
    h36m[:, 0] = (h36m[:, 1] + h36m[:, 4]) / 2
    h36m[:, 7] = (h36m[:, 0] + h36m[:, 8]) / 2
    world = np.stack([h36m[..., 0], -h36m[..., 2], h36m[..., 1]], -1) * UNIT_METRES
    return world.astype(np.float32), bvh.fps / step
