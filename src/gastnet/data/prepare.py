"""Build the standard npz files: Human3.6M 3D from the original CDF files, ground-truth 2D by projection."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..extras import require
from ..fileio import save_npz
from ..progress import progress_bar
from .keypoints2d import project_mocap, save_keypoints_2d
from .mocap import get_dataset_spec, load_mocap

__all__ = ["prepare_h36m_from_cdf", "prepare_ground_truth_2d", "H36M_SUBJECTS"]

H36M_SUBJECTS = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise ValueError(f"{path} already exists; remove it or choose another output")


def prepare_h36m_from_cdf(cdf_dir: str | os.PathLike[str], out: str | os.PathLike[str], progress: bool = False) -> Path:
    """Read ``<cdf_dir>/S*/MyPoseFeatures/D3_Positions/*.cdf`` (key ``Pose``, millimetres) into
    ``data_3d_h36m.npz``: ``{subject: {action: float32 (N, 32, 3)}}`` in metres.

    Action names follow the standard convention (``TakingPhoto`` -> ``Photo``, ``WalkingDog`` ->
    ``WalkDog``); S11's unnumbered ``Directions`` (a corrupted recording) is left out.
    """
    require("cdf", "reading CDF files")
    import cdflib

    cdf_dir, out = Path(cdf_dir), Path(out)
    _refuse_existing(out)
    files = {s: sorted((cdf_dir / s / "MyPoseFeatures" / "D3_Positions").glob("*.cdf")) for s in H36M_SUBJECTS}
    if not any(files.values()):
        raise ValueError(f"no CDF files in {cdf_dir}/S*/MyPoseFeatures/D3_Positions/")
    positions: dict[str, dict[str, np.ndarray]] = {}
    todo = [(s, f) for s in H36M_SUBJECTS for f in files[s]]
    for subject, path in progress_bar(todo, desc="read CDF", unit="file", disable=not progress):
        action = path.stem
        if subject == "S11" and action == "Directions":
            continue
        name = action.replace("TakingPhoto", "Photo").replace("WalkingDog", "WalkDog")
        pose = np.asarray(cdflib.CDF(str(path))["Pose"], dtype=np.float64)
        if pose.size % 96:
            raise ValueError(f"{path}: 'Pose' has {pose.size} values, not a multiple of 32 joints x 3")
        positions.setdefault(subject, {})[name] = (pose.reshape(-1, 32, 3) / 1000).astype(np.float32)
    return save_npz(out, positions_3d=positions)


def prepare_ground_truth_2d(
    dataset: str, data_3d: str | os.PathLike[str], out: str | os.PathLike[str]
) -> Path:
    """Project a 3D file through the dataset's cameras into ``data_2d_<dataset>_gt.npz`` (pixels)."""
    spec = get_dataset_spec(dataset)
    out = Path(out)
    _refuse_existing(out)
    mocap = load_mocap(data_3d, spec)
    if not all(c.has_intrinsics for s in mocap.subjects() for c in mocap.cameras(s)):
        raise ValueError(
            f"the {dataset} calibration has no intrinsics, so 2D cannot be projected; "
            f"use the dataset's own {spec.file_2d('gt')}"
        )
    return save_keypoints_2d(out, project_mocap(mocap))
