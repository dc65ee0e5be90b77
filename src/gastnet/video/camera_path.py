"""The path of a camera that moves through space, from the floor it sees and the camera's height above it.

A homography of the background cannot tell how far a camera moved. The floor can, once its plane
is known: for points on a plane ``n . X = d`` (camera coordinates, ``n`` the unit normal pointing
from the camera toward the plane, ``d`` the camera's height above it in metres) seen from two
camera poses ``X_2 = R X_1 + t``, the image motion is the homography ``K (R + t n^T / d) K^-1``,
so the translation comes out in metres. :func:`recover_camera_path` fits that homography to the
tracked background points below the horizon (RANSAC: the floor is the plane most of them lie on;
people are masked out by the tracker), decomposes it (``cv2.decomposeHomographyMat``, keeping the
solution whose plane normal agrees with the known floor) and chains the poses over the tracker's
keyframes (a plane whose normal is not the floor's, a wall low in the image, is left out and the
fit tried again). The floor (``n``, ``d``) comes from the people: the plane their feet stand on, fitted in
the first frame's camera (:func:`gastnet.world.placement.place_in_world`), so the scale is the
people's (their lifted size) and a 10% error in the camera's height is a 10% error in its path.

Limits: it needs floor texture tracked below the horizon in most frames (a plain floor, or people
covering it, leave frames unmeasured: their pose is held from the frame before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..world.camera_motion import CameraMotion, intrinsics
from .reader import require_cv2

__all__ = ["MIN_FLOOR_POINTS", "CameraPath", "recover_camera_path"]

MIN_FLOOR_POINTS = 8
"""A frame's pose is measured when at least this many tracked points lie below the horizon."""

_HORIZON_MARGIN_DEG = 3.0  # points within this of the horizon are not taken for the floor
_NORMAL_TOL_DEG = 10.0  # a plane whose normal is this close to the floor's is the floor


@dataclass(frozen=True)
class CameraPath:
    """Each frame's camera pose relative to the first frame's camera (T frames).

    ``rotations`` (T, 3, 3) and ``translations`` (T, 3) metres: ``X_cam_t = R_t @ X_cam_0 + t_t``;
    ``measured`` (T,) bool: False where the pose was held from the frame before.
    """

    rotations: np.ndarray
    translations: np.ndarray
    measured: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        """(T, 3) metres: each frame's camera centre in the first frame's camera coordinates."""
        return -np.einsum("tji,tj->ti", self.rotations, self.translations)

    @property
    def length_m(self) -> float:
        """How far the camera travelled (metres, summed over frames)."""
        return float(np.linalg.norm(np.diff(self.centres, axis=0), axis=-1).sum())

    def to_reference_frame(self, points: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Points (N, ..., 3) metres in the cameras of ``frames`` (N,) put into the first frame's camera."""
        points, frames = np.asarray(points, np.float64), np.asarray(frames)
        if points.ndim < 2 or points.shape[-1] != 3 or frames.shape != points.shape[:1]:
            raise ValueError(f"expected points (N, ..., 3) with N frame numbers, got {points.shape} and {frames.shape}")
        flat = points.reshape(len(points), -1, 3) - self.translations[frames][:, None]
        return np.einsum("tji,tnj->tni", self.rotations[frames], flat).reshape(points.shape)


def _floor_motion(cv2: Any, before: np.ndarray, now: np.ndarray, k: np.ndarray, normal: np.ndarray, ransac_px: float
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """(R, t / d) of the plane with ``normal`` (3,) among point pairs (N, 2) pixels: the plane most points
    lie on whose normal is within :data:`_NORMAL_TOL_DEG` of ``normal`` (a wall low in the image is
    fitted, then left out, up to three times); None if there is none."""
    for _ in range(3):
        if len(before) < MIN_FLOOR_POINTS:
            return None
        homography, mask = cv2.findHomography(before, now, cv2.RANSAC, ransac_px)
        if homography is None or mask is None:
            return None
        _, turns, shifts, normals = cv2.decomposeHomographyMat(homography, k)
        agree = [float(np.ravel(n) @ normal) for n in normals]
        best = int(np.argmax(agree))
        if agree[best] >= math.cos(math.radians(_NORMAL_TOL_DEG)):
            return np.asarray(turns[best]), np.ravel(shifts[best])
        keep = mask[:, 0] == 0
        before, now = before[keep], now[keep]
    return None


def recover_camera_path(motion: CameraMotion, focal: float, floor_normal: np.ndarray, height: float,
                        ransac_px: float = 1.5) -> CameraPath:
    """The camera's pose in every frame (:class:`CameraPath`) from the background points the tracker followed.

    ``focal`` (pixels, full size; principal point at the image centre); ``floor_normal`` (3,) the
    floor's unit normal in the first frame's camera, pointing down (from the camera to the floor);
    ``height`` (metres) the first frame's camera centre above the floor; ``ransac_px`` the floor
    homography's inlier threshold (full-size pixels)."""
    cv2 = require_cv2()
    tracks = motion.tracks
    frames = len(motion)
    if len(tracks) != frames:
        raise ValueError(f"the motion holds tracked points for {len(tracks)} of its {frames} frames: measure it with "
                         "CameraMotionEstimator")
    normal = np.asarray(floor_normal, np.float64)
    if normal.shape != (3,) or not np.isfinite(normal).all() or np.linalg.norm(normal) == 0:
        raise ValueError(f"floor_normal must be a non-zero finite 3-vector, got {floor_normal!r}")
    if not (math.isfinite(height) and height > 0 and math.isfinite(focal) and focal > 0):
        raise ValueError(f"expected a positive height (m) and focal length (px), got {height} and {focal}")
    normal = normal / np.linalg.norm(normal)
    w, h = motion.image_size
    k = intrinsics(focal, (w, h))
    k_inv = np.linalg.inv(k)
    keys = motion.keyframes
    rotations, translations = np.tile(np.eye(3), (frames, 1, 1)), np.zeros((frames, 3))
    measured = np.zeros(frames, bool)
    measured[0] = True
    below = math.sin(math.radians(_HORIZON_MARGIN_DEG))
    for t in range(1, frames):
        key = int(keys[t])
        rotations[t], translations[t] = rotations[t - 1], translations[t - 1]
        before, now = tracks[t]
        if len(before) < MIN_FLOOR_POINTS:
            continue
        n_key = rotations[key] @ normal  # the floor in the keyframe's camera
        d_key = height + n_key @ translations[key]
        rays = np.c_[before, np.ones(len(before))] @ k_inv.T
        floor = rays @ n_key > below * np.linalg.norm(rays, axis=1)
        if floor.sum() < MIN_FLOOR_POINTS or d_key <= 0:
            continue
        found = _floor_motion(cv2, before[floor], now[floor], k, n_key, ransac_px)
        if found is None:
            continue
        turn, shift = found
        rotations[t] = turn @ rotations[key]
        translations[t] = turn @ translations[key] + shift * d_key
        measured[t] = True
    return CameraPath(rotations, translations, measured)
