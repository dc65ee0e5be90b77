"""What a lift produced, per person, and how it is written (npz, JSON, CSV, BVH).

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
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..fileio import atomic_path, save_npz
from ..keypoints.tracks import FillReport
from ..skeleton import H36M_17

__all__ = ["OUTPUT_FILES", "LiftResult", "LiftedPerson"]

OUTPUT_FILES = ("poses.npz", "poses.json", "poses.csv", "poses_*.bvh", "render.mp4", "render.gif", "sheet.png",
                "attention_*.png")
"""The files of one lift's output set (patterns): an earlier set is replaced whole or not at all."""


@dataclass
class LiftedPerson:
    """One person of a lift, complete: every array has the person's T frames (see the module's contract)."""

    track_id: int
    frames: np.ndarray  # (T,) frame indices in the input
    keypoints_2d: np.ndarray  # (T, 17, 2) pixels
    scores: np.ndarray  # (T, 17)
    poses_camera: np.ndarray  # (T, 17, 3) metres, root-relative
    poses_world: np.ndarray  # (T, 17, 3) metres
    fill: FillReport
    poses_camera_absolute: np.ndarray  # (T, 17, 3) metres
    foot_contact: np.ndarray  # (T,) bool: a foot judged to stand on the floor

    @property
    def interpolated(self) -> np.ndarray:
        """(T, 17) bool: positions made up by gap filling (the detector did not give them)."""
        if self.fill.filled is None:  # a report without the mask: nothing was made up
            return np.zeros(self.scores.shape, bool)
        return self.fill.filled


@dataclass
class LiftResult:
    """Everything a lift produced; :meth:`save` writes it."""

    people: list[LiftedPerson]
    num_frames: int
    image_size: tuple[int, int]
    fps: float
    model: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    camera: dict[str, Any] = field(default_factory=dict)  # focal length (pixels) and its source, height, pitch, roll, floor fit

    def padded(self, name: str, width: int | None = None, fill: float | bool = np.nan,
               dtype: DTypeLike = np.float32) -> np.ndarray:
        """``name`` (e.g. ``"poses_world"``, ``"scores"``) of every person over all input frames:
        (P, N, ...) with ``fill`` where a person is absent (``width``: the last axis, checked when given)."""
        shape = getattr(self.people[0], name).shape[1:] if self.people else ((17, width) if width else (17,))
        if width is not None and shape[-1] != width:
            raise ValueError(f"{name} has {shape[-1]} values per joint, not {width}")
        out = np.full((len(self.people), self.num_frames) + shape, fill, dtype)
        for i, p in enumerate(self.people):
            out[i, p.frames] = getattr(p, name)
        return out

    def save(self, out_dir: str | os.PathLike[str], formats: tuple[str, ...] = ("npz",)) -> list[Path]:
        """Write ``poses.npz`` (arrays (P, N, 17, C) over all N input frames, NaN where a person is
        absent), and on request ``poses.json``, ``poses.csv`` and ``poses_<track>.bvh`` (one per
        person, Y up, metres); every file atomically."""
        out_dir = Path(out_dir)
        paths: list[Path] = []
        meta = {"units": "metres (3D), pixels (2D)", "joint_names": list(H36M_17.joint_names),
                "parents": list(H36M_17.parents), "image_size": list(self.image_size), "fps": self.fps,
                "model": self.model, "camera": self.camera, "notes": self.notes}
        if "npz" in formats:
            paths.append(save_npz(
                out_dir / "poses.npz", poses_world=self.padded("poses_world", 3), poses_camera=self.padded("poses_camera", 3),
                poses_camera_absolute=self.padded("poses_camera_absolute", 3),
                foot_contact=self.padded("foot_contact", fill=False, dtype=bool),
                keypoints_2d=self.padded("keypoints_2d", 2), scores=self.padded("scores"),
                interpolated=self.padded("interpolated", fill=False, dtype=bool),
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
                                       "interpolated": p.interpolated.astype(int).tolist()} for p in self.people]}
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
                        w, c = p.poses_world[t, j], p.poses_camera[t, j]
                        a, k = p.poses_camera_absolute[t, j], p.keypoints_2d[t, j]
                        lines.append(f"{frame},{p.track_id},{name},{w[0]:.5f},{w[1]:.5f},{w[2]:.5f},"
                                     f"{c[0]:.5f},{c[1]:.5f},{c[2]:.5f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},"
                                     f"{k[0]:.2f},{k[1]:.2f},{p.scores[t, j]:.3f},{int(p.interpolated[t, j])}")
            with atomic_path(out_dir / "poses.csv") as tmp:
                tmp.write_text("\n".join(lines) + "\n")
            paths.append(out_dir / "poses.csv")
        return paths
