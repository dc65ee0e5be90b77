"""``gastnet.lift``: one call from a video, an image folder, a keypoint file or an array to 3D poses."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from ..keypoints.checks import check_image_size
from ..keypoints.files import KeypointFile, check_negative, read_keypoints
from ..keypoints.layouts import to_h36m
from ..keypoints.tracks import PersonTrack
from ..model.gastnet import GASTNet
from ..model.registry import create_model
from ..model.weights import list_pretrained
from ..video.detect import detect_video
from .checks import check_poses
from .lift import lift_tracks
from .results import LiftResult

__all__ = ["DEFAULT_MODELS", "MAX_FPS", "VIDEO_SUFFIXES", "detect_video", "is_video_input", "lift", "load_lifter"]

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}

MAX_FPS = 10_000.0  # the highest frame rate taken


def is_video_input(source: str | os.PathLike[str]) -> bool:
    """A video file, or a folder of images (a folder of JSON files holds keypoints instead)."""
    path = Path(source)
    return path.suffix.lower() in VIDEO_SUFFIXES or (path.is_dir() and not any(path.glob("*.json")))


DEFAULT_MODELS = {False: "gastnet_rf27_c32.video", True: "gastnet_rf27_c32_causal.video"}
"""What lifting uses when no model is given: the shipped weights trained on video-like input
(virtual cameras, bodies, detector joints and errors, 10-60 fps); ``True``: the causal ones, for
live and streaming use."""


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
                  "pretrained=True) (the default lifters: gastnet.inference.pipeline.DEFAULT_MODELS)",
                  DeprecationWarning, stacklevel=2)
    return _lifter(model, checkpoint, causal)


def lift(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    layout: str | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
    model: str | GASTNet | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    flip: bool = True,
    smoothing: str | None = None,
    smoothing_3d: str | None = None,
    max_people: int = 4,
    focal_length: float | None = None,
    fov: float | None = None,
    person_height: float | None = None,
    detector=None,
    progress: bool = False,
    timings: dict[str, float] | None = None,
) -> LiftResult:
    """Lift a recording to 3D.

    Args:
        source: a video (mp4, avi, mov, ...), a folder of images, a keypoint file or folder (see
            :func:`gastnet.keypoints.files.read_keypoints`), or an array (T, J, 2|3) of one person.
        layout: joint layout of keypoint input when the file does not tell (``coco``, ``h36m``,
            ``mediapipe``, ``openpose25``, ``openpose18``, ``halpe26``).
        image_size: (width, height) in pixels, needed for keypoints unless the file carries it.
        fps: frame rate (the model's temporal window, smoothing and the output's metadata); videos
            know their own; keypoint files default to 30.
        model, checkpoint: a model name (``name.tag`` or a registered architecture: its shipped
            weights, else random ones), a model, or a checkpoint file (ours or the GAST-Net
            authors'); by default the shipped model trained on video-like input (any camera, body,
            detector, 10-60 fps): ``DEFAULT_MODELS[False]``.
        flip: test-time flip averaging.
        smoothing: ``"one-euro"`` or ``"savgol"`` on the 2D before lifting (off by default).
        smoothing_3d: the same filters on the 3D poses after lifting (off by default).
        max_people: most people detected per video frame.
        focal_length, fov: the camera's focal length in pixels, or its field of view in degrees
            across the long side of the image, for placing people in the world; by default what
            the input says (the EXIF of photos), else a typical phone or webcam lens
            (:data:`gastnet.inference.placement.DEFAULT_FOV_DEG`).
        person_height: the people's stature in metres, if known: lifted bodies are scaled to it,
            which makes distances right for people smaller or taller than the training subjects.
        detector: a 2D backend for videos (see :class:`gastnet.video.detectors.PoseDetector`);
            default MediaPipe Pose.
        timings: if given, receives seconds per stage (``decode``, ``detect`` for videos, ``lift``).

    Returns a :class:`~gastnet.inference.results.LiftResult` (see its module for the coordinate contract).
    """
    if fps is not None and not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise ValueError(f"fps must be a frame rate above 0 and at most {MAX_FPS:g}, got {fps}")
    net, described = _lifter(model, checkpoint)
    video_fps = None
    if isinstance(source, np.ndarray):
        arr = np.asarray(source, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[-1] not in (2, 3):
            raise ValueError(f"expected keypoints (T, J, 2) or (T, J, 3), got shape {arr.shape}")
        if len(arr) == 0:
            raise ValueError("the keypoint array has no frames")
        if not np.isfinite(arr).all():
            raise ValueError("keypoints contain NaN or infinite values")
        scores = np.clip(arr[..., 2], 0.0, 1.0) if arr.shape[-1] == 3 else np.ones(arr.shape[:-1])
        kp, sc = to_h36m(arr[..., :2], check_negative(arr[..., :2], scores), layout or "h36m")
        data = KeypointFile([PersonTrack(0, np.arange(len(kp)), kp, sc)], len(kp), None, "array")
    elif is_video_input(source):
        if image_size is not None:
            check_image_size(image_size)  # before the detection's minutes
        data, video_fps = detect_video(source, max_people, progress, timings, detector)
    else:
        data = read_keypoints(source, layout)
    size = image_size or data.image_size
    if size is None:
        raise ValueError(f"the {data.format} input does not say the image size of its video: give it "
                         "(--image-size WIDTHxHEIGHT on the command line, image_size=(width, height) in Python)")
    what = "the array" if isinstance(source, np.ndarray) else str(source)
    if video_fps is not None and not (np.isfinite(video_fps) and 0 < video_fps <= MAX_FPS):
        data.notes.append(f"the video says {video_fps} fps; lifted as 30 fps")
        video_fps = 30.0
    start = time.perf_counter()
    focal_source = None
    if focal_length is None and fov is None and data.focal_length:
        focal_length, focal_source = data.focal_length, "from the images' EXIF"
    result = lift_tracks(data.tracks, size, net, data.num_frames, fps or video_fps or 30.0, flip, smoothing,
                         smoothing_3d=smoothing_3d, focal_length=focal_length, fov=fov, focal_source=focal_source,
                         person_height=person_height, input_name=what)
    check_poses(result)  # gastnet.lift never returns a body of no human size
    if timings is not None:
        timings["lift"] = time.perf_counter() - start
    result.notes.insert(0, f"input: {data.format}, {data.num_frames} frames, {len(data.tracks)} tracks; "
                           f"lifted {len(result.people)} {'person' if len(result.people) == 1 else 'people'} with {described}")
    result.notes[1:1] = data.notes
    return result
