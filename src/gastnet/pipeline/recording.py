"""``gastnet.lift``: one call from a video, an image folder, a keypoint file or an array to 3D poses."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..keypoints.checks import check_image_size
from ..keypoints.files import KeypointFile, check_negative, read_keypoints
from ..keypoints.layouts import to_h36m
from ..keypoints.tracks import PersonTrack
from ..model.gastnet import GASTNet
from ..model.registry import create_model
from ..model.weights import list_pretrained
from ..video.detect import detect_video
from ..video.motion import CameraMotionEstimator
from ..video.reader import IMAGE_SUFFIXES
from ..world.camera_motion import CameraMotion
from .checks import check_poses
from .options import DEFAULT_KEYPOINT_FPS, DEFAULT_MODELS, MAX_FPS, LiftOptions, lift_options
from .results import LiftResult
from .tracks_to_3d import lift_tracks

if TYPE_CHECKING:
    from ..video.detectors import PoseDetector

__all__ = ["DEFAULT_KEYPOINT_FPS", "DEFAULT_MODELS", "MAX_FPS", "VIDEO_SUFFIXES", "LiftOptions", "detect_video",
           "is_video_input", "lift", "load_lifter"]

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}

ARRAY_LAYOUT = "h36m"
"""The joint layout of an array given without ``layout``."""


def is_video_input(source: str | os.PathLike[str]) -> bool:
    """A video file, a photo (a one-frame video: .jpg .jpeg .png .bmp) or a folder of images (a folder
    of JSON files holds keypoints instead)."""
    path = Path(source)
    if path.is_dir():
        return not any(path.glob("*.json"))
    return path.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES


def _lifter(model: str | GASTNet | None, checkpoint: str | os.PathLike[str] | None,
            causal: bool = False) -> tuple[GASTNet, str]:
    """The model to lift with (through :func:`~gastnet.model.registry.create_model`) and a line
    saying what it is: ``model`` (a model, or a name: its shipped weights, else random ones,
    which the line says), else the weights in ``checkpoint``, else :data:`DEFAULT_MODELS`."""
    if isinstance(model, GASTNet):
        return model.eval(), "the given model"
    if checkpoint is not None:
        return create_model(None, checkpoint=checkpoint), f"checkpoint {checkpoint}"
    name = model or DEFAULT_MODELS[causal]
    net = create_model(name, pretrained=name in list_pretrained()).eval()
    if net.pretrained_weights is None:  # its poses mean nothing: lift_tracks does not judge bodies by them
        return net, f"{name} with RANDOM weights (no pretrained weights for it)"
    if net.pretrained_weights.source != "shipped":
        return net, f"checkpoint {name}"
    return net, f"{net.pretrained_weights.name} (pretrained)"


def load_lifter(model: str | GASTNet | None = None, checkpoint: str | os.PathLike[str] | None = None,
                causal: bool = False) -> tuple[GASTNet, str]:
    """Deprecated: ``gastnet.create_model(name, pretrained=True)``; the defaults are :data:`DEFAULT_MODELS`."""
    warnings.warn("load_lifter is deprecated and goes in the next release; use gastnet.create_model(name, "
                  "pretrained=True) (the default lifters: gastnet.pipeline.recording.DEFAULT_MODELS)",
                  DeprecationWarning, stacklevel=2)
    return _lifter(model, checkpoint, causal)


def lift(
    source: str | os.PathLike[str] | np.ndarray,
    options: LiftOptions | None = None,
    *,
    detector: PoseDetector | None = None,
    progress: bool = False,
    timings: dict[str, float] | None = None,
    **overrides: Any,
) -> LiftResult:
    """Lift a recording to 3D.

    Args:
        source: a video (mp4, avi, mov, ...), a photo (jpg, png: one frame), a folder of images, a keypoint file or folder (see
            :func:`gastnet.keypoints.files.read_keypoints`), or an array (T, J, 2|3) of one person.
        options: how to lift (:class:`~gastnet.pipeline.options.LiftOptions`: layout, image size,
            fps, model or checkpoint, flip, smoothing, people, camera lens, stature); by default
            ``LiftOptions()``: the shipped model made for video (``DEFAULT_MODELS[False]``),
            keypoints at :data:`~gastnet.pipeline.options.DEFAULT_KEYPOINT_FPS` unless they say.
        detector: a 2D backend for videos (see :class:`gastnet.video.detectors.PoseDetector`);
            default :func:`gastnet.video.backends.make_detector` (BlazePose under LiteRT).
        progress: show progress bars (the detection of a video).
        timings: if given, receives seconds per stage (``decode``, ``detect`` and ``camera``, the camera's
            motion, for videos; ``lift``).
        overrides: fields of :class:`~gastnet.pipeline.options.LiftOptions` changed from
            ``options`` (``gastnet.lift("walk.json", fps=25, model="gastnet_rf27_c32.h36m")``).

    Returns a :class:`~gastnet.pipeline.results.LiftResult` (see its module for the coordinate contract).
    """
    opts = lift_options(options, **overrides)
    net, described = _lifter(opts.model, opts.checkpoint)
    data, video_fps, motion = _read_input(source, opts, detector, progress, timings)
    size = opts.image_size or data.image_size
    if size is None:
        raise ValueError(f"the {data.format} input does not say the image size of its video: give it "
                         "(--image-size WIDTHxHEIGHT on the command line, image_size=(width, height) in Python)")
    what = "the array" if isinstance(source, np.ndarray) else str(source)
    if video_fps is not None and not (np.isfinite(video_fps) and 0 < video_fps <= MAX_FPS):
        data.notes.append(f"the video says {video_fps} fps; lifted as {DEFAULT_KEYPOINT_FPS:g} fps")
        video_fps = DEFAULT_KEYPOINT_FPS
    start = time.perf_counter()
    focal_source = None
    if opts.focal_length is None and opts.fov is None and data.focal_length:
        exif = "the photo's EXIF" if data.format.startswith("photo") else "the images' EXIF"
        opts, focal_source = opts.replace(focal_length=data.focal_length), f"from {exif}"
    result = lift_tracks(data.tracks, size, net, data.num_frames, opts.fps or video_fps or DEFAULT_KEYPOINT_FPS, opts,
                         focal_source=focal_source, input_name=what, camera_motion=motion, timings=timings)
    check_poses(result)  # gastnet.lift never returns a body of no human size
    if timings is not None:  # the kinematic fit is timed on its own
        timings["lift"] = time.perf_counter() - start - timings.get("fit", 0.0)
    result.notes.insert(0, f"input: {data.format}, {data.num_frames} frames, {len(data.tracks)} tracks; "
                           f"lifted {len(result.people)} {'person' if len(result.people) == 1 else 'people'} with {described}")
    result.notes[1:1] = data.notes
    return result


def _read_input(source: str | os.PathLike[str] | np.ndarray, opts: LiftOptions, detector: PoseDetector | None,
                progress: bool, timings: dict[str, float] | None
                ) -> tuple[KeypointFile, float | None, CameraMotion | None]:
    """The 2D tracks of ``source`` (an array, a video or image folder, a keypoint file), the video's
    frame rate (None: not a video) and the camera's motion measured on the video's background (None:
    not a video of several frames, or ``opts.camera_motion`` off)."""
    if isinstance(source, np.ndarray):
        arr = np.asarray(source, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[-1] not in (2, 3):
            raise ValueError(f"expected keypoints (T, J, 2) or (T, J, 3), got shape {arr.shape}")
        if len(arr) == 0:
            raise ValueError("the keypoint array has no frames")
        if not np.isfinite(arr).all():
            raise ValueError("keypoints contain NaN or infinite values")
        scores = np.clip(arr[..., 2], 0.0, 1.0) if arr.shape[-1] == 3 else np.ones(arr.shape[:-1])
        kp, sc = to_h36m(arr[..., :2], check_negative(arr[..., :2], scores), opts.layout or ARRAY_LAYOUT)
        return KeypointFile([PersonTrack(0, np.arange(len(kp)), kp, sc)], len(kp), None, "array"), None, None
    if is_video_input(source):
        if opts.image_size is not None:
            check_image_size(opts.image_size)  # before the detection's minutes
        estimator = CameraMotionEstimator() if opts.camera_motion else None
        spent = 0.0

        def measure(index: int, frame: np.ndarray, people: list[tuple[np.ndarray, np.ndarray]]) -> None:
            nonlocal spent
            start = time.perf_counter()
            assert estimator is not None
            estimator.on_frame(index, frame, people)
            spent += time.perf_counter() - start

        data, fps = detect_video(source, opts.max_people, progress, timings, detector,
                                 on_frame=None if estimator is None else measure)
        if timings is not None and estimator is not None:
            timings["camera"] = spent
        motion = estimator.finish() if estimator is not None and data.num_frames > 1 else None
        return data, fps, motion
    return read_keypoints(source, opts.layout), None, None
