"""2D pose detection backends: anything with ``detect(frame) -> list[Detection]`` plugs in.

The built-in backend is MediaPipe Pose (BlazePose), whose weights ship inside the
``mediapipe==0.10.21`` wheel, so it runs offline. It follows one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..keypoints.convert import mediapipe_to_coco

__all__ = ["Detection", "PoseDetector", "MediaPipePoseDetector", "MultiPersonDetector"]


@dataclass
class Detection:
    """One person in one frame: COCO-17 ``keypoints`` (17, 2) in pixels and ``scores`` (17,) in [0, 1]."""

    keypoints: np.ndarray
    scores: np.ndarray

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) around the confident keypoints, pixels."""
        seen = self.keypoints[self.scores > 0.3] if (self.scores > 0.3).any() else self.keypoints
        (x0, y0), (x1, y1) = seen.min(0), seen.max(0)
        return float(x0), float(y0), float(x1), float(y1)


class PoseDetector(Protocol):
    """A 2D pose backend: RGB uint8 frame (H, W, 3) -> the people found in it."""

    def detect(self, frame: np.ndarray) -> list[Detection]: ...


class MediaPipePoseDetector:
    """MediaPipe Pose (legacy solution, model complexity 1, bundled with the wheel), one person.

    Args:
        tracking: use the previous frame's pose to find the next (video); False treats every
            frame as a still image.
        min_confidence: minimum detection confidence.
    """

    def __init__(self, tracking: bool = True, min_confidence: float = 0.5) -> None:
        try:
            import mediapipe as mp
        except ImportError:
            raise ValueError("2D detection needs MediaPipe: pip install 'gastnet[video]'") from None
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=not tracking, model_complexity=1, min_detection_confidence=min_confidence,
        )

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
            raise ValueError(f"expected an RGB frame (H, W, 3), got shape {frame.shape}")
        result = self._pose.process(frame)
        if result.pose_landmarks is None:
            return []
        h, w = frame.shape[:2]
        marks = np.array([(p.x * w, p.y * h, p.visibility) for p in result.pose_landmarks.landmark])
        coco = mediapipe_to_coco(marks)
        return [Detection(coco[:, :2], np.clip(coco[:, 2], 0.0, 1.0))]

    def close(self) -> None:
        self._pose.close()


class MultiPersonDetector:
    """Several people with a one-person backend: find a person, hide them, look again.

    Each slot is its own backend instance (for MediaPipe: its own tracker), run on the frame with
    the people of the earlier slots painted over (their keypoint box grown by ``margin``). Slots
    stop at the first that finds nobody. Identities across frames come from the tracker in
    :func:`gastnet.keypoints.tracks.link_detections`, not from the slot order.
    """

    def __init__(self, max_people: int = 4, margin: float = 0.25, backend=MediaPipePoseDetector) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        self.slots = [backend() for _ in range(max_people)]
        self.margin = margin

    def detect(self, frame: np.ndarray) -> list[Detection]:
        found: list[Detection] = []
        work = frame
        for slot in self.slots:
            people = slot.detect(work)
            if not people:
                break
            found.append(people[0])
            if slot is not self.slots[-1]:
                work = work.copy() if work is frame else work
                x0, y0, x1, y1 = people[0].box
                dx, dy = self.margin * (x1 - x0), self.margin * (y1 - y0)
                h, w = frame.shape[:2]
                work[max(0, int(y0 - dy)) : min(h, int(y1 + dy)), max(0, int(x0 - dx)) : min(w, int(x1 + dx))] = 127
        return found

    def close(self) -> None:
        for slot in self.slots:
            if hasattr(slot, "close"):
                slot.close()
