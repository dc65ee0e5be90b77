"""Joint layouts of common 2D detectors and how each reaches COCO-17 (and so Human3.6M-17).

Every layout maps to COCO-17 by an index table (``COCO_FROM[layout][k]`` is the layout's index
of COCO joint k). The Human3.6M-17 layout needs no conversion.
"""

from __future__ import annotations

import numpy as np

from .convert import MEDIAPIPE_TO_COCO, coco_to_h36m

__all__ = ["LAYOUTS", "COCO_FROM", "to_h36m"]

# OpenPose BODY_25: 0 nose, 1 neck, 2-4 right arm, 5-7 left arm, 8 mid-hip, 9-11 right leg,
# 12-14 left leg, 15 right eye, 16 left eye, 17 right ear, 18 left ear, 19-24 feet.
# OpenPose COCO-18: 0 nose, 1 neck, 2-4 right arm, 5-7 left arm, 8-10 right leg, 11-13 left leg,
# 14 right eye, 15 left eye, 16 right ear, 17 left ear.
# Halpe-26: the first 17 are COCO-17; then head, neck, hip and the feet.
COCO_FROM: dict[str, tuple[int, ...]] = {
    "coco": tuple(range(17)),
    "halpe26": tuple(range(17)),
    "mediapipe": MEDIAPIPE_TO_COCO,
    "openpose25": (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11),
    "openpose18": (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10),
}

LAYOUTS: dict[str, int] = {"h36m": 17, "coco": 17, "halpe26": 26, "mediapipe": 33, "openpose25": 25, "openpose18": 18}
"""Layout name -> number of joints."""


def to_h36m(keypoints: np.ndarray, scores: np.ndarray | None, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (..., J, 2) and scores (..., J) of ``layout`` to Human3.6M-17 (..., 17, 2), (..., 17)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown keypoint layout {layout!r}; expected one of {sorted(LAYOUTS)}")
    keypoints = np.asarray(keypoints, dtype=np.float64)
    joints = LAYOUTS[layout]
    if keypoints.ndim < 2 or keypoints.shape[-2:] != (joints, 2):
        raise ValueError(f"layout {layout!r} has {joints} joints: expected keypoints (..., {joints}, 2), got {keypoints.shape}")
    scores = np.ones(keypoints.shape[:-1]) if scores is None else np.asarray(scores, dtype=np.float64)
    if layout == "h36m":
        return keypoints, scores
    index = list(COCO_FROM[layout])
    return coco_to_h36m(keypoints[..., index, :], scores[..., index])
