"""2D keypoint files in VideoPose3D's layout, and ground-truth 2D by projection.

``data_2d_<dataset>_<source>.npz`` holds ``positions_2d = {subject: {action: [one float32
(N, J, 2) array of pixels per camera]}}`` and ``metadata = {"layout_name", "num_joints",
"keypoints_symmetry": [left, right]}``. Any 2D source in that layout works (ground truth,
CPN, your own detector); detections longer than the mocap are trimmed to its length.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import save_npz
from ..safe_load import load_npz
from .mocap import MocapDataset

__all__ = ["Keypoints2D", "load_keypoints_2d", "save_keypoints_2d", "project_mocap", "match_mocap"]


@dataclass
class Keypoints2D:
    """``positions[subject][action][camera]``: float32 (N, J, 2) pixels; ``metadata`` as in the file."""

    positions: dict[str, dict[str, list[np.ndarray]]]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return int(self.metadata["num_joints"])


def load_keypoints_2d(path: str | os.PathLike[str], expected_joints: int | None = None) -> Keypoints2D:
    """Load and check a 2D file; raises ValueError naming the problem (layout, joints, NaN)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"2D file {path} does not exist")
    try:
        data = load_npz(path)  # VideoPose3D's pickled dicts, read without running code
        missing = {"positions_2d", "metadata"} - set(data.keys())
        if missing:
            raise ValueError(f"{path}: expected keys 'positions_2d' and 'metadata', missing {sorted(missing)}")
        positions = data["positions_2d"].item()
        metadata = data["metadata"].item()
    except (ValueError, AttributeError) as err:  # .item() of a non-object array: AttributeError or ValueError
        raise ValueError(f"{path}: not a readable npz file ({err})") from None
    if not isinstance(positions, dict) or not all(isinstance(v, dict) for v in positions.values()):
        raise ValueError(f"{path}: positions_2d must be a dict {{subject: {{action: [arrays per camera]}}}}")
    if not isinstance(metadata, dict) or type(metadata.get("num_joints", 0)) is not int:
        raise ValueError(f"{path}: metadata must be a dict with an integer 'num_joints'")
    joints = metadata.get("num_joints", expected_joints or 0)
    if expected_joints is not None and joints != expected_joints:
        raise ValueError(f"{path}: metadata says {joints} joints, expected {expected_joints}")
    for subject, actions in positions.items():
        for action, views in actions.items():
            if not isinstance(views, (list, tuple)):
                raise ValueError(f"{path}: {subject}/{action} must be a list of per-camera arrays")
            for c, pose in enumerate(views):
                if not isinstance(pose, np.ndarray) or pose.dtype.kind not in "iuf":
                    raise ValueError(f"{path}: {subject}/{action} camera {c} is not a numeric array")
                if pose.ndim != 3 or pose.shape[1:] != (joints, 2):
                    raise ValueError(f"{path}: {subject}/{action} camera {c} has shape {pose.shape}; expected (N, {joints}, 2)")
                if not np.isfinite(pose).all():
                    raise ValueError(f"{path}: {subject}/{action} camera {c} contains NaN or infinite values")
    metadata = {**metadata, "num_joints": joints}
    return Keypoints2D(positions, metadata)


def save_keypoints_2d(path: str | os.PathLike[str], keypoints: Keypoints2D, overwrite: bool = False) -> Path:
    """Write ``keypoints`` in VideoPose3D's layout, atomically; refuses to replace a file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"{path} already exists; remove it or choose another output")
    return save_npz(path, positions_2d=keypoints.positions, metadata=keypoints.metadata)


def project_mocap(mocap: MocapDataset, subjects: list[str] | None = None) -> Keypoints2D:
    """Ground-truth 2D: every sequence projected through every camera with its distortion (pixels)."""
    positions: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, action in mocap.sequences(subjects):
        world = mocap.positions[subject][action].astype(np.float64)
        views = [c.project(c.world_to_camera(world)).astype(np.float32) for c in mocap.cameras(subject)]
        positions.setdefault(subject, {})[action] = views
    skeleton = mocap.skeleton
    metadata = {
        "layout_name": mocap.spec.name,
        "num_joints": skeleton.num_joints,
        "keypoints_symmetry": [list(skeleton.joints_left), list(skeleton.joints_right)],
    }
    return Keypoints2D(positions, metadata)


def match_mocap(keypoints: Keypoints2D, mocap: MocapDataset, subjects: list[str] | None = None) -> Keypoints2D:
    """Check the 2D covers the mocap sequences of ``subjects`` and trim it to the 3D lengths.

    Raises ValueError for a missing subject or action, a wrong camera count, or 2D shorter than 3D.
    """
    if keypoints.num_joints != mocap.skeleton.num_joints:
        raise ValueError(f"the 2D has {keypoints.num_joints} joints, the 3D skeleton {mocap.skeleton.num_joints}")
    trimmed: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, action in mocap.sequences(subjects):
        if subject not in keypoints.positions:
            raise ValueError(f"the 2D keypoints have no subject {subject!r}; they have {sorted(keypoints.positions)}")
        if action not in keypoints.positions[subject]:
            raise ValueError(f"the 2D keypoints have no action {action!r} for {subject}")
        views = keypoints.positions[subject][action]
        n_cams = len(mocap.cameras(subject))
        if len(views) != n_cams:
            raise ValueError(f"{subject}/{action}: {len(views)} 2D views, but the dataset has {n_cams} cameras")
        length = mocap.positions[subject][action].shape[0]
        for c, view in enumerate(views):
            if view.shape[0] < length:
                raise ValueError(f"{subject}/{action} camera {c}: the 2D has {view.shape[0]} frames, "
                                 f"fewer than the 3D's {length}")
        trimmed.setdefault(subject, {})[action] = [np.asarray(v[:length], dtype=np.float32) for v in views]
    return Keypoints2D(trimmed, dict(keypoints.metadata))
