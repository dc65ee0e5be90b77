"""``gastnet.lift``: one call from a video, an image folder, a keypoint file or an array to 3D poses."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..keypoints.convert import coco_to_h36m
from ..keypoints.files import KeypointFile, check_negative, read_keypoints
from ..keypoints.layouts import to_h36m
from ..keypoints.tracks import PersonTrack, link_detections
from ..model.checkpoint import model_from_checkpoint
from ..model.gastnet import GASTNet
from ..model.registry import create_model
from ..model.weights import list_pretrained
from .lift import lift_tracks
from .results import LiftResult

__all__ = ["DEFAULT_MODEL", "MAX_POSE_EXTENT_M", "OUTSIDE_TOLERANCE", "PREFERRED_MODELS", "VIDEO_SUFFIXES",
           "check_image_size", "check_keypoints_in_image", "check_poses", "detect_video", "is_video_input", "lift",
           "load_lifter"]

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}

# How far 2D keypoints may lie beyond the image's borders, as a fraction of its width (x) or
# height (y): confident joints (score above 0.3) OUTSIDE_TOLERANCE, any given joint (score above 0)
# FAR_OUTSIDE. Detectors guess cut-off limbs a little outside the frame; farther means the
# keypoints are in other units or scale than the image size (normalised coordinates with a pixel
# image size, pixels of another video, a scaled file).
OUTSIDE_TOLERANCE = 0.5
FAR_OUTSIDE = 5.0
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 16, 100_000  # pixels
MAX_POSE_EXTENT_M = 3.0  # no joint of a lifted body is this far from its pelvis
MAX_FPS = 10_000.0


def check_image_size(size) -> tuple[int, int]:
    """(width, height) as ints; ValueError unless both are whole numbers of pixels from 16 to 100000."""
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"image size must be (width, height) in pixels, got {size!r}") from None
    if not all(np.isfinite(v) and v == int(v) and MIN_IMAGE_SIDE <= v <= MAX_IMAGE_SIDE for v in (w, h)):
        raise ValueError(f"image size must be whole pixels, {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} on each side; "
                         f"got {w:g} x {h:g} (keypoints must be pixels of a video frame of that size)")
    return int(w), int(h)


def check_keypoints_in_image(tracks: list[PersonTrack], size: tuple[int, int], what: str = "input") -> None:
    """ValueError if a confident joint lies more than OUTSIDE_TOLERANCE of the image size beyond its
    borders (or any given joint more than FAR_OUTSIDE), naming the track, frame, joint and the range expected."""
    w, h = size
    extent = np.array([w, h], dtype=np.float64)
    for track in tracks:
        kp = np.asarray(track.keypoints, dtype=np.float64)
        sc = np.asarray(track.scores, dtype=np.float64)
        for limit, given in ((OUTSIDE_TOLERANCE, sc > 0.3), (FAR_OUTSIDE, sc > 0)):
            with np.errstate(invalid="ignore"):
                outside = ((kp < -limit * extent) | (kp > (1 + limit) * extent)).any(-1) & given
            if outside.any():
                t, j = (int(i) for i in np.argwhere(outside)[0])
                x, y = kp[t, j]
                confident = "confident " if limit == OUTSIDE_TOLERANCE else ""
                raise ValueError(
                    f"{what}: {confident}keypoint {j} of track {track.track_id} in frame {int(track.frames[t])} is at "
                    f"({x:.6g}, {y:.6g}) px, far outside the {w} x {h} image; expected x in "
                    f"[{-limit * w:g}, {(1 + limit) * w:g}] and y in [{-limit * h:g}, {(1 + limit) * h:g}] "
                    "(wrong image size, units or scale?)")


def check_poses(result: LiftResult) -> None:
    """ValueError unless every lifted pose is finite and within MAX_POSE_EXTENT_M of its pelvis."""
    for p in result.people:
        for name in ("poses_camera", "poses_camera_absolute", "poses_world"):
            poses = getattr(p, name)
            if poses is not None and not np.isfinite(poses).all():
                raise ValueError(f"lifting track {p.track_id} gave non-finite {name}; the 2D input is unusable "
                                 "(check its units and the image size)")
        relative = p.poses_camera - p.poses_camera[:, :1]
        extent = float(np.abs(relative).max()) if relative.size else 0.0
        if extent > MAX_POSE_EXTENT_M:
            raise ValueError(f"lifting track {p.track_id} gave a body with a joint {extent:.3g} m from its pelvis; "
                             f"expected under {MAX_POSE_EXTENT_M:g} m (check the 2D's units, the image size and "
                             "--person-height)")


def is_video_input(source: str | os.PathLike[str]) -> bool:
    """A video file, or a folder of images (a folder of JSON files holds keypoints instead)."""
    path = Path(source)
    return path.suffix.lower() in VIDEO_SUFFIXES or (path.is_dir() and not any(path.glob("*.json")))


DEFAULT_MODEL = "gastnet_rf27"
# The first of these with shipped weights is the default: the models trained on video-like input
# (virtual cameras, bodies, detector joints and errors, 10-60 fps) for offline lifting and for
# live and streaming use (causal), then the older ones.
PREFERRED_MODELS = {False: ("gastnet_rf27_c32_video", "gastnet_rf27_c32_wild", "gastnet_rf27_c32"),
                    True: ("gastnet_rf27_c32_video_causal", "gastnet_rf27_c32_causal")}


def load_lifter(model: str | GASTNet | None = None, checkpoint: str | os.PathLike[str] | None = None,
                causal: bool = False) -> tuple[GASTNet, str]:
    """The model to lift with, and a line saying what it is.

    By default the shipped Human3.6M RF-27 model trained on video-like input (with
    ``causal=True``: its causal twin); a registered name without weights gives random weights, and
    says so.
    """
    if isinstance(model, GASTNet):
        return model.eval(), "the given model"
    if checkpoint is not None:
        return model_from_checkpoint(checkpoint), f"checkpoint {checkpoint}"
    if model is None:
        shipped = [m for m in PREFERRED_MODELS[causal] if m in list_pretrained()]
        model = shipped[0] if shipped else DEFAULT_MODEL + ("_causal" if causal else "")
    if model in list_pretrained():
        return create_model(model, pretrained=True), f"{model} (pretrained)"
    net = create_model(model).eval()
    net.random_weights = True  # its poses mean nothing: lift_tracks does not judge bodies by them
    return net, f"{model} with RANDOM weights (no pretrained weights for it)"


def detect_video(source, max_people: int = 4, progress: bool = False,
                 timings: dict[str, float] | None = None, detector=None) -> tuple[KeypointFile, float]:
    """2D people in every frame of a video or image folder, linked into tracks.

    ``detector``: any object with ``detect(rgb_frame) -> list[Detection]`` (COCO-17 keypoints in
    pixels); by default MediaPipe Pose finding up to ``max_people``. ``timings`` (if given)
    receives the seconds spent decoding and detecting."""
    from ..video.detectors import MultiPersonDetector
    from ..video.reader import open_source

    video = open_source(source)
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
        model, checkpoint: a registered model name, a model, or a training checkpoint; by
            default the shipped model trained on video-like input (any camera, body, detector, 10-60 fps).
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
    net, described = load_lifter(model, checkpoint)
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
    size = check_image_size(size)
    check_keypoints_in_image(data.tracks, size, "the array" if isinstance(source, np.ndarray) else str(source))
    if video_fps is not None and not (np.isfinite(video_fps) and 0 < video_fps <= MAX_FPS):
        data.notes.append(f"the video says {video_fps} fps; lifted as 30 fps")
        video_fps = 30.0
    start = time.perf_counter()
    if focal_length is None and fov is None and data.focal_length:
        focal_length, source = data.focal_length, "from the images' EXIF"
    else:
        source = None
    result = lift_tracks(data.tracks, size, net, data.num_frames, fps or video_fps or 30.0, flip, smoothing,
                         smoothing_3d=smoothing_3d, focal_length=focal_length, fov=fov, focal_source=source,
                         person_height=person_height)
    check_poses(result)
    if timings is not None:
        timings["lift"] = time.perf_counter() - start
    result.notes.insert(0, f"input: {data.format}, {data.num_frames} frames, {len(data.tracks)} tracks; "
                           f"lifted {len(result.people)} {'person' if len(result.people) == 1 else 'people'} with {described}")
    result.notes[1:1] = data.notes
    return result
