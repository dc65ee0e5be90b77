"""Calibrated cameras of the supported datasets, shipped with the package.

The numbers are the public calibrations of Human3.6M (4 cameras, intrinsics with distortion,
extrinsics per subject) and HumanEva-I (3 cameras, extrinsics only). The maths lives in
:mod:`gastnet.geometry.camera`; this module only holds parameters.

>>> cams = dataset_cameras("h36m", "S9")
>>> [c.id for c in cams], cams[0].width, cams[0].height
(['54138969', '55011271', '58860488', '60457274'], 1000, 1002)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..geometry import camera as cam

__all__ = ["Camera", "dataset_cameras", "camera_subjects"]


@dataclass(frozen=True)
class Camera:
    """One calibrated camera.

    ``orientation`` (w, x, y, z) rotates camera into world coordinates, ``translation`` is the
    camera centre in world metres. Intrinsics are in pixels and may be absent (HumanEva-I).
    """

    id: str
    width: int
    height: int
    orientation: np.ndarray
    translation: np.ndarray
    focal_length: np.ndarray | None = None
    center: np.ndarray | None = None
    radial_distortion: np.ndarray | None = None
    tangential_distortion: np.ndarray | None = None
    azimuth_deg: float = 0.0

    @property
    def has_intrinsics(self) -> bool:
        return self.focal_length is not None and self.center is not None

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """World metres (..., 3) to this camera's frame (..., 3)."""
        return cam.world_to_camera(points, self.orientation.astype(points.dtype), self.translation.astype(points.dtype))

    def camera_to_world(self, points: np.ndarray) -> np.ndarray:
        return cam.camera_to_world(points, self.orientation.astype(points.dtype), self.translation.astype(points.dtype))

    def project(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame metres (..., 3) to distorted pixel coordinates (..., 2)."""
        if not self.has_intrinsics:
            raise ValueError(f"camera {self.id} has no intrinsics, so it cannot project points")
        dt = points.dtype
        focal_length, center = self.focal_length, self.center
        assert focal_length is not None and center is not None  # has_intrinsics
        radial = np.zeros(3) if self.radial_distortion is None else self.radial_distortion
        tangential = np.zeros(2) if self.tangential_distortion is None else self.tangential_distortion
        return cam.project_to_2d(points, focal_length.astype(dt), center.astype(dt), radial.astype(dt), tangential.astype(dt))

    def normalize(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels (..., 2) to the network's normalised screen coordinates."""
        return cam.normalize_screen_coordinates(pixels, self.width, self.height)


def _array(values) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float64)


@functools.cache
def _load(dataset: str) -> dict[str, tuple[Camera, ...]]:
    try:
        text = resources.files("gastnet.data").joinpath("calibration").joinpath(f"{dataset}.json").read_text()
    except FileNotFoundError:
        raise ValueError(f"no cameras ship for dataset {dataset!r}; expected 'h36m' or 'humaneva'") from None
    data = json.loads(text)
    result = {}
    for subject, extrinsics in data["extrinsics"].items():
        cams = []
        for intr, extr in zip(data["intrinsics"], extrinsics):
            cams.append(
                Camera(
                    id=str(intr["id"]),
                    width=int(intr["res_w"]),
                    height=int(intr["res_h"]),
                    orientation=np.asarray(extr["orientation_wxyz"], dtype=np.float64),
                    translation=np.asarray(extr["translation_m"], dtype=np.float64),
                    focal_length=_array(intr.get("focal_length")),
                    center=_array(intr.get("center")),
                    radial_distortion=_array(intr.get("radial_distortion", [0.0, 0.0, 0.0])),
                    tangential_distortion=_array(intr.get("tangential_distortion", [0.0, 0.0])),
                    azimuth_deg=float(intr.get("azimuth_deg", 0.0)),
                )
            )
        result[subject] = tuple(cams)
    return result


def camera_subjects(dataset: str) -> list[str]:
    """Subjects with calibrated cameras, e.g. ``['S1', 'S11', ...]``."""
    return sorted(_load(dataset))


def dataset_cameras(dataset: str, subject: str) -> tuple[Camera, ...]:
    """The cameras of ``subject`` in the dataset's standard order.

    HumanEva-I subjects may carry their split prefix (``"Validate/S1"``): the cameras are the same.
    """
    cams = _load(dataset)
    key = subject.split("/")[-1]
    if key not in cams:
        raise ValueError(f"unknown subject {subject!r} for {dataset}; cameras exist for {camera_subjects(dataset)}")
    return cams[key]
