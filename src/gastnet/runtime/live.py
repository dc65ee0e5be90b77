"""The real-time loop: frames -> 2D detection -> streaming 3D lifting, one frame at a time."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..geometry.camera import normalize_screen_coordinates
from ..keypoints.convert import coco_to_h36m
from .streaming import StreamingLifter

__all__ = ["LiveFrame", "live_poses"]


@dataclass
class LiveFrame:
    """One processed frame: Human3.6M-17 ``keypoints`` (17, 2) pixels and ``scores``, the 3D ``pose``
    (17, 3) root-relative camera frame in metres (None when nobody was found) and ``seconds`` per stage."""

    index: int
    frame: np.ndarray
    keypoints: np.ndarray | None
    scores: np.ndarray | None
    pose: np.ndarray | None
    seconds: dict[str, float] = field(default_factory=dict)


def live_poses(frames: Iterable[np.ndarray], detector, lifter: StreamingLifter, width: int, height: int,
               forget_after: int = 30) -> Iterator[LiveFrame]:
    """Detect and lift every frame as it comes (zero frames of look-ahead).

    The first person the detector reports is followed; after ``forget_after`` frames without a
    person the lifter's history is reset, so a new person does not inherit an old past.
    """
    missing = 0
    for index, frame in enumerate(frames):
        start = time.perf_counter()
        people = detector.detect(frame)
        detected = time.perf_counter()
        keypoints = scores = pose = None
        if people:
            missing = 0
            keypoints, scores = coco_to_h36m(people[0].keypoints, people[0].scores)
            inputs = normalize_screen_coordinates(keypoints.astype(np.float32), width, height)
            pose = lifter.push(inputs).numpy()
        else:
            missing += 1
            if missing == forget_after:
                lifter.reset()
        lifted = time.perf_counter()
        yield LiveFrame(index, frame, keypoints, scores, pose, {"detect": detected - start, "lift": lifted - detected})
