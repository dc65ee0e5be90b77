"""Fast skeleton drawing with OpenCV: 2D keypoints on a frame, a 3D pose in a side panel.

Frames are RGB uint8 (H, W, 3) and are drawn on in place. Left limbs are drawn in one colour,
right limbs in another, the rest in a third.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Skeleton
from .reader import require_cv2

__all__ = ["draw_skeleton_2d", "render_pose_3d", "side_by_side"]

LEFT, RIGHT, CENTRE = (60, 140, 255), (255, 90, 60), (230, 230, 230)


def _bone_colour(skeleton: Skeleton, child: int) -> tuple[int, int, int]:
    if child in skeleton.joints_left:
        return LEFT
    if child in skeleton.joints_right:
        return RIGHT
    return CENTRE


def draw_skeleton_2d(frame: np.ndarray, keypoints: np.ndarray, skeleton: Skeleton,
                     scores: np.ndarray | None = None, min_score: float = 0.3) -> np.ndarray:
    """Draw bones and joints of ``keypoints`` (J, 2) pixels on ``frame``; low-score bones are skipped."""
    cv2 = require_cv2()
    thickness = max(2, frame.shape[1] // 400)
    pts = np.round(keypoints).astype(int)
    for child, parent in skeleton.bones():
        if scores is not None and min(scores[child], scores[parent]) < min_score:
            continue
        cv2.line(frame, tuple(pts[child]), tuple(pts[parent]), _bone_colour(skeleton, child), thickness, cv2.LINE_AA)
    for j, p in enumerate(pts):
        if scores is None or scores[j] >= min_score:
            cv2.circle(frame, tuple(p), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return frame


def render_pose_3d(pose: np.ndarray | None, skeleton: Skeleton, size: int = 480, azimuth_deg: float = 30.0,
                   extent_m: float = 1.1) -> np.ndarray:
    """A (size, size, 3) RGB panel with a root-relative camera-frame pose (J, 3) in metres.

    The pose is turned by ``azimuth_deg`` about the vertical axis and drawn orthographically in a
    fixed box of ``extent_m`` metres around the root, over a ground grid.
    """
    cv2 = require_cv2()
    panel = np.full((size, size, 3), 24, np.uint8)
    scale = size / (2 * extent_m)
    centre = np.array([size / 2, size / 2])
    for k in np.linspace(-extent_m, extent_m, 9):  # grid lines for orientation
        a = np.round(centre + scale * np.array([k, -extent_m])).astype(int)
        b = np.round(centre + scale * np.array([k, extent_m])).astype(int)
        cv2.line(panel, tuple(a), tuple(b), (50, 50, 50), 1)
        cv2.line(panel, tuple(a[::-1]), tuple(b[::-1]), (50, 50, 50), 1)
    if pose is None:
        cv2.putText(panel, "no person", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (200, 200, 200), 2)
        return panel
    a = np.deg2rad(azimuth_deg)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    view = (np.asarray(pose) - pose[skeleton.root]) @ turn.T  # camera frame: x right, y down
    pts = np.round(centre + scale * view[:, :2]).astype(int)
    for child, parent in skeleton.bones():
        cv2.line(panel, tuple(pts[child]), tuple(pts[parent]), _bone_colour(skeleton, child), 3, cv2.LINE_AA)
    return panel


def side_by_side(frame: np.ndarray, panel: np.ndarray) -> np.ndarray:
    """The frame with the panel scaled to its height on the right: (H, W + H, 3)."""
    cv2 = require_cv2()
    h = frame.shape[0]
    return np.concatenate([frame, cv2.resize(panel, (h, h), interpolation=cv2.INTER_AREA)], axis=1)
