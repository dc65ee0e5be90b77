"""2D people in every frame of a video or image folder, linked into tracks (the input of lifting).

Frames come from :mod:`gastnet.video.reader`, people from any backend of
:mod:`gastnet.video.detectors` (MediaPipe Pose by default); their COCO-17 keypoints become
Human3.6M-17 (:mod:`gastnet.keypoints.convert`) and are linked into tracks
(:func:`gastnet.keypoints.tracks.link_detections`). ``gastnet.lift`` lifts what comes out.
"""

from __future__ import annotations

import time

from tqdm.auto import tqdm

from ..keypoints.convert import coco_to_h36m
from ..keypoints.files import KeypointFile
from ..keypoints.tracks import link_detections
from . import reader
from .detectors import MultiPersonDetector

__all__ = ["detect_video"]


def detect_video(source, max_people: int = 4, progress: bool = False,
                 timings: dict[str, float] | None = None, detector=None) -> tuple[KeypointFile, float]:
    """2D people in every frame of a video or image folder, linked into tracks.

    ``detector``: any object with ``detect(rgb_frame) -> list[Detection]`` (COCO-17 keypoints in
    pixels); by default MediaPipe Pose finding up to ``max_people``. ``timings`` (if given)
    receives the seconds spent decoding and detecting."""
    video = reader.open_source(source)  # looked up at each call: tests stand in for it
    own_detector = detector is None
    detector = MultiPersonDetector(max_people) if own_detector else detector
    frames = []
    spent = {"decode": 0.0, "detect": 0.0}
    with video:
        frame_iter = iter(video)
        bar = tqdm(total=video.frame_count, desc="detect 2D", unit="frame", disable=not progress)
        while True:
            start = time.perf_counter()
            frame = next(frame_iter, None)
            decoded = time.perf_counter()
            if frame is None:
                break
            frames.append([coco_to_h36m(p.keypoints, p.scores) for p in detector.detect(frame)])
            spent["decode"] += decoded - start
            spent["detect"] += time.perf_counter() - decoded
            bar.update(1)
        if bar.total != len(frames):  # containers often state a wrong frame count: end the bar at what was read
            bar.total = len(frames)
            bar.refresh()
        bar.close()
    if own_detector:
        detector.close()
    if timings is not None:
        timings.update(spent)
    if not frames:
        raise ValueError(f"{video.name}: no frames")
    tracks = link_detections(frames)
    if not tracks:
        raise ValueError(f"{video.name}: nobody was detected in {len(frames)} frames")
    backend = "MediaPipe Pose" if own_detector else type(detector).__name__
    notes = []
    if video.frame_count is not None and len(frames) < video.frame_count:
        notes.append(f"read {len(frames)} of the {video.frame_count} frames the file announces "
                     "(a truncated or damaged video): lifted what was read")
    return KeypointFile(tracks, len(frames), (video.width, video.height), f"video ({backend})", video.focal_length,
                        notes), video.fps
