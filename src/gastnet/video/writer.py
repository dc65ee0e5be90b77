"""Video files that browsers and phones play: H.264 in .mp4 (``avc1``, yuv420p), written with PyAV.

:class:`VideoWriter` takes RGB uint8 frames (H, W, 3) and writes them atomically: to a temporary
name in the target folder (:data:`gastnet.fileio.TEMPORARY_PREFIX`), renamed onto the target
only when the last frame is in, so that an error leaves nothing half-written. The frame rate is
stored exactly (a rational time base: 30 fps gives frames 1/30 s apart, 29.97 gives 1001/30000).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..fileio import atomic_path

__all__ = ["MAX_WRITE_FPS", "VideoWriter", "exact_rate", "write_video"]

MAX_WRITE_FPS = 1000.0
"""Highest frame rate written, frames per second."""

_BT709 = 1  # FFmpeg's AVCOL_PRI_BT709, AVCOL_TRC_BT709 and AVCOL_SPC_BT709: the colours of HD video
_LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG: luma 16-235, what players expect of H.264


def exact_rate(fps: float) -> Fraction:
    """``fps`` (frames per second) as a fraction with a small denominator: 30 -> 30/1, 29.97002997 -> 30000/1001,
    12.5 -> 25/2. ValueError unless 0 < fps <= :data:`MAX_WRITE_FPS`."""
    if not (isinstance(fps, (int, float, Fraction)) and math.isfinite(fps) and 0 < fps <= MAX_WRITE_FPS):
        raise ValueError(f"expected a frame rate in (0, {MAX_WRITE_FPS:g}] frames per second, got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Write RGB uint8 frames (H, W, 3) to an H.264 .mp4 (``avc1`` tag, yuv420p, BT.709), atomically.

    Use it as a context manager::

        with VideoWriter("render.mp4", fps=30) as video:
            for rgb in frames:
                video.write(rgb)

    The first frame sets the size; every later one must have it. An odd width or height is padded
    to an even one by repeating the last column or row (yuv420p needs even sizes). Leaving the
    block normally finishes the file and renames it onto ``path``; leaving it by an exception, or
    having written no frame (ValueError), leaves no file. ``quality`` is x264's constant rate
    factor (0 lossless to 51; 18-23 look clean); ``preset`` its speed (``ultrafast`` ... ``veryslow``).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, *, quality: int = 20, preset: str = "veryfast") -> None:
        self.path = Path(path)
        self.rate = exact_rate(fps)
        if not 0 <= quality <= 51:
            raise ValueError(f"expected a quality (x264 crf) from 0 to 51, got {quality}")
        self.quality, self.preset = int(quality), preset
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (width, height) of the frames given, before padding
        self._stack: contextlib.ExitStack | None = None
        self._tmp: Path | None = None
        self._container: Any = None
        self._stream: Any = None

    def __enter__(self) -> VideoWriter:
        from .reader import require_av

        self._av = require_av()
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        return self

    def write(self, frame: np.ndarray) -> None:
        """Add one frame: RGB uint8 (H, W, 3), the size of the first."""
        if self._stack is None:
            raise ValueError("VideoWriter.write is called inside its with block (the file is opened there)")
        rgb = np.asarray(frame)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} of shape {rgb.shape}")
        height, width = rgb.shape[:2]
        if self.size is None:
            self._open(width, height)
        elif (width, height) != self.size:
            raise ValueError(f"frame {self.frames_written} is {width} x {height} pixels; expected {self.size[0]} x "
                             f"{self.size[1]}, the size of the first frame")
        if width % 2 or height % 2:
            rgb = np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        picture = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        picture = picture.reformat(format="yuv420p", dst_colorspace="itu709", dst_color_range=_LIMITED_RANGE)
        picture.pts = self.frames_written
        for packet in self._stream.encode(picture):
            self._container.mux(packet)
        self.frames_written += 1

    def _open(self, width: int, height: int) -> None:
        self.size = (width, height)
        self._container = self._av.open(str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=self.rate,
                                            options={"crf": str(self.quality), "preset": self.preset})
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(self.rate.denominator, self.rate.numerator)  # one tick per frame
        context = stream.codec_context
        context.codec_tag = "avc1"
        context.color_primaries = context.color_trc = context.colorspace = _BT709
        context.color_range = _LIMITED_RANGE
        self._stream = stream

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        stack, self._stack = self._stack, None
        if stack is None:
            return
        if kind is not None:  # the block failed: the temporary file goes, the exception goes on
            self._close_quietly()
            stack.__exit__(kind, error, traceback)
            return
        with stack:  # renamed onto the target if this block ends normally, else removed
            try:
                if not self.frames_written:
                    raise ValueError(f"no frames to write to {self.path}: expected at least one")
                for packet in self._stream.encode(None):  # what the encoder still holds
                    self._container.mux(packet)
                self._container.close()
            except BaseException:
                self._close_quietly()
                raise

    def _close_quietly(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float, **options: Any) -> Path:
    """Write RGB uint8 frames (H, W, 3) to an H.264 .mp4 at ``fps`` frames per second with
    :class:`VideoWriter` (``options``: its ``quality``, ``preset``); returns ``path``."""
    with VideoWriter(path, fps, **options) as video:
        for frame in frames:
            video.write(frame)
    return video.path
