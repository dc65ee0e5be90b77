"""Datasets in VideoPose3D's layout: the specs of Human3.6M and HumanEva-I and their 3D files.

``data_3d_<name>.npz`` holds one key, ``positions_3d``: a pickled dict
``{subject: {action: float32 (N, J, 3)}}`` of world coordinates in metres. Human3.6M files carry
the original 32 joints and are reduced to the standard 17 on loading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..safe_load import load_npz
from ..skeleton import CAPTURE_FPS, H36M_17, HUMANEVA_15, Skeleton
from .cameras import Camera, camera_subjects, dataset_cameras

__all__ = ["DatasetSpec", "DATASETS", "get_dataset_spec", "MocapDataset", "load_mocap", "action_group", "resolve_data_dir"]

H36M_KEPT_JOINTS = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices of the 17 standard joints in Human3.6M's 32-joint skeleton."""


@dataclass(frozen=True)
class DatasetSpec:
    """What the code needs to know about a dataset."""

    name: str
    file_stem: str  # data_3d_<file_stem>.npz, data_2d_<file_stem>_<source>.npz
    skeleton: Skeleton
    fps: float
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]
    actions: tuple[str, ...] | None  # action groups used by the standard protocol (None: all)
    raw_joints: int  # joints in the 3D file
    kept_joints: tuple[int, ...] | None = None  # reduction from raw_joints to the skeleton

    @property
    def file_3d(self) -> str:
        return f"data_3d_{self.file_stem}.npz"

    def file_2d(self, source: str) -> str:
        return f"data_2d_{self.file_stem}_{source}.npz"


DATASETS: dict[str, DatasetSpec] = {
    "h36m": DatasetSpec(
        name="h36m", file_stem="h36m", skeleton=H36M_17, fps=CAPTURE_FPS["h36m"],
        train_subjects=("S1", "S5", "S6", "S7", "S8"), test_subjects=("S9", "S11"),
        actions=None, raw_joints=32, kept_joints=H36M_KEPT_JOINTS,
    ),
    "humaneva": DatasetSpec(
        name="humaneva", file_stem="humaneva15", skeleton=HUMANEVA_15, fps=CAPTURE_FPS["humaneva"],
        train_subjects=("Train/S1", "Train/S2", "Train/S3"),
        test_subjects=("Validate/S1", "Validate/S2", "Validate/S3"),
        actions=("Walking", "Jog", "Box"), raw_joints=15,
    ),
}


def get_dataset_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}") from None


def action_group(action: str) -> str:
    """The action a sequence belongs to: its name before the first space (``"Walking 1"`` -> ``"Walking"``)."""
    return action.split(" ")[0]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``data_dir``, else ``$GASTNET_DATA``, else ``../shared/data`` if it exists."""
    candidates = [data_dir, os.environ.get("GASTNET_DATA")]
    for value in candidates:
        if value:
            path = Path(value).expanduser()
            if not path.is_dir():
                raise ValueError(f"data folder {path} does not exist")
            return path
    default = Path("..") / "shared" / "data"
    if default.is_dir():
        return default
    raise ValueError("no data folder: pass --data-dir or set GASTNET_DATA (../shared/data does not exist here)")


def find_data_file(data_dir: Path, spec: DatasetSpec, filename: str) -> Path | None:
    """``filename`` in ``data_dir/<dataset>/`` or ``data_dir/``; None if in neither."""
    for path in (data_dir / spec.name / filename, data_dir / filename):
        if path.is_file():
            return path
    return None


class MocapDataset:
    """3D motion of a dataset: ``positions[subject][action]`` is float32 (N, J, 3) world metres."""

    def __init__(self, spec: DatasetSpec, positions: dict[str, dict[str, np.ndarray]]) -> None:
        self.spec = spec
        self.positions = positions

    @property
    def skeleton(self) -> Skeleton:
        return self.spec.skeleton

    def subjects(self) -> list[str]:
        return list(self.positions)

    def sequences(
        self, subjects: Sequence[str] | None = None, actions: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str]]:
        """(subject, action) pairs, optionally restricted to subjects and action groups."""
        for subject in subjects if subjects is not None else self.subjects():
            if subject not in self.positions:
                raise ValueError(f"subject {subject!r} is not in the 3D data; it has {self.subjects()}")
            for action in self.positions[subject]:
                if actions is None or action_group(action) in actions:
                    yield subject, action

    def cameras(self, subject: str) -> tuple[Camera, ...]:
        return dataset_cameras(self.spec.name, subject)

    def camera_frame(self, subject: str, action: str) -> list[np.ndarray]:
        """The sequence in each camera's frame: one float32 (N, J, 3) array per camera, metres."""
        world = self.positions[subject][action]
        return [c.world_to_camera(world).astype(np.float32) for c in self.cameras(subject)]


def load_mocap(path: str | os.PathLike[str], dataset: str | DatasetSpec) -> MocapDataset:
    """Load and check a ``data_3d_*.npz`` file.

    Raises ValueError naming the problem: a missing file or key, a wrong joint count, non-finite
    values, or a subject without cameras.
    """
    spec = dataset if isinstance(dataset, DatasetSpec) else get_dataset_spec(dataset)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"3D file {path} does not exist (expected {spec.file_3d})")
    try:
        data = load_npz(path)  # VideoPose3D's pickled dict, read without running code
        if "positions_3d" not in data:
            raise ValueError(f"{path}: expected the key 'positions_3d', found {list(data.keys())}")
        raw = data["positions_3d"].item()
    except (ValueError, AttributeError) as err:  # .item() of a non-object array: AttributeError or ValueError
        raise ValueError(f"{path}: not a readable npz file ({err})") from None
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError(f"{path}: positions_3d must be a dict {{subject: {{action: array}}}}")
    known = set(camera_subjects(spec.name))
    positions: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in raw.items():
        if not isinstance(subject, str) or subject.split("/")[-1] not in known:
            raise ValueError(f"{path}: unknown subject {subject!r}; {spec.name} has cameras for {sorted(known)}")
        positions[subject] = {}
        for action, pose in actions.items():
            if not isinstance(pose, np.ndarray) or pose.dtype.kind not in "iuf":
                raise ValueError(f"{path}: {subject}/{action} is not a numeric array")
            joints_ok = pose.ndim == 3 and pose.shape[2] == 3 and pose.shape[1] in {spec.raw_joints, spec.skeleton.num_joints}
            if not joints_ok:
                counts = " or ".join(f"(N, {j}, 3)" for j in sorted({spec.raw_joints, spec.skeleton.num_joints}, reverse=True))
                raise ValueError(f"{path}: {subject}/{action} has shape {pose.shape}; expected {counts}")
            if not np.isfinite(pose).all():
                raise ValueError(f"{path}: {subject}/{action} contains NaN or infinite values")
            if pose.shape[1] != spec.skeleton.num_joints:
                if spec.kept_joints is None:
                    raise ValueError(f"{path}: {subject}/{action} has {pose.shape[1]} joints; expected "
                                     f"{spec.skeleton.num_joints} (no reduction from {spec.raw_joints} is known)")
                pose = pose[:, np.asarray(spec.kept_joints)]
            positions[subject][action] = pose.astype(np.float32)
    return MocapDataset(spec, positions)
