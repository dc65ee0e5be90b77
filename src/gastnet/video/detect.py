"""2D people in every frame of a video or image folder, linked into tracks (the input of lifting).

Frames come from :mod:`gastnet.video.reader`, people from any backend of
:mod:`gastnet.video.detectors` (BlazePose under LiteRT by default:
:func:`~gastnet.video.backends.make_detector`); their COCO-17 keypoints become Human3.6M-17
(:mod:`gastnet.keypoints.convert`) and are linked into tracks
(:func:`gastnet.keypoints.tracks.link_detections`). ``gastnet.lift`` lifts what comes out.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable

import numpy as np

from ..keypoints.convert import coco_to_h36m
from ..keypoints.files import KeypointFile
from ..keypoints.tracks import link_detections
from ..progress import progress_bar
from . import reader
from .backends import make_detector
from .detectors import detector_name

__all__ = ["FrameHook", "detect_video"]

FrameHook = Callable[[int, np.ndarray, list[tuple[np.ndarray, np.ndarray]]], None]
"""``on_frame(index, rgb, people)`` of :func:`detect_video`: the frame's index from 0, the RGB
uint8 frame (H, W, 3) as decoded (upright), and its people as (keypoints (17, 2) pixels, scores
(17,)) in Human3.6M-17."""


def detect_video(source, max_people: int = 4, progress: bool = False,
                 timings: dict[str, float] | None = None, detector=None, *,
                 on_frame: FrameHook | None = None) -> tuple[KeypointFile, float]:
    """2D people in every frame of a video, a photo or an image folder, linked into tracks.

    Args:
        source: a video file, a photo or a folder of images (see :func:`gastnet.video.reader.open_source`).
        max_people: most people that will be kept per frame: the default detector looks for a few more
            (:func:`~gastnet.video.detectors.search_slots`), so that the most prominent are among them.
        progress: show a progress bar.
        timings: if given, receives the seconds spent decoding (``decode``: on a thread that reads
            :data:`READ_AHEAD` frames ahead, so it overlaps the detection) and detecting (``detect``);
            the time of ``on_frame`` counts in neither.
        detector: any object with ``detect(rgb_frame) -> list[Detection]`` (COCO-17 keypoints in
            pixels); by default ``make_detector(None, max_people)`` (BlazePose under LiteRT when installed,
            else MediaPipe Pose), looking for ``search_slots(max_people)`` people.
        on_frame: called for every frame, in order, with (frame index, the RGB uint8 frame (H, W, 3),
            that frame's people as (keypoints (17, 2) pixels, scores (17,)) in Human3.6M-17), so that
            other per-frame work (camera motion) uses the same decoded frames. The frame must not be
            changed in place.

    Returns the tracks (:class:`~gastnet.keypoints.files.KeypointFile`, with ``timestamps``: (T,)
    seconds of the frames from the container, and notes on what the reading met: a file damaged
    part way, a variable frame rate, rotation metadata) and the frame rate to lift at (frames per
    second: the container's, or the mean rate of the timestamps when they disagree with it).
    """
    video = reader.open_source(source)  # looked up at each call: tests stand in for it
    own_detector = detector is None
    detector = make_detector(None, max_people) if own_detector else detector
    frames: list[list[tuple[np.ndarray, np.ndarray]]] = []
    spent = {"decode": 0.0, "detect": 0.0}
    try:
        with video, contextlib.closing(_read_ahead(video, spent)) as frame_iter:  # the thread stops before the file closes
            bar = progress_bar(total=video.frame_count, desc="detect 2D", unit="frame", disable=not progress)
            for frame in frame_iter:
                start = time.perf_counter()
                people = [coco_to_h36m(p.keypoints, p.scores) for p in detector.detect(frame)]
                spent["detect"] += time.perf_counter() - start
                if on_frame is not None:
                    on_frame(len(frames), frame, people)
                frames.append(people)
                bar.update(1)
            if bar.total != len(frames):  # containers often state a wrong frame count: end the bar at what was read
                bar.total = len(frames)
                bar.refresh()
            bar.close()
    finally:
        if own_detector:
            detector.close()
    if timings is not None:
        timings.update(spent)
    if not frames:
        raise ValueError(f"{video.name}: no frames")
    tracks = link_detections(frames)
    if not tracks:
        raise ValueError(f"{video.name}: nobody was detected in {len(frames)} frames")
    backend = detector_name(detector)
    fps, rate_note = video.lifting_fps()
    kind = "photo" if video.kind == "photo" else "video"
    times = video.timestamps
    data = KeypointFile(tracks, len(frames), (video.width, video.height), f"{kind} ({backend})", video.focal_length,
                        _reading_notes(video, len(frames), rate_note), times if len(times) == len(frames) else None)
    return data, fps


READ_AHEAD = 4
"""Frames decoded ahead of the detector, on a thread of their own (FFmpeg and the detector both
release the GIL, so on two cores decoding costs the detection almost no time)."""


def _read_ahead(frames: Iterable[np.ndarray], spent: dict[str, float],
                depth: int = READ_AHEAD) -> Generator[np.ndarray, None, None]:
    """The frames of ``frames``, decoded up to ``depth`` ahead on a background thread; the seconds spent
    decoding are added to ``spent["decode"]``. An error while reading is raised here, in order, after
    the frames before it; closing the generator early stops the thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def decode() -> None:
        iterator = iter(frames)
        while not stop.is_set():
            start = time.perf_counter()
            try:
                item = next(iterator, end)
            except BaseException as error:  # handed to the consumer, raised there
                item = error
            spent["decode"] += time.perf_counter() - start
            while not stop.is_set():
                try:
                    slots.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is end or isinstance(item, BaseException):
                return

    worker = threading.Thread(target=decode, name="gastnet-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _reading_notes(video: reader.VideoSource, read: int, rate_note: str | None) -> list[str]:
    """What reading ``video`` met: rotation metadata, damage part way, a frame rate other than the stated one."""
    notes = []
    rotation, mirrored = video.rotation, video.mirrored
    if rotation or mirrored:
        turned = {0: "", 90: "turned 90 degrees counterclockwise", 180: "turned 180 degrees",
                  270: "turned 90 degrees clockwise"}[rotation]
        flipped = "mirrored left-right" if mirrored else ""
        notes.append(f"frames {' and '.join(filter(None, [turned, flipped]))} to stand upright as the file's rotation "
                     f"metadata asks ({video.width} x {video.height} upright)")
    damage = video.damage
    if damage is not None:
        stated = video.frame_count
        read_what = f"read {read} of the {stated} frames the file announces" if stated and stated > read \
            else f"read {read} frames"
        why = "a truncated or damaged video" if video.truncated else f"a damaged video: {damage}"
        notes.append(f"{read_what} ({why}): lifted what was read")
    if rate_note is not None:
        notes.append(rate_note)
    return notes
