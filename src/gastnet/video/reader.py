"""Frames from a video file, a photo, an image folder or a camera, as RGB uint8 arrays (H, W, 3).

Video files are decoded with PyAV (FFmpeg in a wheel): the frame count and every frame's
timestamp come from the container, frames are turned upright as the file's rotation metadata
(the display matrix phones write) asks, and a file is called damaged only when reading it fails
part way. Photos, image folders and cameras go through OpenCV.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..extras import require
from ..fileio import natural_key
from ..keypoints.tracks import DEFAULT_KEYPOINT_FPS

__all__ = ["IMAGE_SUFFIXES", "VideoSource", "focal_from_exif", "frame_rate_from_timestamps", "open_source",
           "require_av", "require_cv2"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
"""Image files (compared in lower case): a folder of them is a video, one of them a one-frame video."""

TRUNCATED = "the file ends part way through a frame"
""":attr:`VideoSource.damage` of a file cut short (its last packet is incomplete)."""

RATE_TOLERANCE = 0.01
"""Relative difference between the timestamps' mean frame rate and the container's below which the container's is kept."""

INTERVAL_TOLERANCE = 0.05
"""Relative spread of the frame intervals (beyond one tick of the time base) above which a video has a variable frame rate."""


def require_cv2():
    """The ``cv2`` module (OpenCV), or :class:`~gastnet.extras.MissingExtra` (a ValueError) saying how to install it."""
    require("video", "video input", only=("cv2",))
    import cv2

    return cv2


def require_av():
    """The ``av`` module (PyAV), or :class:`~gastnet.extras.MissingExtra` (a ValueError) saying how to install it."""
    require("video", "video files", only=("av",))
    import av

    return av


@dataclass
class VideoSource:
    """An opened source. Iterate for frames, RGB uint8 (H, W, 3), upright.

    ``fps``: the frame rate the source states (a video's container; image folders and photos
    :data:`~gastnet.keypoints.tracks.DEFAULT_KEYPOINT_FPS`); :meth:`lifting_fps` is the rate to
    lift at once the frames are read. ``width``, ``height``: pixels of the upright frames.
    ``frame_count``: frames the container states (None if it does not; the frames decoded may
    differ, e.g. an edited clip whose edit list trims playback). ``timestamps``: seconds of the
    frames given out so far (a video: its presentation times from the container, which need not
    start at 0; images: ``i / fps``; a camera: since its first frame). ``rotation``: degrees
    counterclockwise the frames were turned to be upright (0 when the file asks for none).
    ``mirrored``: the frames were also flipped left-right, as the file asked. ``damage``: why
    reading stopped before the end of the file (a decode error, a file cut short), else None;
    ``truncated``: that file was cut short (it ends part way through a frame, or before the
    duration it states).
    ``kind``: ``"video"`` (a file), ``"photo"`` (one image file), ``"images"`` (a folder) or
    ``"camera"``.
    """

    name: str
    fps: float
    width: int
    height: int
    frame_count: int | None
    focal_length: float | None = None  # pixels, when the file says (EXIF of a photo or an image folder's first image)
    rotation: int = 0
    mirrored: bool = False
    damage: str | None = None
    truncated: bool = False
    kind: str = "video"
    _times: list[float] = field(default_factory=list, repr=False)
    _capture: Any = field(default=None, repr=False)  # a cv2.VideoCapture (a camera)
    _images: list[Path] | None = field(default=None, repr=False)
    _first: np.ndarray | None = field(default=None, repr=False)  # a video's first frame (RGB, upright), decoded by open_source
    _container: Any = field(default=None, repr=False)  # an av container (a video file)
    _decoded: Iterator[Any] | None = field(default=None, repr=False)  # its av.VideoFrame generator
    _tick: float = field(default=0.0, repr=False)  # seconds per unit of the stream's time base

    @property
    def timestamps(self) -> np.ndarray:
        """(N,) seconds of the N frames given out so far (all of them once iteration has ended)."""
        return np.asarray(self._times, dtype=np.float64)

    def lifting_fps(self) -> tuple[float, str | None]:
        """The frame rate to lift the frames read so far at, and a note when it is not :attr:`fps`.

        See :func:`frame_rate_from_timestamps`; sources without timestamps of their own (images,
        cameras) give :attr:`fps` and no note.
        """
        if self._container is None:
            return self.fps, None
        return frame_rate_from_timestamps(self.timestamps, self.fps, self._tick)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._container is not None:
            yield from self._video_frames()
            return
        cv2 = require_cv2()
        if self._images is not None:
            for i, path in enumerate(self._images):
                frame = _read_image(cv2, path)
                if frame.shape[:2] != (self.height, self.width):
                    raise ValueError(f"image {path} is {frame.shape[1]} x {frame.shape[0]} pixels but {self._images[0].name} "
                                     f"is {self.width} x {self.height}; expected every image of the folder to have the "
                                     "same size (frames of one video)")
                self._times.append(i / self.fps)
                yield frame
            return
        start = None
        while True:
            ok, frame = self._capture.read()
            if not ok:
                break
            now = time.monotonic()
            start = now if start is None else start
            self._times.append(now - start)
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def _video_frames(self) -> Iterator[np.ndarray]:
        first, self._first = self._first, None
        if first is not None:
            yield first
        assert self._decoded is not None
        for frame in self._decoded:
            yield self._upright(frame)

    def _upright(self, frame: Any) -> np.ndarray:
        """An av.VideoFrame as RGB uint8 (H, W, 3), turned as the file asks; its timestamp recorded."""
        rgb = frame.to_ndarray(format="rgb24")
        stamp = frame.time
        if stamp is None:  # no presentation time: the next frame at the stated rate
            stamp = self._times[-1] + 1.0 / self.fps if self._times else 0.0
        self._times.append(float(stamp))
        if self.rotation or self.mirrored:
            rgb = np.rot90(rgb, self.rotation // 90)
            rgb = np.ascontiguousarray(rgb[:, ::-1] if self.mirrored else rgb)
        return rgb

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        if self._container is not None:
            self._container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def frame_rate_from_timestamps(timestamps: np.ndarray, nominal_fps: float,
                               resolution: float = 0.0) -> tuple[float, str | None]:
    """The frame rate to lift frames with these timestamps at, and a note when it is not ``nominal_fps``.

    Args:
        timestamps: (N,) seconds, increasing (a video's presentation times).
        nominal_fps: the frame rate the container states, frames per second.
        resolution: seconds of one tick of the time base the timestamps were stored in (their
            rounding); 0 if exact.

    The mean rate is ``(N - 1) / (t[-1] - t[0])``. When a frame interval differs from the median
    interval by more than :data:`INTERVAL_TOLERANCE` of it plus one tick, the video has a variable
    frame rate: the mean rate is returned with the note ``"variable frame rate: x-y fps, lifted at
    z fps"`` (x-y: the slowest and fastest frame-to-frame rates). Otherwise the mean rate replaces
    the nominal one only when they differ by more than :data:`RATE_TOLERANCE` (a container that
    states a wrong rate). Fewer than two distinct timestamps: the nominal rate.
    """
    times = np.asarray(timestamps, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"expected timestamps of shape (N,) in seconds, got shape {times.shape}")
    if len(times) < 2 or not np.isfinite(times).all() or times[-1] <= times[0]:
        return nominal_fps, None
    intervals = np.diff(times)
    intervals = intervals[intervals > 0]  # repeated stamps (a damaged file) carry no rate
    mean_fps = (len(times) - 1) / (times[-1] - times[0])
    median = float(np.median(intervals))
    if np.abs(intervals - median).max() > INTERVAL_TOLERANCE * median + resolution:
        slow, fast = 1.0 / intervals.max(), 1.0 / intervals.min()
        return mean_fps, f"variable frame rate: {slow:.3g}-{fast:.3g} fps, lifted at {mean_fps:.3g} fps"
    if not (np.isfinite(nominal_fps) and nominal_fps > 0) or abs(mean_fps - nominal_fps) > RATE_TOLERANCE * nominal_fps:
        return mean_fps, (f"the frames' timestamps give {mean_fps:.4g} fps, the file states {nominal_fps:.4g} fps: "
                          f"lifted at {mean_fps:.4g} fps")
    return nominal_fps, None


def focal_from_exif(path: str | os.PathLike[str]) -> float | None:
    """The focal length in pixels that a photo's EXIF gives, or None (no EXIF, no Pillow, no focal).

    Uses the 35 mm-equivalent focal length (tag FocalLengthIn35mmFilm), which by definition gives
    the same diagonal field of view as on a 36 x 24 mm frame (43.27 mm diagonal):
    ``f_px = f_35 * diagonal_px / 43.27``.
    """
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            f35 = exif.get_ifd(0x8769).get(0xA405) or exif.get(0xA405)
            width, height = image.size
    except (OSError, ValueError):
        return None
    if not f35 or float(f35) <= 0:
        return None
    return float(f35) * float(np.hypot(width, height)) / 43.27


def _read_image(cv2, path: Path) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3); ValueError if it is none."""
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None or frame.size == 0:
        raise ValueError(f"cannot read image {path}: expected a {path.suffix.lower()[1:].upper()} image, found "
                         "no picture in the file (not an image, or a damaged one)")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def open_source(source: str | int | os.PathLike[str]) -> VideoSource:
    """Open a video file, a photo (.jpg .jpeg .png .bmp: a one-frame video), a folder of images
    (in natural order: ``f_2`` before ``f_10``) or a camera (an int index).

    Raises ValueError for a missing or unreadable source, an empty video or zero-size frames.
    """
    if isinstance(source, int):
        cv2 = require_cv2()
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            raise ValueError(f"cannot open camera {source}")
        w, h = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_KEYPOINT_FPS
        return VideoSource(f"camera {source}", fps, w, h, None, kind="camera", _capture=capture)
    path = Path(source)
    if not path.exists():
        raise ValueError(f"input {path} does not exist")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        cv2 = require_cv2()
        if path.is_dir():
            images = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
            if not images:
                raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        else:
            images = [path]
        first = _read_image(cv2, images[0])
        return VideoSource(str(path), DEFAULT_KEYPOINT_FPS, first.shape[1], first.shape[0], len(images),
                           focal_from_exif(images[0]), kind="images" if path.is_dir() else "photo", _images=images)
    return _open_video(path)


def _orientation(frame: Any) -> tuple[int, bool]:
    """How to turn a decoded av.VideoFrame upright: (degrees counterclockwise, a multiple of 90;
    then mirrored left-right or not), from its display matrix.

    FFmpeg's display matrix (nine int32, 16.16 fixed point in its first two columns) holds
    ``a b . / c d . / . . .``; a mirror negates ``a`` and ``c`` (a negative determinant), and the
    rotation of the rest is ``-atan2(b, a)`` counterclockwise, the convention of
    ``VideoFrame.rotation`` and of ``VideoStream.set_display_rotation``.
    """
    matrix = None
    try:
        from av.sidedata.sidedata import Type

        data = frame.side_data.get(Type.DISPLAYMATRIX)
        if data is not None and len(bytes(data)) >= 36:
            matrix = np.frombuffer(bytes(data)[:36], "<i4").astype(np.float64)
    except (ImportError, AttributeError, TypeError, ValueError):
        matrix = None
    if matrix is None:  # older PyAV: the rotation alone
        degrees = float(getattr(frame, "rotation", 0) or 0)
        return int(round(degrees / 90.0)) % 4 * 90, False
    a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]
    mirrored = a * d - b * c < 0
    if mirrored:
        a, c = -a, -c
    degrees = -np.degrees(np.arctan2(b, a))
    return int(round(degrees / 90.0)) % 4 * 90, bool(mirrored)


def _decode(container: Any, stream: Any, source: VideoSource) -> Iterator[Any]:
    """The av.VideoFrames of ``stream`` in presentation order.

    Reading stops at a packet cut short (the file ends in it) or a decode error, with the reason in
    ``source.damage`` (and ``source.truncated`` for a file cut short); the frames the decoder holds
    of the packets before are still given out. A file whose frames end well before the duration
    its container states (more than 1.5 frames) was cut short too. Fewer frames than the
    container's frame count is no damage by itself: an edited clip's edit list trims playback.
    """
    av = require_av()
    last = None
    for packet in container.demux(stream):
        if packet.is_corrupt:
            source.damage, source.truncated = TRUNCATED, True
            break
        try:
            frames = packet.decode()
        except av.FFmpegError as error:
            source.damage = f"decoding failed: {_error_text(error)}"
            break
        for frame in frames:
            last = frame
            yield frame
    else:
        source.damage = _ends_early(stream, last, source.fps)
        source.truncated = source.damage is not None
        return
    try:  # what the decoder holds of the packets before the damage
        yield from stream.codec_context.decode(None)
    except av.FFmpegError:
        pass


def _ends_early(stream: Any, last: Any, fps: float) -> str | None:
    """Why the last frame decoded ends more than 1.5 frames before the stream's stated end, else None."""
    if last is None or last.time is None or not stream.duration or not stream.time_base:
        return None
    tick = float(stream.time_base)
    stated_end = ((stream.start_time or 0) + stream.duration) * tick
    frame_duration = getattr(last, "duration", None)
    read_end = last.time + (frame_duration * tick if frame_duration else 1.0 / fps)
    if stated_end - read_end <= 1.5 / fps:
        return None
    return f"the frames end at {read_end:.3g} s of the {stated_end:.3g} s the file states"


def _error_text(error: Exception) -> str:
    """One line of an FFmpeg error (PyAV adds the file name and the call on some)."""
    text = getattr(error, "strerror", None) or str(error)
    return " ".join(str(text).split())


def _open_video(path: Path) -> VideoSource:
    """A video file opened with PyAV, its first frame decoded (ValueError if none can be)."""
    av = require_av()
    unreadable = f"cannot read any frame from {path}: not a video, or an empty one"
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        raise ValueError(unreadable) from None
    try:
        if not container.streams.video:
            raise ValueError(f"{unreadable} (no video stream in it)")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads: 1080p decodes at several times the lifting's rate
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else DEFAULT_KEYPOINT_FPS
        tick = float(stream.time_base) if stream.time_base else 0.0
        source = VideoSource(str(path), fps, 0, 0, stream.frames or None, _container=container, _tick=tick)
        decoded = _decode(container, stream, source)
        try:
            first = next(decoded, None)
        except av.FFmpegError:
            first = None
        if first is None or first.width == 0 or first.height == 0:
            raise ValueError(unreadable)
        source.rotation, source.mirrored = _orientation(first)
        source._decoded = decoded
        source._first = source._upright(first)
        source.height, source.width = source._first.shape[:2]
        return source
    except BaseException:
        container.close()
        raise
