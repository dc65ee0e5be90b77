"""Lift whole recordings: 2D tracks (from a keypoint file, an array or a video) to 3D poses.

Coordinate and unit contract of the results (all metres, Human3.6M-17 joints):

- ``poses_camera`` (T, 17, 3): root-relative positions in the camera frame: x right, y down,
  z away from the camera; the pelvis is at the origin in every frame.
- ``poses_camera_absolute`` (T, 17, 3): the same poses where they are in the camera frame: the
  root placed so that the pose projects onto the 2D through a pinhole camera (focal length from
  the caller, the file, or a default field of view; see :mod:`gastnet.inference.placement`).
- ``poses_world`` (T, 17, 3): a world frame on the floor: z up (the floor's normal, fitted to the
  foot contacts of everybody), x the camera's horizontal axis laid onto the floor, y = z x x (away
  from the camera), origin on the floor below the camera; feet on the floor (z = 0 at ankle-joint
  height) in every frame a foot is judged to stand on it; people at their estimated separation,
  moving along their paths.
- ``keypoints_2d`` (T, 17, 2) pixels, ``scores`` (T, 17) and ``interpolated`` (T, 17): the 2D
  that was lifted; the detector's own positions and confidences wherever it gave a joint, however
  uncertain, and interpolated positions (score 0, ``interpolated`` True) only where it did not
  (see :func:`gastnet.keypoints.tracks.fill_gaps`).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..camera import normalize_screen_coordinates
from ..evaluation.evaluate import predict_sequence
from ..fileio import atomic_path, save_npz
from ..keypoints.people import not_a_body, screen_tracks
from ..keypoints.tracks import FillReport, PersonTrack, fill_gaps
from ..model.gastnet import GASTNet
from ..skeleton import H36M_17, Skeleton
from .placement import DEFAULT_FOV_DEG, focal_from_fov, place_in_world, root_translation
from .smoothing import smooth

__all__ = ["LiftedPerson", "LiftResult", "lift_tracks", "lift_at_model_rate", "frame_stride"]


@dataclass
class LiftedPerson:
    track_id: int
    frames: np.ndarray  # (T,) frame indices in the input
    keypoints_2d: np.ndarray  # (T, 17, 2) pixels
    scores: np.ndarray  # (T, 17)
    poses_camera: np.ndarray  # (T, 17, 3) metres, root-relative
    poses_world: np.ndarray  # (T, 17, 3) metres
    fill: FillReport
    poses_camera_absolute: np.ndarray | None = None  # (T, 17, 3) metres
    foot_contact: np.ndarray | None = None  # (T,) bool: a foot judged to stand on the floor


@dataclass
class LiftResult:
    """Everything a lift produced; :meth:`save` writes it."""

    people: list[LiftedPerson]
    num_frames: int
    image_size: tuple[int, int]
    fps: float
    model: dict
    notes: list[str] = field(default_factory=list)
    camera: dict = field(default_factory=dict)  # focal length (pixels) and its source, height, pitch, roll, floor fit

    def padded(self, name: str, width: int) -> np.ndarray:
        """``name`` (e.g. ``"poses_world"``) of every person over all input frames: (P, N, 17, width), NaN where absent."""
        out = np.full((len(self.people), self.num_frames, 17, width), np.nan, np.float32)
        for i, p in enumerate(self.people):
            out[i, p.frames] = getattr(p, name)
        return out

    def save(self, out_dir: str | os.PathLike[str], formats: tuple[str, ...] = ("npz",)) -> list[Path]:
        """Write ``poses.npz`` (arrays (P, N, 17, C) over all N input frames, NaN where a person is
        absent), and on request ``poses.json``, ``poses.csv`` and ``poses_<track>.bvh`` (one per
        person, Y up, metres); every file atomically."""
        out_dir = Path(out_dir)
        paths = []
        scores = np.full((len(self.people), self.num_frames, 17), np.nan, np.float32)
        interpolated = np.zeros((len(self.people), self.num_frames, 17), bool)
        contact = np.zeros((len(self.people), self.num_frames), bool)
        for i, p in enumerate(self.people):
            scores[i, p.frames] = p.scores
            interpolated[i, p.frames] = p.fill.filled
            contact[i, p.frames] = p.foot_contact
        meta = {"units": "metres (3D), pixels (2D)", "joint_names": list(H36M_17.joint_names),
                "parents": list(H36M_17.parents), "image_size": list(self.image_size), "fps": self.fps,
                "model": self.model, "camera": self.camera, "notes": self.notes}
        if "npz" in formats:
            paths.append(save_npz(
                out_dir / "poses.npz", poses_world=self.padded("poses_world", 3), poses_camera=self.padded("poses_camera", 3),
                poses_camera_absolute=self.padded("poses_camera_absolute", 3), foot_contact=contact,
                keypoints_2d=self.padded("keypoints_2d", 2), scores=scores, interpolated=interpolated,
                track_ids=np.array([p.track_id for p in self.people]), meta=np.array(json.dumps(meta)),
            ))
        if "json" in formats:
            doc = {**meta, "people": [{"track_id": p.track_id, "frames": p.frames.tolist(),
                                       "poses_world": np.round(p.poses_world, 5).tolist(),
                                       "poses_camera": np.round(p.poses_camera, 5).tolist(),
                                       "poses_camera_absolute": np.round(p.poses_camera_absolute, 5).tolist(),
                                       "foot_contact": p.foot_contact.astype(int).tolist(),
                                       "keypoints_2d": np.round(p.keypoints_2d, 2).tolist(),
                                       "scores": np.round(p.scores, 3).tolist(),
                                       "interpolated": p.fill.filled.astype(int).tolist()} for p in self.people]}
            with atomic_path(out_dir / "poses.json") as tmp:
                tmp.write_text(json.dumps(doc))
            paths.append(out_dir / "poses.json")
        if "bvh" in formats:
            from ..animation.bvh import write_bvh

            for p in self.people:  # one file per person, rotations solved from the world-frame positions
                paths.append(write_bvh(out_dir / f"poses_{p.track_id}.bvh", p.poses_world, H36M_17, self.fps, up_axis="z"))
        if "csv" in formats:
            lines = ["frame,track_id,joint,x_world,y_world,z_world,x_camera,y_camera,z_camera,"
                     "x_camera_absolute,y_camera_absolute,z_camera_absolute,u,v,score,interpolated"]
            for p in self.people:
                for t, frame in enumerate(p.frames):
                    for j, name in enumerate(H36M_17.joint_names):
                        w, c, a, k = p.poses_world[t, j], p.poses_camera[t, j], p.poses_camera_absolute[t, j], p.keypoints_2d[t, j]
                        lines.append(f"{frame},{p.track_id},{name},{w[0]:.5f},{w[1]:.5f},{w[2]:.5f},"
                                     f"{c[0]:.5f},{c[1]:.5f},{c[2]:.5f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},"
                                     f"{k[0]:.2f},{k[1]:.2f},{p.scores[t, j]:.3f},{int(p.fill.filled[t, j])}")
            with atomic_path(out_dir / "poses.csv") as tmp:
                tmp.write_text("\n".join(lines) + "\n")
            paths.append(out_dir / "poses.csv")
        return paths


def lift_tracks(
    tracks: list[PersonTrack],
    image_size: tuple[int, int],
    model: GASTNet,
    num_frames: int | None = None,
    fps: float = 30.0,
    flip: bool = True,
    smoothing: str | None = None,
    min_frames: int = 5,
    smoothing_3d: str | None = None,
    focal_length: float | None = None,
    fov: float | None = None,
    focal_source: str | None = None,
) -> LiftResult:
    """Drop what is not a person, fill every track's gaps, lift it whole (edge padding, flip averaging) and place it.

    ``smoothing`` (``"one-euro"`` or ``"savgol"``) filters the 2D before lifting, ``smoothing_3d``
    the 3D poses after it. Tracks seen in fewer than ``min_frames`` frames (unless the input is
    that short), tiny, unsure, static or not explained by any human pose are dropped (see
    :mod:`gastnet.keypoints.people`); gaps are filled by :func:`~gastnet.keypoints.tracks.fill_gaps`
    (only what the detector did not give). The result's notes (and warnings) say what was dropped
    and why, and how much of each track was filled.

    Placing people (:mod:`gastnet.inference.placement`): the camera's ``focal_length`` in pixels
    (``focal_source`` says where it came from), else a ``fov`` in degrees across the long side of
    the image, else :data:`~gastnet.inference.placement.DEFAULT_FOV_DEG`; the principal point is
    the image centre. Distances scale with the focal length: a 10% error puts people 10% too far
    or too near.
    """
    w, h = image_size
    if not (w > 0 and h > 0):
        raise ValueError(f"image size must be positive, got {w} x {h}")
    if model.num_joints != 17:
        raise ValueError(f"lifting detector keypoints needs a Human3.6M-17 model, this one takes {model.num_joints} joints")
    if num_frames is None:
        num_frames = max((int(t.frames[-1]) + 1 for t in tracks), default=0)
    tracks, notes = screen_tracks(tracks, (w, h), fps, min_frames, num_frames)
    people = []
    for track in tracks:
        filled, report = fill_gaps(track)
        keypoints = smooth(filled.keypoints, smoothing, fps)
        inputs = normalize_screen_coordinates(keypoints.astype(np.float32), w, h)
        poses = lift_at_model_rate(model, inputs, fps, H36M_17 if flip else None)
        poses = smooth(poses - poses[:, :1], smoothing_3d, fps)
        reason = None if getattr(model, "random_weights", False) else not_a_body(keypoints, poses, filled.scores)
        if reason is not None:
            notes.append(f"dropped track {track.track_id}: {reason}")
            continue
        if report.filled_fraction > 0:
            note = (f"track {track.track_id}: interpolated {100 * report.filled_fraction:.1f}% of its joint positions "
                    f"({report.missing_frames} frames without a detection"
                    + (f"; never seen, replaced by a standing stand-in: {', '.join(report.stand_in_joints)}" if report.stand_in_joints else "")
                    + ")")
            notes.append(note)
            warnings.warn(note, stacklevel=2)
        people.append(LiftedPerson(track.track_id, filled.frames, keypoints, filled.scores, poses, poses, report))
    if not people:
        raise ValueError("nobody to lift: " + ("; ".join(notes) if notes else "no tracks"))
    camera = _place(people, (w, h), fps, focal_length, fov, focal_source)
    notes.extend(camera.pop("notes"))
    if num_frames < min_frames:
        notes.append(f"only {num_frames} frames: the model sees no motion, so expect the accuracy of a single-frame "
                     "lifter; a video or image sequence of a second or more lifts better")
    step = frame_stride(model, fps)
    if step > 1:
        trained = (f"at {model.frame_rate:g} fps" if getattr(model, "frame_rate", None)
                   else f"at {model.frame_rate_range[0]:g}-{model.frame_rate_range[1]:g} fps")
        notes.append(f"the model was trained {trained}: its temporal window takes frames {step} apart, "
                     f"in {step} interleaved passes averaged over {step} frames, so that every frame gets a pose")
    return LiftResult(people, num_frames, (int(w), int(h)), fps, model.config, notes, camera)


def _place(people: list[LiftedPerson], image_size: tuple[float, float], fps: float, focal_length: float | None,
           fov: float | None, focal_source: str | None) -> dict:
    """Fill in every person's ``poses_camera_absolute``, ``poses_world`` and ``foot_contact``; return the camera's facts."""
    w, h = image_size
    if focal_length is not None:
        if not (np.isfinite(focal_length) and focal_length > 0):
            raise ValueError(f"the focal length must be a positive number of pixels, got {focal_length}")
        focal, source = float(focal_length), focal_source or "given"
    else:
        angle = DEFAULT_FOV_DEG if fov is None else float(fov)
        if not 1.0 <= angle < 180.0:
            raise ValueError(f"the field of view must be between 1 and 180 degrees, got {fov}")
        focal = focal_from_fov(angle, (w, h))
        source = f"field of view {angle:g} degrees across the long side" + (" (default)" if fov is None else "")
    for p in people:
        root = root_translation(p.poses_camera, p.keypoints_2d, p.scores, focal, (w / 2, h / 2), fps)
        p.poses_camera_absolute = p.poses_camera + root[:, None]
    placement = place_in_world([p.poses_camera_absolute for p in people], fps)
    for p, world, contact in zip(people, placement.poses_world, placement.contacts):
        p.poses_world, p.foot_contact = world, contact
    notes = [f"camera: focal length {focal:.0f} px ({source}); {placement.camera_height:.2f} m above the floor, "
             f"pitched {placement.camera_pitch_deg:.1f} degrees down, rolled {placement.camera_roll_deg:.1f}; "
             + "; ".join(placement.notes)]
    if focal_length is None and fov is None:
        notes.append("distances assume a typical phone or webcam lens; pass --focal-length or --fov for real "
                     "distances (people come out too far with a wider lens, too near with a longer one)")
    return {"focal_length_px": focal, "focal_source": source, "principal_point_px": [w / 2, h / 2],
            "height_m": placement.camera_height, "pitch_deg": placement.camera_pitch_deg,
            "roll_deg": placement.camera_roll_deg, "floor_fit": placement.plane_method,
            "camera_to_world_rotation": placement.rotation.tolist(),
            "camera_to_world_translation": placement.translation.tolist(), "notes": notes}


def frame_stride(model: GASTNet, fps: float) -> int:
    """How many input frames apart the model's temporal window takes its frames at ``fps``.

    1 (the video's own rate) for a model trained over a range of frame rates that holds ``fps``
    (or above it: slow input is lifted as it is); for a model trained at one rate, or input faster
    than the range, the whole number of frames that comes closest to the trained spacing.

    >>> m = GASTNet(filter_widths=(3,), channels=8)
    >>> m.frame_rate = 10.0
    >>> frame_stride(m, 50.0), frame_stride(m, 30.0), frame_stride(m, 10.0)
    (5, 3, 1)
    >>> m.frame_rate, m.frame_rate_range = None, (10.0, 60.0)
    >>> frame_stride(m, 30.0), frame_stride(m, 60.0), frame_stride(m, 120.0), frame_stride(m, 5.0)
    (1, 1, 2, 1)
    """
    span = getattr(model, "frame_rate_range", None)
    if span:
        return max(1, math.ceil(fps / span[1] - 1e-6))
    rate = getattr(model, "frame_rate", None)
    return max(1, round(fps / rate)) if rate else 1


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
    with torch.no_grad():
        for phase in range(min(stride, len(inputs))):
            out[phase::stride] = predict_sequence(model, inputs[phase::stride], flip).numpy()
    if stride > 1 and len(out) >= stride:  # a centred stride-frame mean, edges repeated
        padded = np.concatenate([np.repeat(out[:1], stride // 2, 0), out, np.repeat(out[-1:], (stride - 1) // 2, 0)])
        out = np.mean([padded[i : i + len(out)] for i in range(stride)], axis=0)
    return out
