"""The built-in 2D backends by name: ``"blazepose"`` (:mod:`gastnet.video.blazepose`, the default)
and ``"mediapipe"`` (:class:`gastnet.video.detectors.MultiPersonDetector`)."""

from __future__ import annotations

from .blazepose import BlazePoseDetector, litert_available
from .detectors import MultiPersonDetector, search_slots

__all__ = ["DETECTORS", "make_detector"]

DETECTORS = ("blazepose", "mediapipe")
"""The built-in backends' names (:func:`make_detector`)."""


def make_detector(name: str | None = None, people: int = 4) -> BlazePoseDetector | MultiPersonDetector:
    """A built-in backend that looks for :func:`search_slots` (``people``) people a frame.

    Args:
        name: ``"blazepose"`` (LiteRT, one detector pass for everyone), ``"mediapipe"`` (MediaPipe
            Pose, one pass per person) or None: ``"blazepose"`` when ``ai-edge-litert`` is
            installed, else ``"mediapipe"``.
        people: how many people will be kept.
    """
    if name is None:
        name = "blazepose" if litert_available() else "mediapipe"
    if name == "blazepose":
        return BlazePoseDetector(max_people=search_slots(people))
    if name == "mediapipe":
        return MultiPersonDetector(search_slots(people))
    raise ValueError(f"unknown detector {name!r}; expected one of {', '.join(DETECTORS)}")
