"""Lift whole recordings: 2D tracks (from a keypoint file, an array or a video) to 3D poses.

:func:`lift_tracks` drops what is not a person, fills gaps, lifts every track whole and places the
people in the world; the results and their coordinate contract are in
:mod:`gastnet.inference.results`.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from typing import Any, NamedTuple

import numpy as np
import torch

from ..camera import normalize_screen_coordinates
from ..keypoints.checks import check_image_size, check_keypoints_in_image
from ..keypoints.outliers import reject_jumps
from ..keypoints.people import most_prominent, screen_tracks
from ..keypoints.tracks import FillReport, PersonTrack, fill_gaps
from ..model.gastnet import GASTNet
from ..skeleton import H36M_17, Skeleton
from ..video.motion import CameraMotion, to_reference_frame
from .checks import not_a_body
from .fit import KinematicFit, fit_person
from .focal import FocalLengthEstimate, combine_focal, default_focal, estimate_focal
from .moving_camera import keep_paths
from .options import DEFAULT_KEYPOINT_FPS, LiftOptions, lift_options
from .placement import (
    DEFAULT_FOV_DEG,
    body_scale,
    focal_from_fov,
    place_in_world,
    root_translation,
)
from .predict import predict_sequence
from .results import LiftedPerson, LiftResult
from .smoothing import smooth

__all__ = ["CHUNK_FRAMES", "MIN_TRACK_FRAMES", "LiftOptions", "LiftResult", "LiftedPerson", "frame_stride",
           "lift_at_model_rate", "lift_tracks", "predict_in_chunks"]


MIN_TRACK_FRAMES = 5
"""Tracks seen in fewer frames are dropped (unless the whole input is that short)."""


def lift_tracks(
    tracks: list[PersonTrack],
    image_size: tuple[int, int],
    model: GASTNet,
    num_frames: int | None = None,
    fps: float | None = None,
    options: LiftOptions | None = None,
    *,
    focal_source: str | None = None,
    input_name: str = "input",
    min_frames: int = MIN_TRACK_FRAMES,
    camera_motion: CameraMotion | None = None,
    timings: dict[str, float] | None = None,
    **overrides: Any,
) -> LiftResult:
    """Drop what is not a person, fill every track's gaps, lift it whole (edge padding, flip averaging) and place it.

    ``fps`` is the rate the tracks were recorded at (default: ``options.fps``, else
    :data:`~gastnet.inference.options.DEFAULT_KEYPOINT_FPS`); ``options``
    (:class:`~gastnet.inference.options.LiftOptions`, with ``overrides`` of its fields) gives
    ``flip``, ``smoothing`` (``"one-euro"`` or ``"savgol"``, the 2D before lifting),
    ``smoothing_3d`` (the 3D poses after it), ``focal_length``, ``fov`` and ``person_height``; its
    model, layout, image size and detector fields are the caller's (:func:`gastnet.lift`). Tracks
    seen in fewer than ``min_frames`` frames (unless the input is that short), tiny, unsure, static
    or not explained by any human pose are dropped, and of the rest at most ``options.max_people`` in
    any frame are kept, the most prominent (:func:`~gastnet.keypoints.people.most_prominent`; see
    :mod:`gastnet.keypoints.people`; a model
    with random weights, ``pretrained_weights=None``, is not asked whether a track is a body); gaps
    are filled by :func:`~gastnet.keypoints.tracks.fill_gaps` (only what the detector did not give,
    and the detections that jump off their path for a frame or two:
    :func:`~gastnet.keypoints.outliers.reject_jumps`).
    The result's notes (and warnings) say what was dropped and why, and how much of each track was filled.

    ``camera_motion`` (a video's, from :mod:`gastnet.video.motion`; None: a fixed camera): a turning
    camera's people are placed in a world that stays fixed while it turns; a camera that moved or
    zoomed keeps the best paths there are and says how far to trust them (see :func:`_place`).

    Placing people (:mod:`gastnet.inference.placement`): the camera's ``focal_length`` in pixels
    (``focal_source`` says where it came from), else a ``fov`` in degrees across the long side of
    the image, else estimated from the people, a turning camera's background and its straight lines
    (:mod:`gastnet.inference.focal`), else :data:`~gastnet.inference.placement.DEFAULT_FOV_DEG`; the
    principal point is the image centre. Distances scale with the focal length and with the body's size: a 10% error
    in either puts people 10% too far or too near. Lifted bodies have the training subjects' size
    (Human3.6M: 1.6-1.8 m); ``person_height`` (metres, everyone's stature) rescales the lifted
    poses to it first (:func:`~gastnet.inference.placement.body_scale`).

    The 2D must fit the image (:mod:`gastnet.keypoints.checks`; ``input_name`` names the input in
    the message). ``timings``, if given, receives the seconds the kinematic fit took (``"fit"``).
    """
    opts = lift_options(options, **overrides)
    fps = float(fps if fps is not None else opts.fps or DEFAULT_KEYPOINT_FPS)
    w, h = check_image_size(image_size)
    check_keypoints_in_image(tracks, (w, h), input_name)
    if model.num_joints != 17:
        raise ValueError(f"lifting detector keypoints needs a Human3.6M-17 model, this one takes {model.num_joints} joints")
    if num_frames is None:
        num_frames = max((int(t.frames[-1]) + 1 for t in tracks), default=0)
    tracks, notes = screen_tracks(tracks, (w, h), fps, min_frames, num_frames)
    tracks, dropped = most_prominent(tracks, opts.max_people, (w, h), num_frames)
    notes.extend(dropped)
    kept = []
    for track in tracks:
        lifted = _lift_track(track, (w, h), model, fps, opts, notes)
        if lifted is not None:
            kept.append(lifted)
    if not kept:
        raise ValueError("nobody to lift: " + ("; ".join(notes) if notes else "no tracks"))
    if opts.person_height is not None:
        kept = [t._replace(poses=t.poses * body_scale(t.poses, opts.person_height)) for t in kept]
        notes.append(f"bodies scaled to a stature of {opts.person_height:g} m")
    placed = _place(kept, (w, h), fps, opts, focal_source, camera_motion)
    if timings is not None and opts.fit:
        timings["fit"] = placed.fit_seconds
    notes.extend(placed.camera.pop("notes"))
    people = [LiftedPerson(t.track.track_id, t.filled.frames, t.keypoints, t.filled.scores, absolute - absolute[:, :1],
                           world, t.report, absolute, contact, fit.rig if fit is not None else None,
                           fit.reprojection_px if fit is not None else None)
              for t, absolute, world, contact, fit in zip(kept, placed.poses_absolute, placed.poses_world, placed.contacts,
                                                          placed.fits)]
    if num_frames < min_frames:
        notes.append(f"only {num_frames} frames: the model sees no motion, so expect the accuracy of a single-frame "
                     "lifter; a video or image sequence of a second or more lifts better")
    step = frame_stride(model, fps)
    rates = model.pretrained_weights.frame_rates if model.pretrained_weights is not None else None
    if step > 1 and rates is not None:  # frame_stride is 1 without known rates
        low, high = rates
        trained = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        notes.append(f"the model was trained at {trained} fps: its temporal window takes frames {step} apart, "
                     f"in {step} interleaved passes averaged over {step} frames, so that every frame gets a pose")
    return LiftResult(people, num_frames, (w, h), fps, model.config, notes, placed.camera)


class _Track(NamedTuple):
    """One track lifted, before it is placed in the world."""

    track: PersonTrack
    filled: PersonTrack  # gaps filled
    report: FillReport
    keypoints: np.ndarray  # (T, 17, 2) pixels, smoothed as asked
    poses: np.ndarray  # (T, 17, 3) metres, root-relative, camera frame


def _lift_track(track: PersonTrack, image_size: tuple[int, int], model: GASTNet, fps: float, opts: LiftOptions,
                notes: list[str]) -> _Track | None:
    """Fill, smooth and lift one track; None (and a note) if it is not a body."""
    w, h = image_size
    scores, rejected = reject_jumps(track.keypoints, track.scores, fps, track.frames)
    if rejected.any():
        frames = int(rejected.any(1).sum())
        notes.append(f"track {track.track_id}: {int(rejected.sum())} joint positions in {frames} frames jumped off "
                     "their path for a frame or two (detector outliers): interpolated")
        track = dataclasses.replace(track, scores=scores)
    filled, report = fill_gaps(track)
    keypoints = smooth(filled.keypoints, opts.smoothing, fps)
    inputs = normalize_screen_coordinates(keypoints.astype(np.float32), w, h)
    poses = lift_at_model_rate(model, inputs, fps, H36M_17 if opts.flip else None)
    poses = smooth(poses - poses[:, :1], opts.smoothing_3d, fps)
    reason = None if model.pretrained_weights is None else not_a_body(keypoints, poses, filled.scores)
    if reason is not None:
        notes.append(f"dropped track {track.track_id}: {reason}")
        return None
    if report.filled_fraction > 0:
        note = (f"track {track.track_id}: interpolated {100 * report.filled_fraction:.1f}% of its joint positions "
                f"({report.missing_frames} frames without a detection"
                + (f"; never seen, replaced by a standing stand-in: {', '.join(report.stand_in_joints)}"
                   if report.stand_in_joints else "")
                + ")")
        notes.append(note)
        warnings.warn(note, stacklevel=3)
    return _Track(track, filled, report, keypoints, poses)


class _Placed(NamedTuple):
    """Where the people are: per person (T, 17, 3) camera-frame and world positions and (T,) foot contacts; the camera's facts."""

    poses_absolute: list[np.ndarray]
    poses_world: list[np.ndarray]
    contacts: list[np.ndarray]
    camera: dict[str, Any]
    fits: list[KinematicFit | None]  # per person, when the kinematic fit ran
    fit_seconds: float


def _choose_focal(people: list[_Track], image_size: tuple[int, int], fps: float, opts: LiftOptions,
                  focal_source: str | None, motion: CameraMotion | None) -> tuple[float, str, FocalLengthEstimate | None]:
    """The focal length (pixels) to place people with, where it came from, and the estimate when it was estimated.

    In order: ``opts.focal_length`` (given, or the file's: ``focal_source``), ``opts.fov``, else the
    estimate (:func:`~gastnet.inference.focal.combine_focal`) from the background of a turning
    camera (:attr:`~gastnet.video.motion.CameraMotion.focal_estimate`), from the background's straight
    lines (:attr:`~gastnet.video.motion.CameraMotion.line_focal`) and from the people
    (:func:`~gastnet.inference.focal.estimate_focal`; not while the camera moves: their paths are
    then not the paths they walked), with the prior of typical lenses."""
    if opts.focal_length is not None:  # focal_length and fov were checked by LiftOptions
        return float(opts.focal_length), focal_source or "given", None
    if opts.fov is not None:
        angle = float(opts.fov)
        return focal_from_fov(angle, image_size), f"field of view {angle:g} degrees across the long side", None
    cues: list[FocalLengthEstimate] = []
    if motion is not None and motion.focal_estimate is not None:
        found = motion.focal_estimate
        cues.append(FocalLengthEstimate.from_range(found.focal, found.low, found.high, image_size, "background",
                                                   f"the camera's turn over {found.pairs} frame pairs", coverage=0.5))
    if motion is not None and motion.line_focal is not None:
        lines = motion.line_focal
        cues.append(FocalLengthEstimate(lines.focal, lines.sigma_log, image_size, "scene lines", lines.note))
    if motion is None or motion.kind == "static":
        cues.append(estimate_focal([p.poses for p in people], [p.keypoints for p in people],
                                   [p.filled.scores for p in people], image_size, fps))
    chosen = combine_focal(cues) if cues else default_focal(image_size, "the camera moved too little to tell")
    if not chosen.informative:
        return chosen.focal_px, f"field of view {DEFAULT_FOV_DEG:g} degrees across the long side (default)", chosen
    narrow, wide = chosen.fov_range_deg()
    methods = ", ".join(f"{method} {100 * share:.0f}%" for method, share in chosen.shares())
    return chosen.focal_px, (f"estimated from {methods}: {chosen.fov_deg:.0f} degrees across, "
                             f"1 sigma {narrow:.0f}-{wide:.0f}"), chosen


def _place(people: list[_Track], image_size: tuple[int, int], fps: float, opts: LiftOptions,
           focal_source: str | None, motion: CameraMotion | None) -> _Placed:
    """Every person's (``people``, lifted and scaled) root-placed camera-frame poses, world poses and foot
    contacts, and the camera's facts.

    A camera that turned (``motion.kind == "rotating"``) has each frame's people brought into the
    first frame's camera before the floor is fitted, so the world stays fixed while the camera
    turns; one that translated or zoomed keeps the best paths there are
    (:func:`~gastnet.inference.moving_camera.keep_paths`)."""
    w, h = image_size
    focal, source, estimate = _choose_focal(people, image_size, fps, opts, focal_source, motion)
    absolute = [p.poses + root_translation(p.poses, p.keypoints, p.filled.scores, focal, (w / 2, h / 2), fps)[:, None]
                for p in people]
    start = time.perf_counter()
    fits: list[KinematicFit] = []
    if opts.fit:  # one skeleton per person, posed to agree with the 2D: it replaces the network's poses
        fits = [fit_person(a, p.keypoints, p.filled.scores, focal, (w / 2, h / 2), fps) for a, p in zip(absolute, people)]
        absolute = [f.poses for f in fits]
    fit_seconds = time.perf_counter() - start
    kind = "static" if motion is None else motion.kind
    camera_path = None
    if motion is not None and kind == "rotating" and not np.isclose(motion.focal, focal):
        motion = motion.with_focal(focal)
    if kind == "rotating":
        assert motion is not None
        placing = [to_reference_frame(a, motion.rotations[p.filled.frames]) for a, p in zip(absolute, people)]
    elif kind == "translating/zooming":
        assert motion is not None
        placing, kept_notes, camera_path = keep_paths(absolute, [p.filled.frames for p in people], motion, focal, fps)
    else:
        placing = absolute
    placement = place_in_world(placing, fps)
    first = "the first frame's camera: " if kind == "rotating" else ""
    notes = [f"camera: focal length {focal:.0f} px ({source}); {first}{placement.camera_height:.2f} m above the floor, "
             f"pitched {placement.camera_pitch_deg:.1f} degrees down, rolled {placement.camera_roll_deg:.1f}; "
             + "; ".join(placement.notes)]
    if motion is not None and kind != "static":
        notes.append(motion.describe(placement.rotation[2]) if kind == "rotating" else motion.note)
    if kind == "translating/zooming":
        notes.extend(kept_notes)
    if estimate is not None and not estimate.informative:
        notes.append("distances assume a typical phone or webcam lens (the people and the background could not "
                     "tell the lens); pass --focal-length or --fov for real distances (people come out too far "
                     "with a wider lens, too near with a longer one)")
    camera = {"focal_length_px": focal, "focal_source": source, "principal_point_px": [w / 2, h / 2],
              "height_m": placement.camera_height, "pitch_deg": placement.camera_pitch_deg,
              "roll_deg": placement.camera_roll_deg, "floor_fit": placement.plane_method,
              "camera_to_world_rotation": placement.rotation.tolist(),
              "camera_to_world_translation": placement.translation.tolist(), "motion": kind, "notes": notes}
    if estimate is not None and estimate.informative:
        camera["focal_length_sigma_log"] = estimate.sigma_log
    if motion is not None and (kind == "rotating" or (motion.zoom is not None and camera_path is None)):
        # frame t's camera -> world: camera_to_world_rotation @ rotations[t].T (rotations: frame-0 camera -> frame t's)
        camera["rotations"] = np.round(motion.rotations, 6).tolist()
        if motion.zoom is not None:  # frame t's focal length: focal_length_px * zoom[t]
            camera["zoom"] = np.round(motion.zoom, 6).tolist()
    if kind == "translating/zooming" and camera_path is not None:
        # frame t's camera in the world: rotation camera_to_world_rotation @ rotations[t].T, centre path_world_m[t]
        camera["rotations"] = np.round(camera_path.rotations, 6).tolist()
        camera["path_world_m"] = np.round(camera_path.centres @ placement.rotation.T + placement.translation, 4).tolist()
    notes.extend(_fit_note(p.track.track_id, f) for p, f in zip(people, fits))
    fitted: list[KinematicFit | None] = list(fits) if fits else [None] * len(people)
    return _Placed(absolute, list(placement.poses_world), list(placement.contacts), camera, fitted, fit_seconds)


def _fit_note(track_id: int, fit: KinematicFit) -> str:
    """One line on a person's kinematic fit: the skeleton and how well it agrees with the image."""
    after, before = fit.reprojection_px, fit.reprojection_before_px
    if not np.isfinite(after).any():
        return f"track {track_id}: one skeleton of {fit.rig.height:.2f} m fitted (no detected joints to reproject)"
    joints = ", ".join(f"{name} {np.nanmedian(after[:, j]):.1f}" for j, name in enumerate(H36M_17.joint_names)
                       if np.isfinite(after[:, j]).any())
    return (f"track {track_id}: one skeleton of {fit.rig.height:.2f} m fitted; its joints reproject "
            f"{np.nanmedian(after):.1f} px from the detected 2D (median; the network's {np.nanmedian(before):.1f} px), "
            f"per joint (px): {joints}")


def frame_stride(model: GASTNet, fps: float) -> int:
    """How many input frames apart the model's temporal window takes its frames at ``fps``.

    Read from ``model.pretrained_weights.frame_rates``: 1 (the video's own rate) for weights
    trained over a range of frame rates that holds ``fps`` (or above it: slow input is lifted as
    it is); for weights trained at one rate, or input faster than the range, the whole number of
    frames that comes closest to the trained spacing; 1 when the rates are not known.

    >>> from gastnet import create_model
    >>> clean = create_model("gastnet_rf27_c32.h36m", pretrained=True)  # trained at 10 fps
    >>> frame_stride(clean, 50.0), frame_stride(clean, 30.0), frame_stride(clean, 10.0)
    (5, 3, 1)
    >>> video = create_model("gastnet_rf27_c32.video", pretrained=True)  # trained at 10-60 fps
    >>> frame_stride(video, 30.0), frame_stride(video, 60.0), frame_stride(video, 120.0), frame_stride(video, 5.0)
    (1, 1, 2, 1)
    """
    rates = model.pretrained_weights.frame_rates if model.pretrained_weights is not None else None
    if rates is None:
        return 1
    low, high = rates
    if low == high:
        return max(1, round(fps / low))
    return max(1, math.ceil(fps / high - 1e-6))


CHUNK_FRAMES = 1024
"""Frames lifted at once; longer sequences go in chunks, so memory does not grow with their length."""


def predict_in_chunks(model: GASTNet, inputs: np.ndarray, flip: Skeleton | None = None,
                      chunk: int = CHUNK_FRAMES) -> np.ndarray:
    """:func:`~gastnet.inference.predict.predict_sequence` over normalised 2D (T, J, 2) in chunks of
    ``chunk`` frames: (T, J, 3), the same numbers as one pass over the whole sequence.

    Each chunk is lifted with ``receptive_field - 1`` real frames of context on both sides (the
    sequence's own edges are padded as in one pass), so every output frame sees exactly the frames
    it would see in one pass; activations stay bounded by the chunk, not the sequence.
    """
    n = len(inputs)
    with torch.no_grad():
        if n <= chunk:
            return predict_sequence(model, inputs, flip).numpy()
        context = model.receptive_field - 1
        out = np.empty((n, inputs.shape[1], 3), np.float32)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            lo, hi = max(0, start - context), min(n, stop + context)
            out[start:stop] = predict_sequence(model, inputs[lo:hi], flip).numpy()[start - lo : stop - lo]
    return out


def lift_at_model_rate(model: GASTNet, inputs: np.ndarray, fps: float, flip: Skeleton | None = None) -> np.ndarray:
    """Poses (T, J, 3) for every frame of normalised 2D ``inputs`` (T, J, 2) recorded at ``fps``.

    A model trained at 10 fps sees 2.7 s in 27 frames; fed 50 fps video it would see 0.5 s. With
    a stride of k (see :func:`frame_stride`) the sequence is lifted in k interleaved passes (every
    k-th frame, from each of the k phases), and the result is averaged over k consecutive
    frames: passes that disagree would otherwise leave a ripple at ``fps / k`` Hz, which a
    k-frame mean removes exactly. Models trained over a range of frame rates lift video inside
    that range in one pass at its own rate.
    """
    stride = frame_stride(model, fps)
    out = np.empty(inputs.shape[:-1] + (3,))
    for phase in range(min(stride, len(inputs))):
        out[phase::stride] = predict_in_chunks(model, inputs[phase::stride], flip)
    if stride > 1 and len(out) >= stride:  # a centred stride-frame mean, edges repeated
        padded = np.concatenate([np.repeat(out[:1], stride // 2, 0), out, np.repeat(out[-1:], (stride - 1) // 2, 0)])
        out = np.mean([padded[i : i + len(out)] for i in range(stride)], axis=0)
    return out
