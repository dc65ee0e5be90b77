"""2D tracks (from a keypoint file, an array or a video) to 3D people placed in the world.

:func:`lift_tracks` is the middle of :func:`gastnet.lift`: it drops what is not a person
(:mod:`gastnet.keypoints.people`), fills gaps and lifts every track whole (:func:`lift_track`, the
network through :func:`gastnet.runtime.predict.lift_at_model_rate`), then places everybody in the
world (:func:`gastnet.pipeline.placing.place_people`). The results and their coordinate contract
are in :mod:`gastnet.pipeline.results`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from ..geometry.camera import normalize_screen_coordinates
from ..keypoints.checks import check_image_size, check_keypoints_in_image
from ..keypoints.outliers import reject_jumps
from ..keypoints.people import most_prominent, screen_tracks
from ..keypoints.rejoin import join_hidden
from ..keypoints.tracks import FillReport, PersonTrack, fill_gaps
from ..model.gastnet import GASTNet
from ..runtime.predict import frame_stride, lift_at_model_rate
from ..runtime.smoothing import smooth
from ..skeleton import H36M_17
from ..world.camera_motion import CameraMotion
from ..world.placement import body_scale
from .checks import not_a_body
from .options import DEFAULT_KEYPOINT_FPS, LiftOptions, lift_options
from .placing import LiftedTrack, PlacedPerson, place_people
from .results import LiftedPerson, LiftResult

__all__ = ["MIN_TRACK_FRAMES", "TrackLift", "lift_track", "lift_tracks"]


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
    """2D tracks (pixels) of a recording to the people in 3D: screened, lifted whole, placed in the world.

    In order: the pieces of one person hidden behind someone are joined
    (:func:`~gastnet.keypoints.rejoin.join_hidden`); tracks too short (under ``min_frames``, unless
    the input is that short), tiny, unsure, static, rigid or not a person are dropped
    (:func:`~gastnet.keypoints.people.screen_tracks`); at most ``options.max_people`` are kept in
    any frame, the most prominent there (:func:`~gastnet.keypoints.people.most_prominent`); each
    track is filled and lifted (:func:`lift_track`) and bodies no pose explains are dropped (a
    model without weights is not asked); the people are scaled to ``person_height`` when given
    (:func:`~gastnet.world.placement.body_scale`) and placed
    (:func:`~gastnet.pipeline.placing.place_people`: the lens, roots, fit, camera motion, floor; a
    body upside down off the others' floor is dropped there).

    ``image_size`` (w, h) pixels, which the 2D must fit (``input_name`` names the input in the
    message); ``num_frames`` of the input (default: up to the last tracked frame); ``fps`` the
    tracks' rate (default ``options.fps``, else
    :data:`~gastnet.pipeline.options.DEFAULT_KEYPOINT_FPS`); ``options`` (with ``overrides`` of its
    fields) gives flip, smoothing, lens, stature, people and fit; ``focal_source`` says where a
    given ``focal_length`` came from; ``camera_motion`` is the video's (None: a fixed camera);
    ``timings``, if given, receives the seconds of the kinematic fit (``"fit"``). The result's
    notes (and warnings) say what was dropped and why, and how much of each track was filled.
    """
    opts = lift_options(options, **overrides)
    fps = float(fps if fps is not None else opts.fps or DEFAULT_KEYPOINT_FPS)
    w, h = check_image_size(image_size)
    check_keypoints_in_image(tracks, (w, h), input_name)
    if model.num_joints != 17:
        raise ValueError(f"lifting detector keypoints needs a Human3.6M-17 model, this one takes {model.num_joints} joints")
    if num_frames is None:
        num_frames = max((int(t.frames[-1]) + 1 for t in tracks), default=0)
    tracks, notes = join_hidden(tracks, fps)
    tracks, dropped = screen_tracks(tracks, (w, h), fps, min_frames, num_frames)
    notes.extend(dropped)
    tracks, dropped = most_prominent(tracks, opts.max_people, (w, h), num_frames, min_frames)
    notes.extend(dropped)
    kept: list[TrackLift] = []
    people: list[LiftedTrack] = []
    for track in tracks:  # a loop, not a comprehension: lift_track's warnings point at the caller
        lifted = lift_track(track, (w, h), model, fps, opts)
        notes.extend(lifted.notes)
        if lifted.lifted is not None:
            kept.append(lifted)
            people.append(lifted.lifted)
    if not kept:
        raise ValueError("nobody to lift: " + ("; ".join(notes) if notes else "no tracks"))
    if opts.person_height is not None:
        people = [dataclasses.replace(p, poses=p.poses * body_scale(p.poses, opts.person_height)) for p in people]
        notes.append(f"bodies scaled to a stature of {opts.person_height:g} m")
    placement = place_people(people, (w, h), fps, opts, focal_source, camera_motion)
    if timings is not None and opts.fit:
        timings["fit"] = placement.fit_seconds
    notes.extend(placement.notes)
    result_people = [_person(kept[i], people[i], placed) for i, placed in zip(placement.kept, placement.people)]
    notes.extend(_input_notes(model, fps, num_frames, min_frames))
    return LiftResult(result_people, num_frames, (w, h), fps, model.config, notes, placement.camera)


def _person(lifted: TrackLift, person: LiftedTrack, placed: PlacedPerson) -> LiftedPerson:
    """The result's person from their lift (``lifted``, ``person``: scaled) and placement (``placed``)."""
    absolute = placed.poses_absolute
    fit = placed.fit
    return LiftedPerson(
        track_id=person.track_id, frames=person.frames, keypoints_2d=person.keypoints, scores=person.scores,
        poses_camera=absolute - absolute[:, :1], poses_world=placed.poses_world, fill=lifted.report,
        poses_camera_absolute=absolute, foot_contact=placed.contacts, rig=None if fit is None else fit.rig,
        reprojection_px=None if fit is None else fit.reprojection_px,
        definition_offsets=None if fit is None else fit.definition_offsets)


def _input_notes(model: GASTNet, fps: float, num_frames: int, min_frames: int) -> list[str]:
    """Notes on what the input's length and frame rate mean for the model."""
    notes = []
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
    return notes


@dataclasses.dataclass(frozen=True)
class TrackLift:
    """What :func:`lift_track` made of one track: the person lifted (None: not a body), the gap-filling
    report and the notes (outliers rejected, gaps filled, why it was dropped)."""

    lifted: LiftedTrack | None
    report: FillReport
    notes: list[str]


def lift_track(track: PersonTrack, image_size: tuple[int, int], model: GASTNet, fps: float,
               opts: LiftOptions) -> TrackLift:
    """Reject a track's outliers, fill its gaps, smooth and lift it; ``lifted`` is None if it is not a body.

    ``image_size`` (w, h) pixels; ``fps`` the track's frame rate; ``opts`` gives ``smoothing``,
    ``smoothing_3d`` and ``flip``. The poses are root-relative, camera frame, metres."""
    w, h = image_size
    notes = []
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
        return TrackLift(None, report, notes + [f"dropped track {track.track_id}: {reason}"])
    if report.filled_fraction > 0:
        note = (f"track {track.track_id}: interpolated {100 * report.filled_fraction:.1f}% of its joint positions "
                f"({report.missing_frames} frames without a detection"
                + (f"; never seen, replaced by a standing stand-in: {', '.join(report.stand_in_joints)}"
                   if report.stand_in_joints else "")
                + ")")
        notes.append(note)
        warnings.warn(note, stacklevel=3)
    return TrackLift(LiftedTrack(track.track_id, filled.frames, keypoints, filled.scores, poses), report, notes)
