"""Frames from a video file, a camera or an image folder, as RGB uint8 arrays (H, W, 3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import natural_key
from ..keypoints.tracks import DEFAULT_KEYPOINT_FPS

__all__ = ["VideoSource", "focal_from_exif", "open_source", "require_cv2"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def require_cv2():
    try:
        import cv2
    except ImportError:
        raise ValueError("video input needs OpenCV: pip install 'gastnet[video]'") from None
    return cv2


@dataclass
class VideoSource:
    """An opened source. Iterate for frames; ``fps``, ``width``, ``height``, ``frame_count`` (None if unknown)."""

    name: str
    fps: float
    width: int
    height: int
    frame_count: int | None
    focal_length: float | None = None  # pixels, when the file says (EXIF of an image folder's first image)
    _capture: Any = None  # a cv2.VideoCapture (cv2 is imported on demand)
    _images: list[Path] | None = None
    _first: np.ndarray | None = None  # the frame open_source read to check the video (BGR), given out first

    def __iter__(self) -> Iterator[np.ndarray]:
        cv2 = require_cv2()
        if self._images is not None:
            for path in self._images:
                frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if frame is None or frame.size == 0:
                    raise ValueError(f"cannot read image {path}")
                if frame.shape[:2] != (self.height, self.width):
                    raise ValueError(f"image {path} is {frame.shape[1]} x {frame.shape[0]} pixels but {self._images[0].name} "
                                     f"is {self.width} x {self.height}; expected every image of the folder to have the "
                                     "same size (frames of one video)")
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            return
        if self._first is not None:
            first, self._first = self._first, None
            yield cv2.cvtColor(first, cv2.COLOR_BGR2RGB)
        while True:
            ok, frame = self._capture.read()
            if not ok:
                break
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


def open_source(source: str | int | os.PathLike[str]) -> VideoSource:
    """Open a video file, a camera (an int index) or a folder of images (in natural order: ``f_2`` before ``f_10``).

    Raises ValueError for a missing or unreadable source, an empty video or zero-size frames.
    """
    cv2 = require_cv2()
    if isinstance(source, int):
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            raise ValueError(f"cannot open camera {source}")
        w, h = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_KEYPOINT_FPS
        return VideoSource(f"camera {source}", fps, w, h, None, _capture=capture)
    path = Path(source)
    if not path.exists():
        raise ValueError(f"input {path} does not exist")
    if path.is_dir():
        images = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
        if not images:
            raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        first = cv2.imread(str(images[0]), cv2.IMREAD_COLOR)
        if first is None or first.size == 0:
            raise ValueError(f"cannot read image {images[0]}")
        return VideoSource(str(path), DEFAULT_KEYPOINT_FPS, first.shape[1], first.shape[0], len(images),
                           focal_from_exif(images[0]), _images=images)
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read() if capture.isOpened() else (False, None)
    if not ok or frame is None or frame.size == 0:
        capture.release()
        raise ValueError(f"cannot read any frame from {path}: not a video, or an empty one")
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    # The frame read is kept and given out first: seeking back to frame 0 fails on some files
    # (a 1-frame mp4 then reads as empty).
    return VideoSource(str(path), capture.get(cv2.CAP_PROP_FPS) or DEFAULT_KEYPOINT_FPS, frame.shape[1], frame.shape[0], count,
                       _capture=capture, _first=frame)
