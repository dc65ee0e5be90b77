"""Rotations: between directions, best fits, matrices to quaternions, angles (numpy, float64).

One home for the rotation maths that the rig (:mod:`gastnet.animation.rig`), the exports
(:mod:`gastnet.animation.gltf`, the results' quaternions), the kinematic fit and the camera's
motion (:mod:`gastnet.world.camera_motion`) share. Matrices act on column vectors (``R @ x``);
quaternions are ``(x, y, z, w)`` as glTF and scipy store them.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = ["EPS", "angle_deg", "continuous_quaternions", "kabsch", "matrix_to_quaternion", "nearest_rotation",
           "rotation_between", "rotation_vectors", "unit"]

EPS = 1e-9
"""Lengths below this are treated as zero (directions of zero vectors)."""


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` (..., N) scaled to unit length along its last axis (zero vectors stay zero).

    >>> unit(np.array([3.0, 4.0])).tolist()
    [0.6, 0.8]
    """
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), EPS)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotations (..., 3, 3) turning directions ``a`` (..., 3) onto ``b`` (..., 3).

    Opposite directions turn by 180 degrees about an axis perpendicular to ``a``.

    >>> r = rotation_between(np.array([1.0, 0, 0]), np.array([0.0, 2, 0]))
    >>> np.round(r @ np.array([1.0, 0, 0]), 6).tolist(), np.round(r @ np.array([0.0, 0, 1]), 6).tolist()
    ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    """
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), EPS)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), EPS)
    v = np.cross(a, b)
    c = np.sum(a * b, -1)
    vx = np.zeros(v.shape + (3,))
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    vx = vx - np.swapaxes(vx, -1, -2)
    out = np.eye(3) + vx + vx @ vx / np.maximum(1 + c, EPS)[..., None, None]
    flipped = c < -1 + 1e-6
    if np.any(flipped):  # half turn about an axis perpendicular to a
        af = a[flipped]
        helper = np.where(np.abs(af[:, :1]) < 0.9, np.array([1.0, 0, 0]), np.array([0.0, 1, 0]))
        axis = np.cross(af, helper)
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        out[flipped] = 2 * axis[:, :, None] * axis[:, None, :] - np.eye(3)
    return out


def kabsch(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Best rotations (..., 3, 3) taking the rows of ``source`` (K, 3) onto ``target`` (..., K, 3) (least squares).

    >>> rz = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> pts = np.array([[1.0, 0, 0], [0, 2, 0], [0, 0, 3]])
    >>> bool(np.allclose(kabsch(pts, pts @ rz.T), rz))
    True
    """
    h = np.einsum("ki,...kj->...ij", source, target)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.broadcast_to(np.eye(3), h.shape).copy()
    fix[..., 2, 2] = np.where(d == 0, 1.0, d)
    return np.swapaxes(vt, -1, -2) @ fix @ np.swapaxes(u, -1, -2)


def nearest_rotation(matrices: np.ndarray) -> np.ndarray:
    """The rotations (..., 3, 3) nearest (Frobenius) to ``matrices`` (..., 3, 3), scale ignored.

    A matrix with a negative determinant (a homography is defined up to sign) is negated first.

    >>> nearest_rotation(2.0 * np.eye(3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    m = np.asarray(matrices, np.float64)
    if m.shape[-2:] != (3, 3):
        raise ValueError(f"expected matrices (..., 3, 3), got {m.shape}")
    m = m * np.sign(np.linalg.det(m))[..., None, None]
    u, _, vt = np.linalg.svd(m)
    fix = np.ones(m.shape[:-1])
    fix[..., 2] = np.sign(np.linalg.det(u @ vt))
    return (u * fix[..., None, :]) @ vt


def angle_deg(rotations: np.ndarray) -> np.ndarray:
    """Rotation angles (...) degrees of rotation matrices (..., 3, 3)."""
    cos = (np.trace(rotations, axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def rotation_vectors(rotations: np.ndarray) -> np.ndarray:
    """Axis times angle (radians) (T, 3) of rotations (T, 3, 3), as they turn the frame-0 camera's axes (``R^T``)."""
    angle = np.radians(angle_deg(rotations))
    rt = np.swapaxes(rotations, 1, 2)
    skew = np.stack([rt[:, 2, 1] - rt[:, 1, 2], rt[:, 0, 2] - rt[:, 2, 0], rt[:, 1, 0] - rt[:, 0, 1]], axis=1)
    sin = np.sin(angle)
    return skew * np.where(sin > 1e-9, angle / (2 * np.maximum(sin, 1e-9)), 0.5)[:, None]


def matrix_to_quaternion(rotations: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) ``(x, y, z, w)`` of rotation matrices (..., 3, 3), ``w >= 0``.

    >>> half_turn_z = np.diag([-1.0, -1.0, 1.0])
    >>> np.round(matrix_to_quaternion(half_turn_z), 6).tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    m = np.asarray(rotations, np.float64)
    q = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat().reshape(m.shape[:-2] + (4,))
    return np.where(q[..., 3:] < 0, -q, q)


def continuous_quaternions(quaternions: np.ndarray) -> np.ndarray:
    """Quaternions (T, ..., 4) with signs flipped so that each frame's is nearest the previous frame's."""
    if len(quaternions) < 2:
        return quaternions
    flips = np.sum(quaternions[1:] * quaternions[:-1], -1) < 0
    sign = np.concatenate([np.ones((1,) + flips.shape[1:]), np.cumprod(np.where(flips, -1.0, 1.0), 0)])
    return quaternions * sign[..., None]
