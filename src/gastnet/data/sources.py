"""Find and load a dataset's 3D and 2D files from the data folder, checked before any work starts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .keypoints2d import Keypoints2D, load_keypoints_2d, match_mocap, project_mocap
from .mocap import DatasetSpec, MocapDataset, find_data_file, get_dataset_spec, load_mocap, resolve_data_dir

__all__ = ["load_pose_data", "load_dataset_mocap"]


def load_dataset_mocap(dataset: str, data_dir: str | os.PathLike[str] | None = None) -> MocapDataset:
    """The 3D file of ``dataset`` from the data folder (``<data_dir>/<dataset>/`` or ``<data_dir>/``)."""
    spec = get_dataset_spec(dataset)
    return load_mocap(_path_3d(resolve_data_dir(data_dir), spec), spec)


def _path_3d(folder: Path, spec: DatasetSpec) -> Path:
    path = find_data_file(folder, spec, spec.file_3d)
    if path is None:
        raise ValueError(f"no {spec.file_3d} in {folder / spec.name} or {folder}")
    return path


def load_pose_data(
    dataset: str,
    keypoints: str = "gt",
    data_dir: str | os.PathLike[str] | None = None,
    subjects: Sequence[str] | None = None,
) -> tuple[MocapDataset, Keypoints2D, str]:
    """The mocap and matching 2D keypoints of ``subjects``, plus a line saying where the 2D came from.

    Files are looked up in ``<data_dir>/<dataset>/`` and ``<data_dir>/``. When the ground-truth 2D
    file is absent and the cameras have intrinsics (Human3.6M), the 2D is projected from the 3D
    in memory, exactly as ``gastnet prepare h36m-2d`` would write it.
    """
    spec = get_dataset_spec(dataset)
    folder = resolve_data_dir(data_dir)
    path_3d = _path_3d(folder, spec)
    mocap = load_mocap(path_3d, spec)
    subjects = list(subjects) if subjects is not None else mocap.subjects()
    missing = [s for s in subjects if s not in mocap.positions]
    if missing:
        raise ValueError(f"subjects {missing} are not in {path_3d}; it has {mocap.subjects()}")
    path_2d = find_data_file(folder, spec, spec.file_2d(keypoints))
    if path_2d is not None:
        points = load_keypoints_2d(path_2d, spec.skeleton.num_joints)
        source = f"2D from {path_2d}"
    elif keypoints == "gt" and all(c.has_intrinsics for s in subjects for c in mocap.cameras(s)):
        points = project_mocap(mocap, subjects)
        source = f"2D projected from {path_3d} through the built-in cameras (no {spec.file_2d('gt')} found)"
    else:
        raise ValueError(f"no 2D file {spec.file_2d(keypoints)} in {folder / spec.name} or {folder}")
    return mocap, match_mocap(points, mocap, subjects), source
