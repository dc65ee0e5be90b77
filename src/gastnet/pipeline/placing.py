"""Lifted people placed in the world: the lens, each root, the kinematic fit, the camera's turns, the floor.

:func:`place_people` is the step of :func:`~gastnet.pipeline.tracks_to_3d.lift_tracks` after the
network: it takes each person's root-relative camera-frame poses and the 2D they were lifted from
and returns a :class:`Placement`: per person the poses where they are in the camera frame and in
the world, foot contacts and the fitted skeleton, the :class:`~gastnet.pipeline.results.CameraInfo`
and the notes that explain the choices. Each choice is its own function: the lens
(:func:`choose_focal`), the root path (:func:`gastnet.world.placement.root_translation`), the fit
(:func:`gastnet.world.fit.fit_person`), the camera's motion (:func:`motion_frames`), the people's
sizes and depths relative to each other (:func:`gastnet.world.together.scale_together`), the floor
(:func:`gastnet.world.placement.place_in_world`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..geometry.camera import DEFAULT_FOV_DEG, focal_from_fov
from ..skeleton import H36M_17
from ..video.camera_path import CameraPath
from ..world.camera_motion import CameraMotion, MotionKind, to_reference_frame
from ..world.fit import KinematicFit, describe_definition_offsets, fit_person
from ..world.focal import FocalLengthEstimate, combine_focal, default_focal, estimate_focal
from ..world.placement import WorldPlacement, place_in_world, root_translation
from ..world.together import TOUCH_GAP_M, Together, contact_targets, scale_together
from ..world.upside_down import hanging_or_under
from .moving_camera import keep_paths
from .options import LiftOptions
from .results import CameraInfo

__all__ = ["ChosenFocal", "LiftedTrack", "MotionFrames", "PlacedPerson", "Placement", "choose_focal", "motion_frames",
           "place_people"]


@dataclass(frozen=True)
class LiftedTrack:
    """One person lifted, before placement: ``track_id``, ``frames`` (T,) input frame indices,
    ``keypoints`` (T, 17, 2) pixels (gaps filled, smoothed as asked), ``scores`` (T, 17) and
    ``poses`` (T, 17, 3) metres, root-relative, camera frame."""

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    poses: np.ndarray


@dataclass(frozen=True)
class PlacedPerson:
    """One person placed: ``poses_absolute`` (T, 17, 3) and ``poses_world`` (T, 17, 3) metres, ``contacts``
    (T,) bool (a foot on the floor), and the kinematic fit (None when it was not run)."""

    poses_absolute: np.ndarray
    poses_world: np.ndarray
    contacts: np.ndarray
    fit: KinematicFit | None


@dataclass(frozen=True)
class Placement:
    """What :func:`place_people` found: the people kept (in the order given; ``kept`` their indices in
    it: a body upside down off the others' floor is dropped, and a note says why), the camera, notes,
    and the seconds the kinematic fit took."""

    people: list[PlacedPerson]
    camera: CameraInfo
    notes: list[str]
    fit_seconds: float
    kept: list[int]


@dataclass(frozen=True)
class ChosenFocal:
    """The focal length placed with (``focal_px``, pixels), where it came from (``source``, words for
    the notes) and the estimate when it was estimated (``estimate``)."""

    focal_px: float
    source: str
    estimate: FocalLengthEstimate | None = None


def choose_focal(people: Sequence[LiftedTrack], image_size: tuple[int, int], fps: float, opts: LiftOptions,
                 focal_source: str | None, motion: CameraMotion | None) -> ChosenFocal:
    """The focal length (pixels) to place people with.

    In order: ``opts.focal_length`` (given, or the file's: ``focal_source``), ``opts.fov``, else the
    estimate (:func:`~gastnet.world.focal.combine_focal`) from the background of a turning camera
    (:attr:`~gastnet.world.camera_motion.CameraMotion.focal_estimate`), from the background's
    straight lines (:attr:`~gastnet.world.camera_motion.CameraMotion.line_focal`) and from the people
    (:func:`~gastnet.world.focal.estimate_focal`; not while the camera moves: their paths are then
    not the paths they walked), with the prior of typical lenses; the source says each cue's share."""
    if opts.focal_length is not None:  # focal_length and fov were checked by LiftOptions
        return ChosenFocal(float(opts.focal_length), focal_source or "given")
    if opts.fov is not None:
        angle = float(opts.fov)
        return ChosenFocal(focal_from_fov(angle, image_size), f"field of view {angle:g} degrees across the long side")
    cues: list[FocalLengthEstimate] = []
    if motion is not None and motion.focal_estimate is not None:
        cues.append(motion.focal_estimate)
    if motion is not None and motion.line_focal is not None:
        cues.append(motion.line_focal)
    if motion is None or motion.kind == MotionKind.STATIC:
        cues.append(estimate_focal([p.poses for p in people], [p.keypoints for p in people],
                                   [p.scores for p in people], image_size, fps))
    chosen = combine_focal(cues) if cues else default_focal(image_size, "the camera moved too little to tell")
    if not chosen.informative:
        return ChosenFocal(chosen.focal_px, f"field of view {DEFAULT_FOV_DEG:g} degrees across the long side (default)",
                           chosen)
    narrow, wide = chosen.fov_range_deg()
    methods = ", ".join(f"{method} {100 * share:.0f}%" for method, share in chosen.shares())
    return ChosenFocal(chosen.focal_px, (f"estimated from {methods}: {chosen.fov_deg:.0f} degrees across, "
                                         f"1 sigma {narrow:.0f}-{wide:.0f}"), chosen)


@dataclass(frozen=True)
class MotionFrames:
    """What :func:`motion_frames` gives: per person the poses (T_i, 17, 3) metres in the frame the floor
    is fitted in, the motion analysed with the focal length used, the notes on how far the paths can
    be trusted, and the camera's path when a moving camera's was recovered."""

    poses: list[np.ndarray]
    motion: CameraMotion | None
    notes: list[str]
    camera_path: CameraPath | None = None


def motion_frames(poses_absolute: Sequence[np.ndarray], frames: Sequence[np.ndarray], motion: CameraMotion | None,
                  focal: float, fps: float) -> MotionFrames:
    """Camera-frame poses (T, 17, 3) metres, per person, in the frame the floor is fitted in.

    A camera that turned (:attr:`MotionKind.ROTATING`) has each frame's people brought into the
    first frame's camera, so the world stays fixed while the camera turns; one that translated or
    zoomed keeps the best paths there are (:func:`~gastnet.pipeline.moving_camera.keep_paths`: a
    zoom undone, a path recovered from the floor, else the camera-frame paths, and notes that say
    which); otherwise the poses are kept. ``focal`` (pixels) is the lens placed with, ``fps`` the rate."""
    if motion is None:
        return MotionFrames(list(poses_absolute), None, [])
    if motion.kind == MotionKind.ROTATING:
        if not np.isclose(motion.focal, focal):
            motion = motion.with_focal(focal)
        return MotionFrames([to_reference_frame(a, motion.rotations[f]) for a, f in zip(poses_absolute, frames)],
                            motion, [])
    if motion.kind == MotionKind.TRANSLATING:
        kept = keep_paths(poses_absolute, frames, motion, focal, fps)
        return MotionFrames(kept.poses, motion, kept.notes, kept.camera_path)
    return MotionFrames(list(poses_absolute), motion, [])


def place_people(people: Sequence[LiftedTrack], image_size: tuple[int, int], fps: float, opts: LiftOptions,
                 focal_source: str | None = None, motion: CameraMotion | None = None) -> Placement:
    """Every person's (``people``, lifted and scaled) camera-frame and world poses, foot contacts and fit.

    ``image_size`` (w, h) pixels, the principal point its centre; ``fps`` the frame rate; ``opts``
    gives the lens (``focal_length``, ``fov``) and ``fit``; ``focal_source`` words for a
    ``focal_length`` that came from the input; ``motion`` the camera's (None: fixed). After the fit,
    a body upside down off the floor the upright others stand on is dropped
    (:func:`~gastnet.world.upside_down.hanging_or_under`: a thing hanging, or a reflection); the
    others are scaled together and placed without it."""
    w, h = image_size
    centre = (w / 2, h / 2)
    chosen = choose_focal(people, image_size, fps, opts, focal_source, motion)
    focal = chosen.focal_px
    absolute = [p.poses + root_translation(p.poses, p.keypoints, p.scores, focal, centre, fps)[:, None] for p in people]
    lifted = absolute  # the network's poses placed, before the fit
    start = time.perf_counter()
    fits: list[KinematicFit | None] = [None] * len(people)
    if opts.fit:  # one skeleton per person, posed to agree with the 2D: it replaces the network's poses
        fits = [fit_person(a, p.keypoints, p.scores, focal, centre, fps) for a, p in zip(absolute, people)]
        absolute = [f.poses for f in fits if f is not None]
    fit_seconds = time.perf_counter() - start
    moved = motion_frames(absolute, [p.frames for p in people], motion, focal, fps)
    placing, motion = moved.poses, moved.motion
    reasons = hanging_or_under(placing, [p.scores for p in people], fps)  # things, judged by the others' floor
    kept = [i for i, reason in enumerate(reasons) if reason is None]
    dropped = [f"dropped track {people[i].track_id}: {reason}" for i, reason in enumerate(reasons) if reason is not None]
    people, lifted, absolute = [people[i] for i in kept], [lifted[i] for i in kept], [absolute[i] for i in kept]
    placing, fits = [placing[i] for i in kept], [fits[i] for i in kept]
    if opts.person_height is not None or (motion is not None and motion.kind == MotionKind.TRANSLATING):
        together = Together(np.ones(len(people)))  # statures given; or people seen from several camera centres
    else:  # one camera centre: a scale about it keeps every frame's 2D
        together = scale_together(placing, [p.frames for p in people], [p.keypoints for p in people],
                                  [p.scores for p in people], [f"track {p.track_id}" for p in people])
    scales = together.scales
    if not np.all(scales == 1.0):  # about the camera's centre: the 2D stays as it is
        absolute = [a * s for a, s in zip(absolute, scales)]
        placing = [a * s for a, s in zip(placing, scales)]
        fits = [None if f is None else dataclasses.replace(f, poses=f.poses * s, rig=f.rig.scaled(s))
                for f, s in zip(fits, scales)]
    notes_touch: list[str] = []
    if opts.fit and together.contacts:  # touching joints: both people posed again so that they meet
        start = time.perf_counter()
        fits = _fit_touching(people, [a * s for a, s in zip(lifted, scales)], absolute, fits, together, focal, centre, fps)
        absolute = [f.poses if f is not None else a for a, f in zip(absolute, fits)]
        touching = sorted({i for c in together.contacts for i in (c.a, c.b)})
        notes_touch = [f"touching joints posed to meet ({TOUCH_GAP_M:g} m apart) in the fits of "
                       + ", ".join(f"track {people[i].track_id}" for i in touching)]
        placing = motion_frames(absolute, [p.frames for p in people], motion, focal, fps).poses
        fit_seconds += time.perf_counter() - start
    world = place_in_world(placing, fps)
    camera = _camera_info(chosen, centre, world, motion, moved.camera_path)
    notes = dropped + _camera_notes(camera, chosen, world, motion) + moved.notes + together.notes + notes_touch
    notes.extend(_fit_note(p.track_id, f) for p, f in zip(people, fits) if f is not None)
    placed = [PlacedPerson(a, pw, c, f) for a, pw, c, f in zip(absolute, world.poses_world, world.contacts, fits)]
    return Placement(placed, camera, notes, fit_seconds, kept)


def _fit_touching(people: Sequence[LiftedTrack], lifted: list[np.ndarray], fitted: list[np.ndarray],
                  fits: list[KinematicFit | None], together: Together, focal: float, centre: tuple[float, float],
                  fps: float) -> list[KinematicFit | None]:
    """The fits again, for the people who touch someone, with the touching joints pulled together
    (:func:`~gastnet.world.together.contact_targets` of the ``fitted`` poses): from the network's
    ``lifted`` poses, with the same skeletons; both (T_i, 17, 3) camera-frame metres, scaled."""
    targets = contact_targets(fitted, together.contacts)
    refitted = list(fits)
    for i, (person, pose, fit, target) in enumerate(zip(people, lifted, fits, targets)):
        if fit is not None and target is not None:
            refitted[i] = fit_person(pose, person.keypoints, person.scores, focal, centre, fps, rig=fit.rig,
                                     targets=target)
    return refitted


def _camera_info(chosen: ChosenFocal, centre: tuple[float, float], world: WorldPlacement,
                 motion: CameraMotion | None, path: CameraPath | None) -> CameraInfo:
    """The camera's facts; for a camera that moved, its recovered path in the world (or its zoom)."""
    kind = MotionKind.STATIC if motion is None else MotionKind(motion.kind)
    estimate = chosen.estimate
    turns, zoom, centres = None, None, None
    if motion is not None and (kind == MotionKind.ROTATING or (motion.zoom is not None and path is None)):
        turns, zoom = motion.rotations, motion.zoom  # frame-0 camera -> frame t's
    if kind == MotionKind.TRANSLATING and path is not None:
        turns, centres = path.rotations, path.centres @ world.rotation.T + world.translation
    return CameraInfo(
        focal_length_px=chosen.focal_px, focal_source=chosen.source, principal_point_px=centre,
        height_m=world.camera_height, pitch_deg=world.camera_pitch_deg, roll_deg=world.camera_roll_deg,
        floor_fit=world.plane_method, camera_to_world_rotation=world.rotation,
        camera_to_world_translation=world.translation, motion=kind,
        focal_length_sigma_log=estimate.sigma_log if estimate is not None and estimate.informative else None,
        rotations=turns, zoom=zoom, path_world_m=centres)


def _camera_notes(camera: CameraInfo, chosen: ChosenFocal, world: WorldPlacement, motion: CameraMotion | None) -> list[str]:
    """The notes on the lens, the camera's height, pitch and roll, the floor and the camera's motion."""
    kind = camera.motion
    first = "the first frame's camera: " if kind == MotionKind.ROTATING else ""
    notes = [f"camera: focal length {camera.focal_length_px:.0f} px ({chosen.source}); {first}{world.camera_height:.2f} m "
             f"above the floor, pitched {world.camera_pitch_deg:.1f} degrees down, rolled {world.camera_roll_deg:.1f}; "
             + "; ".join(world.notes)]
    if motion is not None and kind != MotionKind.STATIC:
        notes.append(motion.describe(world.rotation[2]) if kind == MotionKind.ROTATING else motion.note)
    if chosen.estimate is not None and not chosen.estimate.informative:
        notes.append("distances assume a typical phone or webcam lens (the people and the background could not "
                     "tell the lens); pass --focal-length or --fov for real distances (people come out too far "
                     "with a wider lens, too near with a longer one)")
    return notes


def _fit_note(track_id: int, fit: KinematicFit) -> str:
    """One line on a person's kinematic fit: the skeleton and how well it agrees with the image."""
    after, before = fit.reprojection_px, fit.reprojection_before_px
    if not np.isfinite(after).any():
        return f"track {track_id}: one skeleton of {fit.rig.height:.2f} m fitted (no detected joints to reproject)"
    joints = ", ".join(f"{name} {np.nanmedian(after[:, j]):.1f}" for j, name in enumerate(H36M_17.joint_names)
                       if np.isfinite(after[:, j]).any())
    return (f"track {track_id}: one skeleton of {fit.rig.height:.2f} m fitted; its joints reproject "
            f"{np.nanmedian(after):.1f} px from the detected 2D (median; the network's {np.nanmedian(before):.1f} px), "
            f"per joint (px): {joints}; the detector's joints against the skeleton's (cm, left/up/forward): "
            f"{describe_definition_offsets(fit)}")
