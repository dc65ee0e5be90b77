"""Convert detector keypoints to the Human3.6M-17 layout the models take.

COCO-17 joints copy straight to their Human3.6M counterparts; the pelvis, spine, thorax and head
do not exist in COCO and are synthesised (documented rules, arrays of any leading shape):

- pelvis (0) = midpoint of the hips; thorax (8) = midpoint of the shoulders;
- spine (7) = midpoint of pelvis and thorax; neck/nose (9) = the nose;
- head top (10) = the nose moved 3x the nose-to-eyes offset upwards (the eyes sit about a third of
  the way from the nose to the top of the head); without both eyes, the nose moved away from the
  thorax by half the thorax-to-nose distance.

A synthesised joint's confidence is the lowest confidence of the joints it is made from.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COCO_17", "MEDIAPIPE_TO_COCO", "coco_to_h36m", "mediapipe_to_coco"]

COCO_17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)
"""COCO-17 keypoint order (left/right are the person's own)."""

MEDIAPIPE_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""For each COCO-17 joint, its index among MediaPipe Pose's 33 landmarks."""

# Human3.6M-17 index <- COCO-17 index, for the joints that exist in both
_H36M_FROM_COCO = {1: 12, 2: 14, 3: 16, 4: 11, 5: 13, 6: 15, 9: 0, 11: 5, 12: 7, 13: 9, 14: 6, 15: 8, 16: 10}


def mediapipe_to_coco(landmarks: np.ndarray) -> np.ndarray:
    """MediaPipe Pose landmarks (..., 33, C) to COCO-17 order (..., 17, C)."""
    landmarks = np.asarray(landmarks)
    if landmarks.shape[-2] != 33:
        raise ValueError(f"expected MediaPipe landmarks of shape (..., 33, C), got {landmarks.shape}")
    return landmarks[..., list(MEDIAPIPE_TO_COCO), :]


def coco_to_h36m(keypoints: np.ndarray, scores: np.ndarray | None = None,
                 min_eye_score: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 keypoints (..., 17, 2) and scores (..., 17) to Human3.6M-17 (..., 17, 2) and (..., 17).

    >>> kp = np.zeros((17, 2)); kp[11], kp[12], kp[5], kp[6] = (2, 10), (4, 10), (1, 4), (5, 4)
    >>> h36m, _ = coco_to_h36m(kp)
    >>> h36m[0].tolist(), h36m[8].tolist(), h36m[7].tolist()
    ([3.0, 10.0], [3.0, 4.0], [3.0, 7.0])
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape[-2:] != (17, 2):
        raise ValueError(f"expected COCO-17 keypoints of shape (..., 17, 2), got {kp.shape}")
    sc = np.ones(kp.shape[:-1]) if scores is None else np.asarray(scores, dtype=np.float64)
    if sc.shape != kp.shape[:-1]:
        raise ValueError(f"expected scores of shape {kp.shape[:-1]}, got {sc.shape}")
    out = np.zeros_like(kp)
    out_scores = np.zeros_like(sc)
    for h36m, coco in _H36M_FROM_COCO.items():
        out[..., h36m, :] = kp[..., coco, :]
        out_scores[..., h36m] = sc[..., coco]
    out[..., 0, :] = (kp[..., 11, :] + kp[..., 12, :]) / 2
    out_scores[..., 0] = np.minimum(sc[..., 11], sc[..., 12])
    out[..., 8, :] = (kp[..., 5, :] + kp[..., 6, :]) / 2
    out_scores[..., 8] = np.minimum(sc[..., 5], sc[..., 6])
    out[..., 7, :] = (out[..., 0, :] + out[..., 8, :]) / 2
    out_scores[..., 7] = np.minimum(out_scores[..., 0], out_scores[..., 8])
    nose, eyes = kp[..., 0, :], (kp[..., 1, :] + kp[..., 2, :]) / 2
    eyes_seen = np.minimum(sc[..., 1], sc[..., 2]) >= min_eye_score
    from_eyes = nose + 3.0 * (eyes - nose)
    from_thorax = nose + 0.5 * (nose - out[..., 8, :])
    out[..., 10, :] = np.where(eyes_seen[..., None], from_eyes, from_thorax)
    out_scores[..., 10] = np.where(eyes_seen, np.minimum(sc[..., 0], np.minimum(sc[..., 1], sc[..., 2])),
                                   np.minimum(sc[..., 0], out_scores[..., 8]))
    return out, out_scores
