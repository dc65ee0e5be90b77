"""Lift whole recordings: 2D tracks (from a keypoint file, an array or a video) to 3D poses.

Coordinate and unit contract of the results (all metres, Human3.6M-17 joints):

- ``poses_camera`` (T, 17, 3): root-relative positions in the camera frame: x right, y down,
  z away from the camera; the pelvis is at the origin in every frame.
- ``poses_world`` (T, 17, 3): an upright frame: z up (the person's mean head-over-ankles
  direction), x the camera's horizontal axis, y = z x x (away from the camera); the pelvis is at
  x = y = 0 in every frame and the lowest joint of the whole track touches the floor z = 0.
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
from .smoothing import smooth

__all__ = ["LiftedPerson", "LiftResult", "lift_tracks", "upright_world", "lift_at_model_rate", "frame_stride"]


def upright_world(poses_camera: np.ndarray) -> np.ndarray:
    """Camera-frame poses (T, 17, 3) to the upright world frame of the module docstring."""
    up = (poses_camera[:, 9] - (poses_camera[:, 3] + poses_camera[:, 6]) / 2).mean(0)
    up = -up if up[1] > 0 else up  # y points down in the camera frame
    z = up / (np.linalg.norm(up) + 1e-12)
    x = np.array([1.0, 0.0, 0.0]) - z[0] * z
    x /= np.linalg.norm(x) + 1e-12
    y = np.cross(z, x)
    world = poses_camera @ np.stack([x, y, z]).T
    world = world - world[:, :1] * np.array([1.0, 1.0, 0.0])
    world[..., 2] -= world[..., 2].min()
    return world


@dataclass
class LiftedPerson:
    track_id: int
    frames: np.ndarray  # (T,) frame indices in the input
    keypoints_2d: np.ndarray  # (T, 17, 2) pixels
    scores: np.ndarray  # (T, 17)
    poses_camera: np.ndarray  # (T, 17, 3) metres
    poses_world: np.ndarray  # (T, 17, 3) metres
    fill: FillReport


@dataclass
class LiftResult:
    """Everything a lift produced; :meth:`save` writes it."""

    people: list[LiftedPerson]
    num_frames: int
    image_size: tuple[int, int]
    fps: float
    model: dict
    notes: list[str] = field(default_factory=list)

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
        for i, p in enumerate(self.people):
            scores[i, p.frames] = p.scores
            interpolated[i, p.frames] = p.fill.filled
        meta = {"units": "metres (3D), pixels (2D)", "joint_names": list(H36M_17.joint_names),
                "parents": list(H36M_17.parents), "image_size": list(self.image_size), "fps": self.fps,
                "model": self.model, "notes": self.notes}
        if "npz" in formats:
            paths.append(save_npz(
                out_dir / "poses.npz", poses_world=self.padded("poses_world", 3), poses_camera=self.padded("poses_camera", 3),
                keypoints_2d=self.padded("keypoints_2d", 2), scores=scores, interpolated=interpolated,
                track_ids=np.array([p.track_id for p in self.people]), meta=np.array(json.dumps(meta)),
            ))
        if "json" in formats:
            doc = {**meta, "people": [{"track_id": p.track_id, "frames": p.frames.tolist(),
                                       "poses_world": np.round(p.poses_world, 5).tolist(),
                                       "poses_camera": np.round(p.poses_camera, 5).tolist(),
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
            lines = ["frame,track_id,joint,x_world,y_world,z_world,x_camera,y_camera,z_camera,u,v,score,interpolated"]
            for p in self.people:
                for t, frame in enumerate(p.frames):
                    for j, name in enumerate(H36M_17.joint_names):
                        w, c, k = p.poses_world[t, j], p.poses_camera[t, j], p.keypoints_2d[t, j]
                        lines.append(f"{frame},{p.track_id},{name},{w[0]:.5f},{w[1]:.5f},{w[2]:.5f},"
                                     f"{c[0]:.5f},{c[1]:.5f},{c[2]:.5f},{k[0]:.2f},{k[1]:.2f},{p.scores[t, j]:.3f},{int(p.fill.filled[t, j])}")
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
) -> LiftResult:
    """Drop what is not a person, fill every track's gaps, lift it whole (edge padding, flip averaging) and place it.

    ``smoothing`` (``"one-euro"`` or ``"savgol"``) filters the 2D before lifting, ``smoothing_3d``
    the 3D poses after it. Tracks seen in fewer than ``min_frames`` frames (unless the input is
    that short), tiny, unsure, static or not explained by any human pose are dropped (see
    :mod:`gastnet.keypoints.people`); gaps are filled by :func:`~gastnet.keypoints.tracks.fill_gaps`
    (only what the detector did not give). The result's notes (and warnings) say what was dropped
    and why, and how much of each track was filled.
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
        people.append(LiftedPerson(track.track_id, filled.frames, keypoints, filled.scores, poses, upright_world(poses), report))
    if not people:
        raise ValueError("nobody to lift: " + ("; ".join(notes) if notes else "no tracks"))
    if num_frames < min_frames:
        notes.append(f"only {num_frames} frames: the model sees no motion, so expect the accuracy of a single-frame "
                     "lifter; a video or image sequence of a second or more lifts better")
    step = frame_stride(model, fps)
    if step > 1:
        trained = (f"at {model.frame_rate:g} fps" if getattr(model, "frame_rate", None)
                   else f"at {model.frame_rate_range[0]:g}-{model.frame_rate_range[1]:g} fps")
        notes.append(f"the model was trained {trained}: its temporal window takes frames {step} apart, "
                     f"in {step} interleaved passes averaged over {step} frames, so that every frame gets a pose")
    return LiftResult(people, num_frames, (int(w), int(h)), fps, model.config, notes)


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
