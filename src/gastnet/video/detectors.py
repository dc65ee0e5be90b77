"""2D pose detection backends: anything with ``detect(frame) -> list[Detection]`` plugs in.

Two backends are built in (:func:`gastnet.video.backends.make_detector`), both BlazePose with the
weights that ship inside the ``mediapipe==0.10.21`` wheel, so both run offline:

- ``"blazepose"`` (the default when ``ai-edge-litert`` is installed): the wheel's person detector
  and landmark model run under LiteRT by :class:`gastnet.video.blazepose.BlazePoseDetector`: one
  detector pass finds everyone, then each person costs one landmark run, and people are followed
  from frame to frame so the detector runs only every few frames.
- ``"mediapipe"``: MediaPipe's own Pose solution, which follows one person;
  :class:`MultiPersonDetector` finds several with it, one full pass per person and frame.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..extras import require
from ..keypoints.convert import mediapipe_to_coco

__all__ = ["Detection", "PoseDetector", "MediaPipePoseDetector", "MultiPersonDetector", "SPARE_SLOTS", "MAX_SLOTS",
           "search_slots", "detector_name"]

SPARE_SLOTS = 2
"""People looked for beyond those that will be kept: the detector finds people in no particular order
(often the background first), so it looks for a few more and the most prominent are kept afterwards
(:func:`gastnet.keypoints.people.most_prominent`)."""
MAX_SLOTS = 10
"""Most people a :class:`MultiPersonDetector` made by :func:`search_slots` looks for (each one found
costs a backend run per frame: about 20-40 ms for MediaPipe on 1080p)."""


def search_slots(people: int) -> int:
    """How many people to look for when ``people`` will be kept: ``people`` + :data:`SPARE_SLOTS`, at most
    :data:`MAX_SLOTS` (but never fewer than ``people``).

    The spare slots cost nothing when nobody else is there: slots stop at the first that finds
    nobody, and that one looks only every ``search_every`` frames. With more people in view, each
    one found costs a backend run per frame.

    >>> search_slots(1), search_slots(4), search_slots(9), search_slots(12)
    (3, 6, 10, 12)
    """
    if isinstance(people, bool) or not isinstance(people, (int, np.integer)) or people < 1:
        raise ValueError(f"the number of people must be a whole number of at least 1, got {people!r}")
    return max(int(people), min(int(people) + SPARE_SLOTS, MAX_SLOTS))


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


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to the process's stderr (file descriptor 2) to /dev/null for a while.

    MediaPipe's C++ graph logs start-up lines (TensorFlow Lite delegates, absl warnings about its
    own models) straight to descriptor 2 the first time it runs, once per instance; they are
    not the user's concern and Python's ``warnings`` cannot catch them.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (embedded interpreters): leave it alone
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def detector_name(detector: object) -> str:
    """What to call a backend in notes: its ``name`` attribute, else its class's name."""
    return str(getattr(detector, "name", type(detector).__name__))


class MediaPipePoseDetector:
    """MediaPipe Pose (legacy solution, model complexity 1, bundled with the wheel), one person.

    Args:
        tracking: use the previous frame's pose to find the next (video); False treats every
            frame as a still image.
        min_confidence: minimum detection confidence.
    """

    def __init__(self, tracking: bool = True, min_confidence: float = 0.5) -> None:
        require("video", "2D detection with MediaPipe Pose", only=("mediapipe",))
        import mediapipe as mp

        with _native_stderr_silenced():
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=not tracking, model_complexity=1, min_detection_confidence=min_confidence,
            )
            # the graph starts its models in background threads, which log as they go: a first run
            # on a blank frame waits for them while their lines go nowhere
            self._pose.process(np.zeros((64, 64, 3), np.uint8))

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
            raise ValueError(f"expected an RGB frame (H, W, 3), got shape {frame.shape}")
        with _native_stderr_silenced():  # a model logs when it first runs (the landmarks: when someone is found)
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

    Each slot is its own backend instance (for MediaPipe: its own tracker; made when first needed), run on the frame with
    the people of the earlier slots painted over (their keypoint box grown by ``margin``). Slots
    stop at the first that finds nobody. A slot that found nobody looks again only every
    ``search_every`` frames (a newcomer is picked up within that many frames), so a video of one
    person costs about one backend run per frame, not ``max_people``. Identities across frames come
    from the tracker in :func:`gastnet.keypoints.tracks.link_detections`, not from the slot order;
    what is found is screened by :mod:`gastnet.keypoints.people` before lifting.

    The slots find people in no useful order (MediaPipe often finds someone in the background
    first), so to keep the N most prominent people look for :func:`search_slots` (N) and keep N
    with :func:`gastnet.keypoints.people.most_prominent`. Where two people overlap, the backend
    often sees one skeleton, sometimes with joints of both, and the hidden person is not found
    until they separate; the tracker leaves such skeletons to neither person.
    """

    name = "MediaPipe Pose"

    def __init__(self, max_people: int = 4, margin: float = 0.25, backend=MediaPipePoseDetector,
                 search_every: int = 10) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        if search_every < 1:
            raise ValueError(f"search_every must be at least 1, got {search_every}")
        self.max_people = max_people
        self._backend = backend
        self.slots = [backend()]  # the others are made when first needed (a MediaPipe graph takes ~0.5 s to start)
        self.margin = margin
        self.search_every = search_every
        self._found = [False] * max_people  # did each slot find someone the last time it ran
        self._frame = 0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        found: list[Detection] = []
        work = frame
        searching = self._frame % self.search_every == 0
        self._frame += 1
        for i in range(self.max_people):
            # a slot that found nobody last time waits for the next search frame
            if not (i == 0 or self._found[i] or searching):
                self._found[i:] = [False] * (self.max_people - i)
                break
            if i == len(self.slots):
                self.slots.append(self._backend())
            people = self.slots[i].detect(work)
            if not people:
                self._found[i:] = [False] * (self.max_people - i)
                break
            self._found[i] = True
            found.append(people[0])
            if i < self.max_people - 1:
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
