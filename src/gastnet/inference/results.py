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
- With the kinematic fit (the default; :mod:`gastnet.inference.fit`) all of these poses are one
  skeleton's per person: every bone keeps one length in every frame. ``bone_lengths`` (17,)
  metres (each joint's bone from its parent), ``rig_offsets`` (23, 3) the rest pose (a T-pose,
  z up, the person facing -y, their left +x: :class:`~gastnet.animation.rig.Rig`) of the rig's
  23 nodes (``meta["rig"]`` names them and their parents) and ``rotations`` (T, 23, 4) each node's
  local rotation as a unit quaternion (x, y, z, w), so that forward kinematics from
  ``poses_world``'s pelvis gives back ``poses_world``; ``reprojection_px`` (T, 17): how far each
  fitted joint projects from the detected 2D (NaN where the detector gave none).
- ``keypoints_2d`` (T, 17, 2) pixels, ``scores`` (T, 17) and ``interpolated`` (T, 17): the 2D
  that was lifted; the detector's own positions and confidences wherever it gave a joint, however
  uncertain, and interpolated positions (score 0, ``interpolated`` True) only where it did not
  (see :func:`gastnet.keypoints.tracks.fill_gaps`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..animation.bvh import write_rig_bvh
from ..animation.gltf import GlbCamera, GlbPerson, matrix_to_quaternion, write_glb
from ..animation.rig import Rig
from ..fileio import atomic_path, save_npz
from ..keypoints.tracks import FillReport
from ..skeleton import H36M_17

__all__ = ["OUTPUT_FILES", "LiftResult", "LiftedPerson"]

OUTPUT_FILES = ("poses.npz", "poses.json", "poses.csv", "poses_*.bvh", "poses.glb", "render.mp4", "render.gif", "sheet.png",
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
    rig: Rig | None = None  # the fitted skeleton (None: not fitted)
    reprojection_px: np.ndarray | None = None  # (T, 17) pixels, NaN where no joint was detected

    @cached_property
    def rotations(self) -> np.ndarray | None:
        """(T, 23, 4): the rig's node rotations (unit quaternions x, y, z, w, local to each parent) that pose
        it at ``poses_world``; None without a fit. Solved once (npz and json share it)."""
        if self.rig is None:
            return None
        return matrix_to_quaternion(self.rig.solve(self.poses_world))

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

    @staticmethod
    def _rig_json(person: LiftedPerson) -> dict[str, Any]:
        """A fitted person's bone lengths, rig and rotations for poses.json (nothing without a fit)."""
        rotations = person.rotations
        if person.rig is None or rotations is None:
            return {}
        return {"bone_lengths": np.round(person.rig.bone_lengths, 5).tolist(),
                "rig_offsets": np.round(person.rig.nodes.offsets, 5).tolist(),
                "rotations": np.round(rotations, 6).tolist()}

    @staticmethod
    def _rigid(person: LiftedPerson) -> tuple[Rig, np.ndarray]:
        """A person's rig and world poses (T, 17, 3) with its bones: the fitted ones, else made rigid
        (:meth:`~gastnet.animation.rig.Rig.conform`: each bone at its median length along its direction)."""
        if person.rig is not None:
            return person.rig, person.poses_world
        rig = Rig.from_poses(person.poses_world)
        return rig, rig.conform(person.poses_world)

    def save(self, out_dir: str | os.PathLike[str], formats: tuple[str, ...] = ("npz",)) -> list[Path]:
        """Write ``poses.npz`` (arrays (P, N, 17, C) over all N input frames, NaN where a person is
        absent), and on request ``poses.json``, ``poses.csv``, ``poses_<track>.bvh`` (one per person,
        Y up, metres, frame k the input's frame k: :func:`~gastnet.animation.bvh.write_rig_bvh`) and
        ``poses.glb`` (everybody, glTF 2.0: :func:`~gastnet.animation.gltf.write_glb`); every file atomically."""
        out_dir = Path(out_dir)
        paths: list[Path] = []
        meta = {"units": "metres (3D), pixels (2D)", "joint_names": list(H36M_17.joint_names),
                "parents": list(H36M_17.parents), "image_size": list(self.image_size), "fps": self.fps,
                "model": self.model, "camera": self.camera, "notes": self.notes}
        rig_arrays: dict[str, np.ndarray] = {}
        rigs = [p.rig for p in self.people if p.rig is not None]
        if rigs and len(rigs) == len(self.people):  # the kinematic fit ran (for everybody or nobody)
            nodes = rigs[0].nodes
            meta["rig"] = {"nodes": list(nodes.names), "parents": list(nodes.parents),
                           "frame": "z up, the person facing -y, their left +x (T-pose rest)",
                           "rotations": "local to the parent node, quaternions (x, y, z, w)"}
            rig_arrays = {"bone_lengths": np.stack([r.bone_lengths for r in rigs]).astype(np.float32),
                          "rig_offsets": np.stack([r.nodes.offsets for r in rigs]).astype(np.float32),
                          "rotations": self.padded("rotations", 4), "reprojection_px": self.padded("reprojection_px")}
        if "npz" in formats:
            paths.append(save_npz(
                out_dir / "poses.npz", poses_world=self.padded("poses_world", 3), poses_camera=self.padded("poses_camera", 3),
                poses_camera_absolute=self.padded("poses_camera_absolute", 3),
                foot_contact=self.padded("foot_contact", fill=False, dtype=bool),
                keypoints_2d=self.padded("keypoints_2d", 2), scores=self.padded("scores"),
                interpolated=self.padded("interpolated", fill=False, dtype=bool),
                track_ids=np.array([p.track_id for p in self.people]), meta=np.array(json.dumps(meta)), **rig_arrays,
            ))
        if "json" in formats:
            doc = {**meta, "people": [{"track_id": p.track_id, "frames": p.frames.tolist(),
                                       "poses_world": np.round(p.poses_world, 5).tolist(),
                                       "poses_camera": np.round(p.poses_camera, 5).tolist(),
                                       "poses_camera_absolute": np.round(p.poses_camera_absolute, 5).tolist(),
                                       "foot_contact": p.foot_contact.astype(int).tolist(),
                                       "keypoints_2d": np.round(p.keypoints_2d, 2).tolist(),
                                       "scores": np.round(p.scores, 3).tolist(),
                                       "interpolated": p.interpolated.astype(int).tolist(),
                                       **self._rig_json(p)} for p in self.people]}
            with atomic_path(out_dir / "poses.json") as tmp:
                tmp.write_text(json.dumps(doc))
            paths.append(out_dir / "poses.json")
        if "bvh" in formats:  # one file per person, frame k of each is the input's frame k
            for p in self.people:
                rig, poses = self._rigid(p)
                paths.append(write_rig_bvh(out_dir / f"poses_{p.track_id}.bvh", rig, poses, self.fps,
                                           start_frame=int(p.frames[0]), num_frames=self.num_frames))
        if "glb" in formats:  # everybody in one scene, at the input's times
            people = []
            for p in self.people:
                rig, poses = self._rigid(p)
                people.append(GlbPerson(f"person_{p.track_id}", rig, poses, int(p.frames[0])))
            paths.append(write_glb(out_dir / "poses.glb", people, self.fps, num_frames=self.num_frames,
                                   camera=glb_camera(self.camera, self.image_size, self.num_frames)))
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


def glb_camera(camera: dict[str, Any], image_size: tuple[int, int], num_frames: int) -> GlbCamera | None:
    """The video's camera for ``poses.glb`` from a result's ``camera`` facts: frame t's camera -> world rotation
    ``camera_to_world_rotation @ rotations[t].T`` (a camera that turned or moved; else the first frame's for all)
    and centre ``path_world_m[t]`` (a camera that moved; else ``camera_to_world_translation``); None without them."""
    if "camera_to_world_rotation" not in camera or "focal_length_px" not in camera or num_frames < 1:
        return None
    to_world = np.asarray(camera["camera_to_world_rotation"], np.float64)
    turns = np.asarray(camera.get("rotations", np.tile(np.eye(3), (num_frames, 1, 1))), np.float64)
    centres = np.asarray(camera.get("path_world_m", np.tile(camera["camera_to_world_translation"], (len(turns), 1))),
                         np.float64)
    w, h = image_size
    yfov = float(np.degrees(2 * np.arctan(h / 2 / float(camera["focal_length_px"]))))
    return GlbCamera(centres, to_world @ np.swapaxes(turns, 1, 2), yfov, w / h)

