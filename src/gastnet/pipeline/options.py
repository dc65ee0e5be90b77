"""The knobs of a lift, in one typed, frozen, picklable object shared by the API and the command line.

:class:`LiftOptions` is what :func:`gastnet.lift`, :func:`gastnet.pipeline.tracks_to_3d.lift_tracks`, the
batch functions (:mod:`gastnet.pipeline.batch`) and ``gastnet lift`` take; every field is checked
when the object is made (one-line ValueErrors naming the field, the value and what was expected).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..keypoints.tracks import DEFAULT_KEYPOINT_FPS

if TYPE_CHECKING:
    import os

    from ..model.gastnet import GASTNet

__all__ = [
    "DEFAULT_FLIP",
    "DEFAULT_KEYPOINT_FPS",
    "DEFAULT_MAX_PEOPLE",
    "DEFAULT_MODELS",
    "MAX_FPS",
    "MAX_PERSON_HEIGHT_M",
    "MIN_PERSON_HEIGHT_M",
    "SMOOTHING_METHODS",
    "LiftOptions",
]

DEFAULT_MODELS: dict[bool, str] = {False: "gastnet_rf27_c32.video", True: "gastnet_rf27_c32_causal.video"}
"""What lifting uses when no model is given: the shipped weights trained on video-like input
(virtual cameras, bodies, detector joints and errors, 10-60 fps); ``True``: the causal ones, for
live and streaming use."""


MAX_FPS = 10_000.0
"""The highest frame rate taken."""

DEFAULT_MAX_PEOPLE = 4
"""Most people lifted in any frame (a phone video of a few friends)."""

DEFAULT_FLIP = True
"""Test-time flip averaging is on by default."""

SMOOTHING_METHODS = ("one-euro", "savgol")
"""The filters of ``smoothing`` and ``smoothing_3d`` (see :func:`gastnet.runtime.smoothing.smooth`)."""

MIN_FOV_DEG, MAX_FOV_DEG = 1.0, 180.0
"""The fields of view taken: at least 1 degree, under 180."""

MIN_PERSON_HEIGHT_M, MAX_PERSON_HEIGHT_M = 0.5, 2.6
"""The statures taken (metres), as :func:`gastnet.world.placement.body_scale`."""


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _pixel_pair(size: Any) -> tuple[int, int]:
    """(width, height) as given: two numbers; ValueError naming it otherwise (whole pixels in range: ``check_image_size``)."""
    try:
        _w, _h = (float(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"image size must be (width, height) in pixels, got {size!r}") from None
    return tuple(size)  # type: ignore[return-value]


@dataclass(frozen=True)
class LiftOptions:
    """How to lift a recording: the same object from Python (``gastnet.lift(source, options)``) and
    from ``gastnet lift`` (its flags build one). ``None`` means "what the input says, else the default".

    ``dataclasses.replace(options, fps=25)`` gives a changed copy (checked again).
    """

    layout: str | None = None
    """Joint layout of keypoint input when the file does not tell: ``coco``, ``h36m``, ``mediapipe``,
    ``openpose25``, ``openpose18`` or ``halpe26``."""
    image_size: tuple[int, int] | None = None
    """(width, height) in pixels of the video the keypoints come from; needed for keypoints unless
    the file carries it. Whole pixels, 16 to 100000 on each side (checked with the input)."""
    fps: float | None = None
    """Frames per second (the model's temporal window, smoothing, the output's metadata): above 0,
    at most :data:`MAX_FPS`. ``None``: a video's own rate; keypoints :data:`DEFAULT_KEYPOINT_FPS`."""
    model: str | GASTNet | None = None
    """A model name (``name.tag``, or an architecture: its shipped weights, else random ones) or a
    model; ``None``: ``DEFAULT_MODELS[False]`` of :mod:`gastnet.pipeline.recording`, the shipped
    weights made for video."""
    checkpoint: str | os.PathLike[str] | None = None
    """A checkpoint file (ours or the GAST-Net authors') to lift with instead of ``model``."""
    flip: bool = DEFAULT_FLIP
    """Test-time flip averaging (the pose of the mirrored input, mirrored back, averaged in)."""
    smoothing: str | None = None
    """A filter on the 2D (pixels) before lifting: ``"one-euro"``, ``"savgol"`` or ``None`` (off)."""
    smoothing_3d: str | None = None
    """The same filters on the 3D poses (metres) after lifting; ``None``: off."""
    max_people: int = DEFAULT_MAX_PEOPLE
    """Most people lifted in any frame (at least 1): in each frame those who matter most there (size in
    the image, confidence; :func:`gastnet.keypoints.people.most_prominent`), whatever order they were
    found in; a video's detector looks for a few more (:func:`gastnet.video.detectors.search_slots`).
    What is not a person is dropped either way."""
    focal_length: float | None = None
    """The camera's focal length in pixels (positive), for placing people at their real distances;
    ``None``: the input's (the EXIF of photos), else from ``fov``."""
    fov: float | None = None
    """The camera's field of view in degrees across the long side of the image (1 to under 180);
    ``None``: :data:`gastnet.geometry.camera.DEFAULT_FOV_DEG`, a typical phone or webcam lens."""
    person_height: float | None = None
    """The people's stature in metres (0.5 to 2.6), if known: the lifted bodies are scaled to it."""
    camera_motion: bool = True
    """Measure a video's camera motion on its background (:mod:`gastnet.video.motion`) and place people
    in a world that stays fixed while the camera turns; False: the camera is taken to stand still."""
    fit: bool = True
    """Kinematic fit (:mod:`gastnet.world.fit`): one skeleton per person, posed in every frame to
    reproject onto the detected 2D; False: the network's poses as they come (bones change length)."""

    def __post_init__(self) -> None:
        if self.image_size is not None:  # its range is checked with the input (check_image_size): a bad file says so first
            object.__setattr__(self, "image_size", _pixel_pair(self.image_size))
        if self.fps is not None and not (_finite(self.fps) and 0 < float(self.fps) <= MAX_FPS):
            raise ValueError(f"fps must be a frame rate above 0 and at most {MAX_FPS:g}, got {self.fps}")
        for name in ("smoothing", "smoothing_3d"):
            method = getattr(self, name)
            if method not in (None, "none", *SMOOTHING_METHODS):
                raise ValueError(f"unknown smoothing {method!r}; expected 'one-euro', 'savgol' or none "
                                 f"(LiftOptions.{name})")
        if isinstance(self.max_people, bool) or not isinstance(self.max_people, numbers.Integral) or self.max_people < 1:
            raise ValueError(f"max_people must be a whole number of people, at least 1, got {self.max_people!r}")
        if self.focal_length is not None and not (_finite(self.focal_length) and float(self.focal_length) > 0):
            raise ValueError(f"the focal length must be a positive number of pixels, got {self.focal_length}")
        if self.fov is not None and not (_finite(self.fov) and MIN_FOV_DEG <= float(self.fov) < MAX_FOV_DEG):
            raise ValueError(f"the field of view must be between {MIN_FOV_DEG:g} and {MAX_FOV_DEG:g} degrees, "
                             f"got {self.fov}")
        if self.person_height is not None and not (
                _finite(self.person_height) and MIN_PERSON_HEIGHT_M <= float(self.person_height) <= MAX_PERSON_HEIGHT_M):
            raise ValueError(f"the person's height must be in metres between {MIN_PERSON_HEIGHT_M:g} and "
                             f"{MAX_PERSON_HEIGHT_M:g}, got {self.person_height}")

    def replace(self, **overrides: Any) -> LiftOptions:
        """A copy with ``overrides`` (field names) changed; TypeError naming an unknown one."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"unknown lift option(s) {', '.join(unknown)}; expected fields of LiftOptions: "
                            + ", ".join(f.name for f in dataclasses.fields(self)))
        return dataclasses.replace(self, **overrides) if overrides else self


def lift_options(options: LiftOptions | None = None, **overrides: Any) -> LiftOptions:
    """``options`` (default: :class:`LiftOptions` ()) with ``overrides`` applied."""
    return (options if options is not None else LiftOptions()).replace(**overrides)
