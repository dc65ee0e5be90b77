"""What a lift produced: per person (:class:`LiftedPerson`), the camera (:class:`CameraInfo`), the notes.

The result writes itself (:meth:`LiftResult.save`) through the registry of formats
(:data:`gastnet.pipeline.writers.WRITERS`: npz, JSON, CSV, BVH, glTF).

Coordinate and unit contract of the results (all metres, Human3.6M-17 joints):

- ``poses_camera`` (T, 17, 3): root-relative positions in the camera frame: x right, y down,
  z away from the camera; the pelvis is at the origin in every frame.
- ``poses_camera_absolute`` (T, 17, 3): the same poses where they are in the camera frame: the
  root placed so that the pose projects onto the 2D through a pinhole camera (focal length from
  the caller, the file, or a default field of view; see :mod:`gastnet.world.placement`).
- ``poses_world`` (T, 17, 3): a world frame on the floor: z up (the floor's normal, fitted to the
  foot contacts of everybody), x the camera's horizontal axis laid onto the floor, y = z x x (away
  from the camera), origin on the floor below the camera; feet on the floor (z = 0 at ankle-joint
  height) in every frame a foot is judged to stand on it; people at their estimated separation,
  moving along their paths.
- With the kinematic fit (the default; :mod:`gastnet.world.fit`) all of these poses are one
  skeleton's per person: every bone keeps one length in every frame. ``bone_lengths`` (17,)
  metres (each joint's bone from its parent), ``rig_offsets`` (23, 3) the rest pose (a T-pose,
  z up, the person facing -y, their left +x: :class:`~gastnet.animation.rig.Rig`) of the rig's
  23 nodes (``meta["rig"]`` names them and their parents) and ``rotations`` (T, 23, 4) each node's
  local rotation as a unit quaternion (x, y, z, w), so that forward kinematics from
  ``poses_world``'s pelvis gives back ``poses_world``; ``reprojection_px`` (T, 17): how far each
  fitted joint projects from the detected 2D (NaN where the detector gave none);
  ``definition_offsets`` (17, 3) metres: where the detector puts each joint against the skeleton's,
  along the body's left, up and forward axes (:func:`gastnet.world.fit.seen_joints` turns them into
  the poses' frame).
- ``keypoints_2d`` (T, 17, 2) pixels, ``scores`` (T, 17) and ``interpolated`` (T, 17): the 2D
  that was lifted; the detector's own positions and confidences wherever it gave a joint, however
  uncertain, and interpolated positions (score 0, ``interpolated`` True) only where it did not
  (see :func:`gastnet.keypoints.tracks.fill_gaps`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..animation.rig import Rig
from ..geometry.rotations import matrix_to_quaternion
from ..keypoints.tracks import FillReport
from ..world.camera_motion import MotionKind
from .writers import WRITERS, require_formats

__all__ = ["OUTPUT_FILES", "CameraInfo", "LiftResult", "LiftedPerson"]

OUTPUT_FILES = tuple(w.pattern for w in WRITERS.values()) + ("render.mp4", "render.gif", "sheet.png", "attention_*.png")
"""The files of one lift's output set (patterns): an earlier set is replaced whole or not at all."""


@dataclass(frozen=True)
class CameraInfo:
    """The camera the people were placed with (one for the whole lift).

    ``focal_length_px`` (pixels) and where it came from (``focal_source``, words), with the
    estimate's 1-sigma spread of ln focal when it was estimated (``focal_length_sigma_log``);
    ``principal_point_px`` (x, y) pixels (the image centre); the camera's ``height_m`` above the
    floor, ``pitch_deg`` (down) and ``roll_deg``; how the floor was fitted (``floor_fit``);
    ``camera_to_world_rotation`` (3, 3) and ``camera_to_world_translation`` (3,) metres (world =
    R @ camera + t; for a turning camera, the first frame's camera); the camera's ``motion`` and,
    when it turned or moved, ``rotations`` (T, 3, 3): frame-0 camera -> frame t's, so that frame t's
    camera -> world is ``camera_to_world_rotation @ rotations[t].T``; a camera that moved through
    space and whose path was recovered has ``path_world_m`` (T, 3), its centre in the world per
    frame; one that zoomed (and whose path was not recovered), ``zoom`` (T,): frame t's focal length
    is ``focal_length_px * zoom[t]``."""

    focal_length_px: float
    focal_source: str
    principal_point_px: tuple[float, float]
    height_m: float
    pitch_deg: float
    roll_deg: float
    floor_fit: str
    camera_to_world_rotation: np.ndarray
    camera_to_world_translation: np.ndarray
    motion: MotionKind = MotionKind.STATIC
    focal_length_sigma_log: float | None = None
    rotations: np.ndarray | None = None
    zoom: np.ndarray | None = None
    path_world_m: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        """The camera as the files' metadata hold it (``meta["camera"]``: plain numbers and lists)."""
        out: dict[str, Any] = {
            "focal_length_px": self.focal_length_px, "focal_source": self.focal_source,
            "principal_point_px": list(self.principal_point_px), "height_m": self.height_m,
            "pitch_deg": self.pitch_deg, "roll_deg": self.roll_deg, "floor_fit": self.floor_fit,
            "camera_to_world_rotation": np.asarray(self.camera_to_world_rotation).tolist(),
            "camera_to_world_translation": np.asarray(self.camera_to_world_translation).tolist(),
            "motion": MotionKind(self.motion).value}
        if self.focal_length_sigma_log is not None:
            out["focal_length_sigma_log"] = self.focal_length_sigma_log
        if self.rotations is not None:
            out["rotations"] = np.round(self.rotations, 6).tolist()
        if self.zoom is not None:
            out["zoom"] = np.round(self.zoom, 6).tolist()
        if self.path_world_m is not None:
            out["path_world_m"] = np.round(self.path_world_m, 4).tolist()
        return out


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
    definition_offsets: np.ndarray | None = None  # (17, 3) metres, body frame: where the detector puts each joint

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
    """Everything a lift produced; :meth:`save` writes it.

    ``model`` is the lifting model's configuration (``GASTNet.config``: its architecture, as a
    checkpoint records it); ``camera`` the camera the people were placed with (None only for a
    result made by hand)."""

    people: list[LiftedPerson]
    num_frames: int
    image_size: tuple[int, int]
    fps: float
    model: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    camera: CameraInfo | None = None

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

    def save(self, out_dir: str | os.PathLike[str], formats: Sequence[str] = ("npz",)) -> list[Path]:
        """Write the ``formats`` (names of :data:`~gastnet.pipeline.writers.WRITERS`: ``poses.npz``,
        arrays (P, N, 17, C) over all N input frames, NaN where a person is absent; ``poses.json``;
        ``poses.csv``; ``poses_<track>.bvh``, one per person, Y up, metres, frame k the input's
        frame k; ``poses.glb``, everybody, glTF 2.0) into ``out_dir``, every file atomically;
        returns the paths written. An unknown format, or one whose optional dependency is missing,
        raises ``ValueError`` before anything is written."""
        names = require_formats(formats)
        out_dir = Path(out_dir)
        return [path for name in names for path in WRITERS[name].write(self, out_dir)]
