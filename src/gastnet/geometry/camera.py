"""Camera maths, all in one place: rotations, world <-> camera, projection, screen normalisation.

Every function accepts numpy arrays or torch tensors (and keeps the type), broadcasts over
leading axes and is differentiable in torch.

Conventions (Human3.6M / VideoPose3D): a camera's ``orientation`` is a unit quaternion
``(w, x, y, z)`` that rotates camera coordinates into world coordinates and ``translation`` is
the camera centre in world coordinates, so ``X_world = rotate(q, X_cam) + t``. The camera looks
along +z, x to the right and y down in the image. Lengths are metres, image coordinates pixels.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import torch

__all__ = [
    "DEFAULT_FOV_DEG",
    "fov_from_focal",
    "focal_from_fov",
    "quaternion_rotate",
    "quaternion_conjugate",
    "world_to_camera",
    "camera_to_world",
    "project_to_2d",
    "normalize_screen_coordinates",
    "image_coordinates",
    "fov_to_focal",
    "look_at",
]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _like(points: ArrayT, values) -> ArrayT:
    """``values`` as an array of the same kind, dtype and device as ``points``."""
    if isinstance(points, torch.Tensor):
        return torch.as_tensor(values, dtype=points.dtype, device=points.device)
    return np.asarray(values, dtype=points.dtype)


def _cat(parts: list[ArrayT], axis: int) -> ArrayT:
    return torch.cat(parts, dim=axis) if isinstance(parts[0], torch.Tensor) else np.concatenate(parts, axis=axis)


def _cross(a: ArrayT, b: ArrayT) -> ArrayT:
    if isinstance(a, torch.Tensor):
        a, b = torch.broadcast_tensors(a, b)
        return torch.linalg.cross(a, b, dim=-1)
    return np.cross(a, b)


def _check_last(x: ArrayT, size: int, what: str) -> None:
    if x.shape[-1] != size:
        raise ValueError(f"expected {what} of shape (..., {size}), got {tuple(x.shape)}")


def quaternion_conjugate(q: ArrayT) -> ArrayT:
    """The inverse rotation of a unit quaternion ``(w, x, y, z)``: ``(w, -x, -y, -z)``."""
    _check_last(q, 4, "quaternions")
    return q * _like(q, [1.0, -1.0, -1.0, -1.0])


def quaternion_rotate(q: ArrayT, v: ArrayT) -> ArrayT:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4) in ``(w, x, y, z)`` order.

    >>> q = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])  # 90 degrees about z
    >>> np.round(quaternion_rotate(q, np.array([1.0, 0.0, 0.0])), 6).tolist()
    [0.0, 1.0, 0.0]
    """
    _check_last(q, 4, "quaternions")
    _check_last(v, 3, "vectors")
    w, u = q[..., :1], q[..., 1:]
    uv = _cross(u, v)
    return v + 2 * (w * uv + _cross(u, uv))


def world_to_camera(points: ArrayT, orientation: ArrayT, translation: ArrayT) -> ArrayT:
    """World coordinates (..., 3) to camera coordinates: ``rotate(conj(q), X - t)``."""
    return quaternion_rotate(quaternion_conjugate(orientation), points - translation)


def camera_to_world(points: ArrayT, orientation: ArrayT, translation: ArrayT) -> ArrayT:
    """Camera coordinates (..., 3) to world coordinates: ``rotate(q, X) + t``.

    >>> q, t = np.array([0.5, -0.5, 0.5, -0.5]), np.array([1.0, 2.0, 3.0])
    >>> x = np.array([0.3, -0.2, 4.0])
    >>> np.allclose(world_to_camera(camera_to_world(x, q, t), q, t), x)
    True
    """
    return quaternion_rotate(orientation, points) + translation


def project_to_2d(
    points: ArrayT,
    focal_length: ArrayT,
    center: ArrayT,
    radial_distortion: ArrayT | None = None,
    tangential_distortion: ArrayT | None = None,
) -> ArrayT:
    """Project camera-frame points (..., 3) to the image (..., 2) with lens distortion.

    With ``(u, v) = (x / z, y / z)`` and ``r^2 = u^2 + v^2``: the radial factor is
    ``1 + k1 r^2 + k2 r^4 + k3 r^6``, the tangential term ``p . (u, v)`` scales the point too and
    ``p r^2`` is added (VideoPose3D's form, which made the standard Human3.6M 2D files); then
    ``f * (u', v') + c``. Units follow ``focal_length`` and ``center`` (pixels, or normalised
    screen units). Without distortion it is a plain pinhole projection.

    >>> project_to_2d(np.array([0.5, -0.25, 2.0]), np.array([1000.0, 1000.0]), np.array([500.0, 400.0])).tolist()
    [750.0, 275.0]
    """
    _check_last(points, 3, "camera-frame points")
    uv = points[..., :2] / points[..., 2:]
    if radial_distortion is None and tangential_distortion is None:
        return focal_length * uv + center
    k = radial_distortion if radial_distortion is not None else _like(points, [0.0, 0.0, 0.0])
    p = tangential_distortion if tangential_distortion is not None else _like(points, [0.0, 0.0])
    r2 = (uv**2).sum(-1, keepdims=True) if isinstance(uv, np.ndarray) else (uv**2).sum(-1, keepdim=True)
    powers = _cat([r2, r2**2, r2**3], axis=-1)
    radial = 1 + (k * powers).sum(-1)[..., None]
    tangential = (p * uv).sum(-1)[..., None]
    return focal_length * (uv * (radial + tangential) + p * r2) + center


def normalize_screen_coordinates(points: ArrayT, width: float, height: float) -> ArrayT:
    """Pixels to the network's input range: ``x' = 2x/w - 1``, ``y' = 2y/w - h/w``.

    x spans [-1, 1] across the image and y keeps the aspect ratio.

    >>> normalize_screen_coordinates(np.array([[0.0, 0.0], [1000.0, 500.0]]), 1000, 1000).tolist()
    [[-1.0, -1.0], [1.0, 0.0]]
    """
    _check_last(points, 2, "pixel coordinates")
    if not (width > 0 and height > 0):
        raise ValueError(f"image size must be positive, got {width} x {height}")
    return points / width * 2 - _like(points, [1.0, height / width])


def image_coordinates(points: ArrayT, width: float, height: float) -> ArrayT:
    """Inverse of :func:`normalize_screen_coordinates`: normalised coordinates to pixels.

    >>> image_coordinates(np.array([[1.0, 0.0]]), 1000, 1000).tolist()
    [[1000.0, 500.0]]
    """
    _check_last(points, 2, "normalised coordinates")
    if not (width > 0 and height > 0):
        raise ValueError(f"image size must be positive, got {width} x {height}")
    return (points + _like(points, [1.0, height / width])) * width / 2


DEFAULT_FOV_DEG = 65.0
"""Field of view (degrees) across the long side of the image assumed when the lens is unknown.

A phone's main camera is ~26 mm full-frame equivalent: 2 atan(37.7 / 2 / 26) = 72 degrees across
the long side of a 16:9 frame, and video modes crop a few percent more for stabilisation (~65-70);
ordinary webcams (~78 degrees diagonal) have ~60-70 across. The depth found scales with the focal
length, so a 10% wrong focal length gives people 10% too far or too near and the camera too high
or too low by as much."""

def fov_to_focal(fov_deg: float, aspect: float) -> float:
    """Normalised focal length f_n of a lens with ``fov_deg`` across the long side of a ``aspect`` image.

    >>> round(fov_to_focal(90.0, 16 / 9), 6)
    1.0
    """
    long_side = 1.0 if aspect >= 1 else 1.0 / aspect
    return long_side / math.tan(math.radians(fov_deg) / 2)


def focal_from_fov(fov_deg: float, image_size: tuple[float, float]) -> float:
    """Focal length (pixels) of a pinhole camera whose ``fov_deg`` spans the long side of ``image_size`` (w, h).

    >>> round(focal_from_fov(90.0, (1920, 1080)), 6)
    960.0
    """
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
    if min(image_size) <= 0:
        raise ValueError(f"image size must be positive, got {image_size}")
    width, height = image_size
    return fov_to_focal(fov_deg, width / height) * width / 2.0  # normalised focal length to pixels


def fov_from_focal(focal_px: float, image_size: tuple[int, int]) -> float:
    """Field of view (degrees) across the long side of ``image_size`` (w, h) of a focal length in pixels.

    >>> round(fov_from_focal(960.0, (1920, 1080)), 6)
    90.0
    """
    if not (focal_px > 0 and math.isfinite(focal_px)):
        raise ValueError(f"focal length must be a positive number of pixels, got {focal_px}")
    if min(image_size) <= 0:
        raise ValueError(f"image size must be positive, got {image_size}")
    return math.degrees(2 * math.atan(max(image_size) / 2 / focal_px))


def look_at(eye: torch.Tensor, target: torch.Tensor, roll: torch.Tensor | None = None) -> torch.Tensor:
    """World-to-camera rotations (..., 3, 3) of cameras at ``eye`` (..., 3) looking at ``target``.

    World z is up. The camera's rows are its axes in world coordinates: x right, y down (level
    with the horizon, then turned by ``roll`` radians (...) about the viewing axis), z along
    ``target - eye``; so ``X_cam = R @ (X_world - eye)``. Looking straight up or down is undefined.

    >>> R = look_at(torch.tensor([0.0, -5.0, 1.0]), torch.tensor([0.0, 0.0, 1.0]))
    >>> R.round(decimals=6).tolist()  # looking along world +y: right is +x, down is -z
    [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]
    """
    _check_last(eye, 3, "camera centres")
    _check_last(target, 3, "look-at targets")
    forward = torch.nn.functional.normalize(target - eye, dim=-1)
    up = torch.zeros_like(forward)
    up[..., 2] = 1.0
    right = torch.nn.functional.normalize(torch.linalg.cross(forward, up, dim=-1), dim=-1)
    down = torch.linalg.cross(forward, right, dim=-1)
    if roll is not None:
        c, s = torch.cos(roll)[..., None], torch.sin(roll)[..., None]
        right, down = c * right + s * down, c * down - s * right
    return torch.stack([right, down, forward], dim=-2)
