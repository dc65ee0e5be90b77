"""BVH motion files: read, forward kinematics, and write poses with joint rotations solved from positions.

Conventions: a joint's channels list its rotation axes in the order they compose
(``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx`` acting on column vectors), angles
in degrees; a child's position is ``parent_position + parent_global_rotation @ offset``. Written
files use Y up (Blender's BVH importer turns them upright), metres, and the channel order
``Zrotation Xrotation Yrotation``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_path
from ..skeleton import Skeleton

__all__ = ["BvhMotion", "read_bvh", "forward_kinematics", "write_bvh", "euler_to_matrix"]


@dataclass
class BvhMotion:
    """A BVH file: joints (end sites included, named ``<parent>_end``), offsets (J, 3), per-joint
    channel names, and the motion (F, channels) with its frame time in seconds."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[list[str]]
    motion: np.ndarray
    frame_time: float

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time


def read_bvh(path: str | os.PathLike[str]) -> BvhMotion:
    """Parse a BVH file; ValueError if it is not one."""
    tokens = Path(path).read_text().split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise ValueError(f"{path}: not a BVH file (no HIERARCHY)")
    names: list[str] = []
    parents: list[int] = []
    offsets: list = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i = 1
    while tokens[i] != "MOTION":
        tok = tokens[i]
        if tok in ("ROOT", "JOINT", "End"):
            name = tokens[i + 1] if tok != "End" else f"{names[stack[-1]]}_end"
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
        elif tok == "{":
            stack.append(len(names) - 1)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            offsets[-1] = [float(v) for v in tokens[i + 1 : i + 4]]
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            channels[-1] = tokens[i + 2 : i + 2 + n]
            i += 2 + n
        else:
            raise ValueError(f"{path}: unexpected token {tok!r} in the hierarchy")
    frames = int(tokens[i + 2])
    frame_time = float(tokens[i + 5])
    values = np.array(tokens[i + 6 :], dtype=np.float64)
    width = sum(len(c) for c in channels)
    if values.size != frames * width:
        raise ValueError(f"{path}: expected {frames} frames of {width} channels, found {values.size} numbers")
    return BvhMotion(names, parents, np.array(offsets), channels, values.reshape(frames, width), frame_time)


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from angles (..., 3) in degrees composed in ``order`` (e.g. "ZYX").

    >>> np.round(euler_to_matrix(np.array([90.0, 0, 0]), "YXZ") @ np.array([0.0, 0, 1]), 6).tolist()
    [1.0, 0.0, 0.0]
    """
    out = np.broadcast_to(np.eye(3), angles_deg.shape[:-1] + (3, 3)).copy()
    for k, axis in enumerate(order):
        a = np.deg2rad(angles_deg[..., k])
        c, s = np.cos(a), np.sin(a)
        m = np.zeros(a.shape + (3, 3))
        i = "XYZ".index(axis)
        j, n = (i + 1) % 3, (i + 2) % 3  # cyclic, so that every axis turns right-handed
        m[..., i, i] = 1
        m[..., j, j], m[..., n, n] = c, c
        m[..., j, n], m[..., n, j] = -s, s
        out = out @ m
    return out


def forward_kinematics(bvh: BvhMotion) -> np.ndarray:
    """Global positions (F, J, 3) of every joint and end site, in the file's units."""
    frames = len(bvh.motion)
    positions = np.zeros((frames, len(bvh.names), 3))
    rotations = np.zeros((frames, len(bvh.names), 3, 3))
    col = 0
    for j, (parent, chans) in enumerate(zip(bvh.parents, bvh.channels)):
        values = bvh.motion[:, col : col + len(chans)]
        col += len(chans)
        translation = np.zeros((frames, 3))
        rot_axes = [c[0] for c in chans if c.endswith("rotation")]
        rot_values = np.stack([values[:, k] for k, c in enumerate(chans) if c.endswith("rotation")], -1) if rot_axes else None
        for k, c in enumerate(chans):
            if c.endswith("position"):
                translation[:, "XYZ".index(c[0])] = values[:, k]
        local = (euler_to_matrix(rot_values, "".join(rot_axes)) if rot_values is not None
                 else np.broadcast_to(np.eye(3), (frames, 3, 3)))
        if parent == -1:
            positions[:, j] = bvh.offsets[j] + translation
            rotations[:, j] = local
        else:
            positions[:, j] = positions[:, parent] + np.einsum("fij,j->fi", rotations[:, parent], bvh.offsets[j])
            rotations[:, j] = rotations[:, parent] @ local
    return positions


def _matrix_to_euler_zxy(m: np.ndarray) -> np.ndarray:
    """Angles (..., 3) in degrees, order Z, X, Y, with ``Rz @ Rx @ Ry == m``."""
    x = np.arcsin(np.clip(m[..., 2, 1], -1.0, 1.0))
    z = np.arctan2(-m[..., 0, 1], m[..., 1, 1])
    y = np.arctan2(-m[..., 2, 0], m[..., 2, 2])
    return np.rad2deg(np.stack([z, x, y], -1))


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotations (..., 3, 3) turning unit vectors a onto unit vectors b."""
    v = np.cross(a, b)
    c = np.sum(a * b, -1)[..., None, None]
    vx = np.zeros(v.shape + (3,))
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    vx = vx - np.swapaxes(vx, -1, -2)
    return np.eye(3) + vx + vx @ vx / np.maximum(1 + c, 1e-9)


def _kabsch(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Best rotations (F, 3, 3) taking the rows of ``source`` (K, 3) onto ``target`` (F, K, 3)."""
    h = np.einsum("ki,fkj->fij", source, target)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.broadcast_to(np.eye(3), h.shape).copy()
    fix[:, 2, 2] = d
    return np.swapaxes(vt, -1, -2) @ fix @ np.swapaxes(u, -1, -2)


def write_bvh(path: str | os.PathLike[str], poses: np.ndarray, skeleton: Skeleton, fps: float,
              up_axis: str = "z") -> Path:
    """Write poses (T, J, 3) in metres as a BVH with rotations solved from the positions.

    The rest pose keeps each bone's mean length along its direction in the first frame; every
    joint's rotation turns its bones in the rest pose onto the observed ones (the smallest such
    rotation for one child, the least-squares one for several), so forward kinematics of the
    file reproduces the positions up to the bone-length changes of the input. ``up_axis`` is the
    input's vertical ("z" for ``poses_world``); the file is Y up.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(f"expected poses (T, {skeleton.num_joints}, 3), got {poses.shape}")
    if up_axis == "z":  # (x, y, z) z-up -> (x, z, -y) y-up
        poses = np.stack([poses[..., 0], poses[..., 2], -poses[..., 1]], -1)
    children = {j: skeleton.children(j) for j in range(skeleton.num_joints)}
    lengths = {c: np.linalg.norm(poses[:, c] - poses[:, p], axis=-1).mean() for c, p in skeleton.bones()}
    offsets = np.zeros((skeleton.num_joints, 3))
    for c, p in skeleton.bones():
        d = poses[0, c] - poses[0, p]
        offsets[c] = d / (np.linalg.norm(d) + 1e-12) * lengths[c]
    frames = len(poses)
    global_rot = np.broadcast_to(np.eye(3), (frames, skeleton.num_joints, 3, 3)).copy()
    order = sorted(range(skeleton.num_joints), key=lambda j: skeleton._depth(j))
    for j in order:
        kids = children[j]
        if not kids:
            p = skeleton.parents[j]
            global_rot[:, j] = global_rot[:, p]
            continue
        rest = np.stack([offsets[k] for k in kids])
        seen = np.stack([poses[:, k] - poses[:, j] for k in kids], 1)
        if len(kids) == 1:
            a = rest[0] / (np.linalg.norm(rest[0]) + 1e-12)
            b = seen[:, 0] / (np.linalg.norm(seen[:, 0], axis=-1, keepdims=True) + 1e-12)
            global_rot[:, j] = _rotation_between(np.broadcast_to(a, b.shape), b)
        else:
            global_rot[:, j] = _kabsch(rest, seen)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "\t" * depth
        kind = "ROOT" if skeleton.parents[j] == -1 else "JOINT"
        lines.append(f"{pad}{kind} {skeleton.joint_names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {offsets[j][0]:.6f} {offsets[j][1]:.6f} {offsets[j][2]:.6f}")
        chans = "6 Xposition Yposition Zposition" if kind == "ROOT" else "3"
        lines.append(f"{pad}\tCHANNELS {chans} Zrotation Xrotation Yrotation")
        if children[j]:
            for k in children[j]:
                emit(k, depth + 1)
        else:
            lines.append(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET 0.000000 0.000000 0.000000\n{pad}\t}}")
        lines.append(f"{pad}}}")

    emit(skeleton.root, 0)
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1.0 / fps:.6f}"]
    local = np.empty_like(global_rot)
    for j in range(skeleton.num_joints):
        p = skeleton.parents[j]
        local[:, j] = global_rot[:, j] if p == -1 else np.swapaxes(global_rot[:, p], -1, -2) @ global_rot[:, j]
    angles = _matrix_to_euler_zxy(local)  # (T, J, 3)
    visit: list[int] = []

    def walk(j: int) -> None:
        visit.append(j)
        for k in children[j]:
            walk(k)

    walk(skeleton.root)
    for t in range(frames):
        values = list(poses[t, skeleton.root])
        for j in visit:
            values += list(angles[t, j])
        lines.append(" ".join(f"{v:.6f}" for v in values))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path
