"""Checks of what lifting returns: poses that explain their 2D, finite poses, bodies of a human size.
The 2D input is checked before lifting by :mod:`gastnet.keypoints.checks`, and which tracks are
people by :mod:`gastnet.keypoints.people`.

**Not a body** (:func:`not_a_body`, a track dropped after lifting): no 3D human pose explains the
2D: the lifted pose, scaled and shifted onto the image (:func:`pose_fit_error`), misses the
keypoints by more than :data:`MAX_FIT_ERROR` of the person's height (median over frames), or by
more than :data:`DOUBTFUL_FIT_ERROR` while the detector's mean confidence is under
:data:`DOUBTFUL_SCORE`. People in the shared video get 0.04; their keypoints scrambled, 0.15-0.19;
a blob of points, 0.11-0.17; a person turned on their side, 0.12 (kept when the detector is sure).
"""

from __future__ import annotations

import numpy as np

from ..geometry.shapes import check_shape
from .results import LiftResult

__all__ = ["DOUBTFUL_FIT_ERROR", "DOUBTFUL_SCORE", "MAX_FIT_ERROR", "MAX_POSE_EXTENT_M", "check_poses", "not_a_body",
           "pose_fit_error"]

MAX_POSE_EXTENT_M = 3.0  # no joint of a lifted body is this far from its pelvis
MAX_FIT_ERROR = 0.15
"""Largest median distance between the keypoints and the fitted lifted pose, as a fraction of the person's height."""
DOUBTFUL_FIT_ERROR = 0.08
"""Largest such distance of a track whose mean confidence is under :data:`DOUBTFUL_SCORE`."""
DOUBTFUL_SCORE = 0.7


def pose_fit_error(keypoints_2d: np.ndarray, poses: np.ndarray, scores: np.ndarray | None = None) -> float:
    """How far the best scaled and shifted image of lifted poses lies from the keypoints, per person height.

    For every frame, the x, y of the root-relative 3D pose (T, J, 3) (camera frame, any unit) are
    scaled and shifted onto the 2D keypoints (T, J, 2) (pixels) by weighted least squares (weights:
    ``scores`` (T, J), floored at 0.05); the result is the median over frames of the weighted RMS
    distance divided by the 2D height. A person gets a few percent; a skeleton no human pose makes, much more.

    >>> pose = np.array([[[0.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.5, 1.0, 0.0]]])
    >>> round(pose_fit_error(pose[..., :2] * 100 + 40, pose), 6)  # an exact image
    0.0
    """
    check_shape(poses, "T J 3", "poses", check_shape(keypoints_2d, "T J 2", "keypoints"))
    w = np.ones(poses.shape[:-1]) if scores is None else np.maximum(scores, 0.05)
    w = w / w.sum(-1, keepdims=True)
    p, k = poses[..., :2], keypoints_2d
    p_mean, k_mean = (w[..., None] * p).sum(-2, keepdims=True), (w[..., None] * k).sum(-2, keepdims=True)
    pc, kc = p - p_mean, k - k_mean
    scale = (w * (pc * kc).sum(-1)).sum(-1) / np.maximum((w * (pc**2).sum(-1)).sum(-1), 1e-12)
    scale = np.maximum(scale, 0.0)  # an upside-down fit explains nothing
    residual = kc - scale[:, None, None] * pc
    rms = np.sqrt((w * (residual**2).sum(-1)).sum(-1))
    heights = k[..., 1].max(-1) - k[..., 1].min(-1)  # vertical extent of the 2D, pixels
    return float(np.median(rms / np.maximum(heights, 1e-6)))


def not_a_body(keypoints_2d: np.ndarray, poses: np.ndarray, scores: np.ndarray) -> str | None:
    """Why a lifted track (keypoints (T, 17, 2) px, root-relative poses (T, 17, 3), scores (T, 17)) is
    not a person, or None if it may be one (see the module docstring)."""
    error, confidence = pose_fit_error(keypoints_2d, poses, scores), float(scores.mean())
    if error > MAX_FIT_ERROR or (error > DOUBTFUL_FIT_ERROR and confidence < DOUBTFUL_SCORE):
        return (f"no human pose fits its keypoints (they lie {100 * error:.0f}% of its height from the best fit; "
                f"mean confidence {confidence:.2f})")
    return None


def check_poses(result: LiftResult) -> None:
    """ValueError unless every lifted pose is finite and within MAX_POSE_EXTENT_M of its pelvis."""
    for p in result.people:
        for name in ("poses_camera", "poses_camera_absolute", "poses_world"):
            poses = getattr(p, name)
            if poses is not None and not np.isfinite(poses).all():
                raise ValueError(f"lifting track {p.track_id} gave non-finite {name}; the 2D input is unusable "
                                 "(check its units and the image size)")
        relative = p.poses_camera - p.poses_camera[:, :1]
        extent = float(np.abs(relative).max()) if relative.size else 0.0
        if extent > MAX_POSE_EXTENT_M:
            raise ValueError(f"lifting track {p.track_id} gave a body with a joint {extent:.3g} m from its pelvis; "
                             f"expected under {MAX_POSE_EXTENT_M:g} m (check the 2D's units, the image size and "
                             "--person-height)")
