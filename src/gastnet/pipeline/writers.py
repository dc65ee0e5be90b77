"""The output formats of a lift: one registry from format name to writer.

:data:`WRITERS` is the one list of formats: ``gastnet lift --formats`` takes its names (and its
help lists them), :meth:`gastnet.pipeline.results.LiftResult.save` writes through it, and a name
that is not in it is an error (:func:`check_formats`). Each :class:`Writer` says which files it
writes and which optional extra it needs (:func:`require_formats` checks them before any work).
Every file is written atomically (:func:`gastnet.fileio.atomic_path`).

The coordinate contract of what is written is in :mod:`gastnet.pipeline.results`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..animation.bvh import write_rig_bvh
from ..animation.gltf import GlbCamera, GlbPerson, write_glb
from ..animation.rig import Rig
from ..extras import require
from ..fileio import atomic_path, save_npz
from ..skeleton import H36M_17

if TYPE_CHECKING:
    from .results import CameraInfo, LiftedPerson, LiftResult

__all__ = ["WRITERS", "Writer", "check_formats", "glb_camera", "require_formats"]


@dataclass(frozen=True)
class Writer:
    """One output format: its ``name`` (as ``--formats`` takes it), the files it writes (``pattern``,
    ``*`` for a person's track id), what it holds (``description``, for the help), the optional
    ``extra`` it needs with the ``modules`` that extra installs (empty: none), and ``write``
    (a result and a folder -> the paths written)."""

    name: str
    pattern: str
    description: str
    write: Callable[[LiftResult, Path], list[Path]]
    extra: str = ""
    modules: tuple[str, ...] = ()


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The format names, checked against :data:`WRITERS` (order kept, repeats dropped).

    >>> check_formats(["json", "npz", "json"])
    ('json', 'npz')
    >>> check_formats(["npz", "fbx"])
    Traceback (most recent call last):
    ...
    ValueError: unknown output format 'fbx'; expected some of npz, json, csv, bvh, glb
    """
    names = tuple(dict.fromkeys(str(f).strip() for f in formats))
    for name in names:
        if name not in WRITERS:
            raise ValueError(f"unknown output format {name!r}; expected some of {', '.join(WRITERS)}")
    return names


def require_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The format names, checked (:func:`check_formats`), each with its optional dependency installed:
    else :class:`~gastnet.extras.MissingExtra` (a ValueError), one line naming the extra to install."""
    names = check_formats(formats)
    for name in names:
        writer = WRITERS[name]
        if writer.extra:
            require(writer.extra, f"the {name} format", writer.modules or None)  # gastnet.extras: one place
    return names


def _meta(result: LiftResult) -> dict[str, Any]:
    """What every file says about the lift: units, joints, image, frame rate, model, camera, notes."""
    return {"units": "metres (3D), pixels (2D)", "joint_names": list(H36M_17.joint_names),
            "parents": list(H36M_17.parents), "image_size": list(result.image_size), "fps": result.fps,
            "model": result.model, "camera": None if result.camera is None else result.camera.to_json(),
            "notes": result.notes}


def _fitted(result: LiftResult) -> list[Rig] | None:
    """Everybody's fitted rig when the kinematic fit ran (it runs for everybody or nobody), else None."""
    rigs = [p.rig for p in result.people if p.rig is not None]
    return rigs if rigs and len(rigs) == len(result.people) else None


def _write_npz(result: LiftResult, out_dir: Path) -> list[Path]:
    meta = _meta(result)
    rig_arrays: dict[str, np.ndarray] = {}
    rigs = _fitted(result)
    if rigs is not None:
        nodes = rigs[0].nodes
        meta["rig"] = {"nodes": list(nodes.names), "parents": list(nodes.parents),
                       "frame": "z up, the person facing -y, their left +x (T-pose rest)",
                       "rotations": "local to the parent node, quaternions (x, y, z, w)"}
        rig_arrays = {"bone_lengths": np.stack([r.bone_lengths for r in rigs]).astype(np.float32),
                      "rig_offsets": np.stack([r.nodes.offsets for r in rigs]).astype(np.float32),
                      "rotations": result.padded("rotations", 4), "reprojection_px": result.padded("reprojection_px"),
                      "definition_offsets": np.stack([_offsets(p) for p in result.people]).astype(np.float32)}
    return [save_npz(
        out_dir / "poses.npz", poses_world=result.padded("poses_world", 3), poses_camera=result.padded("poses_camera", 3),
        poses_camera_absolute=result.padded("poses_camera_absolute", 3),
        foot_contact=result.padded("foot_contact", fill=False, dtype=bool),
        keypoints_2d=result.padded("keypoints_2d", 2), scores=result.padded("scores"),
        interpolated=result.padded("interpolated", fill=False, dtype=bool),
        track_ids=np.array([p.track_id for p in result.people]), meta=np.array(json.dumps(meta)), **rig_arrays,
    )]


def _rig_json(person: LiftedPerson) -> dict[str, Any]:
    """A fitted person's bone lengths, rig and rotations for poses.json (nothing without a fit)."""
    rotations = person.rotations
    if person.rig is None or rotations is None:
        return {}
    return {"bone_lengths": np.round(person.rig.bone_lengths, 5).tolist(),
            "rig_offsets": np.round(person.rig.nodes.offsets, 5).tolist(),
            "rotations": np.round(rotations, 6).tolist(),
            "definition_offsets": np.round(_offsets(person), 4).tolist()}


def _offsets(person: LiftedPerson) -> np.ndarray:
    """(17, 3) metres: the fit's joint-definition offsets of ``person`` (zero without them)."""
    return np.zeros((17, 3)) if person.definition_offsets is None else person.definition_offsets


def _write_json(result: LiftResult, out_dir: Path) -> list[Path]:
    doc = {**_meta(result), "people": [{"track_id": p.track_id, "frames": p.frames.tolist(),
                                        "poses_world": np.round(p.poses_world, 5).tolist(),
                                        "poses_camera": np.round(p.poses_camera, 5).tolist(),
                                        "poses_camera_absolute": np.round(p.poses_camera_absolute, 5).tolist(),
                                        "foot_contact": p.foot_contact.astype(int).tolist(),
                                        "keypoints_2d": np.round(p.keypoints_2d, 2).tolist(),
                                        "scores": np.round(p.scores, 3).tolist(),
                                        "interpolated": p.interpolated.astype(int).tolist(),
                                        **_rig_json(p)} for p in result.people]}
    with atomic_path(out_dir / "poses.json") as tmp:
        tmp.write_text(json.dumps(doc))
    return [out_dir / "poses.json"]


def _write_csv(result: LiftResult, out_dir: Path) -> list[Path]:
    lines = ["frame,track_id,joint,x_world,y_world,z_world,x_camera,y_camera,z_camera,"
             "x_camera_absolute,y_camera_absolute,z_camera_absolute,u,v,score,interpolated"]
    for p in result.people:
        for t, frame in enumerate(p.frames):
            for j, name in enumerate(H36M_17.joint_names):
                w, c = p.poses_world[t, j], p.poses_camera[t, j]
                a, k = p.poses_camera_absolute[t, j], p.keypoints_2d[t, j]
                lines.append(f"{frame},{p.track_id},{name},{w[0]:.5f},{w[1]:.5f},{w[2]:.5f},"
                             f"{c[0]:.5f},{c[1]:.5f},{c[2]:.5f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},"
                             f"{k[0]:.2f},{k[1]:.2f},{p.scores[t, j]:.3f},{int(p.interpolated[t, j])}")
    with atomic_path(out_dir / "poses.csv") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return [out_dir / "poses.csv"]


def _rigid(person: LiftedPerson) -> tuple[Rig, np.ndarray]:
    """A person's rig and world poses (T, 17, 3) with its bones: the fitted ones, else made rigid
    (:meth:`~gastnet.animation.rig.Rig.conform`: each bone at its median length along its direction)."""
    if person.rig is not None:
        return person.rig, person.poses_world
    rig = Rig.from_poses(person.poses_world)
    return rig, rig.conform(person.poses_world)


def _write_bvh(result: LiftResult, out_dir: Path) -> list[Path]:
    paths = []
    for p in result.people:  # one file per person, frame k of each is the input's frame k
        rig, poses = _rigid(p)
        paths.append(write_rig_bvh(out_dir / f"poses_{p.track_id}.bvh", rig, poses, result.fps,
                                   start_frame=int(p.frames[0]), num_frames=result.num_frames))
    return paths


def glb_camera(camera: CameraInfo | None, image_size: tuple[int, int], num_frames: int) -> GlbCamera | None:
    """The video's camera for ``poses.glb`` from a result's camera: frame t's camera -> world rotation
    ``camera_to_world_rotation @ rotations[t].T`` (a camera that turned or moved; else the first
    frame's for all) and centre ``path_world_m[t]`` (a camera that moved; else
    ``camera_to_world_translation``); None without a camera or frames."""
    if camera is None or num_frames < 1:
        return None
    to_world = np.asarray(camera.camera_to_world_rotation, np.float64)
    turns = np.tile(np.eye(3), (num_frames, 1, 1)) if camera.rotations is None else np.asarray(camera.rotations, np.float64)
    centres = (np.tile(np.asarray(camera.camera_to_world_translation, np.float64), (len(turns), 1))
               if camera.path_world_m is None else np.asarray(camera.path_world_m, np.float64))
    w, h = image_size
    yfov = float(np.degrees(2 * np.arctan(h / 2 / float(camera.focal_length_px))))
    return GlbCamera(centres, to_world @ np.swapaxes(turns, 1, 2), yfov, w / h)


def _write_glb(result: LiftResult, out_dir: Path) -> list[Path]:
    people = []
    for p in result.people:  # everybody in one scene, at the input's times
        rig, poses = _rigid(p)
        people.append(GlbPerson(f"person_{p.track_id}", rig, poses, int(p.frames[0])))
    camera = glb_camera(result.camera, result.image_size, result.num_frames)
    return [write_glb(out_dir / "poses.glb", people, result.fps, num_frames=result.num_frames, camera=camera)]


WRITERS: dict[str, Writer] = {w.name: w for w in (
    Writer("npz", "poses.npz", "arrays (P, N, 17, C) over all N input frames, NaN where a person is absent", _write_npz),
    Writer("json", "poses.json", "every person's frames and arrays, with the same metadata", _write_json),
    Writer("csv", "poses.csv", "one row per frame, person and joint", _write_csv),
    Writer("bvh", "poses_*.bvh", "one BVH per person (Y up, metres; Blender, MotionBuilder)", _write_bvh),
    Writer("glb", "poses.glb", "glTF 2.0 of everybody and the video's camera: rigs, skins, one animation (Blender, "
           "three.js)", _write_glb,
           extra="gltf", modules=("pygltflib",)),
)}
"""Every output format by name, in the order ``--formats`` lists them."""
