"""BVH motion files: read, forward kinematics, and write the motion of a rig.

Conventions: a joint's channels list its rotation axes in the order they compose
(``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx`` acting on column vectors), angles
in degrees; a child's position is ``parent_position + parent_global_rotation @ offset``. Written
files use Y up (Blender's BVH importer turns them upright), metres, and the channel order
``Zrotation Xrotation Yrotation``.

:func:`write_rig_bvh` writes the motion of one rigid :class:`~gastnet.animation.rig.Rig` (a T-pose
rest, rotations exact for positions with the rig's bones, one frame per video frame); poses of
changing bone lengths are made rigid first (:meth:`~gastnet.animation.rig.Rig.conform`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_path
from ..geometry.shapes import check_shape
from .rig import Y_UP, Rig

__all__ = ["BvhMotion", "read_bvh", "forward_kinematics", "write_rig_bvh", "euler_to_matrix",
           "continuous_euler_zxy", "pad_frames"]


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


def continuous_euler_zxy(rotations: np.ndarray) -> np.ndarray:
    """Angles (T, ..., 3) in degrees, order Z, X, Y (``Rz @ Rx @ Ry``), of rotations (T, ..., 3, 3) over
    time, continuous from frame to frame.

    Every rotation has two Euler triples (``(z, x, y)`` and ``(z + 180, 180 - x, y + 180)``), each
    angle up to whole turns; frame 0 takes the one with ``x`` in [-90, 90], every later frame the
    triple nearest the previous frame's (no 360-degree jumps). At gimbal lock (``x`` = +-90 degrees,
    where only ``z + y`` or ``z - y`` is defined) ``z`` keeps its previous value.

    >>> turn = euler_to_matrix(np.array([[170.0, 0, 0], [-170.0, 0, 0]]), "ZXY")
    >>> np.round(continuous_euler_zxy(turn)[:, 0], 6).tolist()
    [170.0, 190.0]
    """
    m = np.asarray(rotations, np.float64)
    out = np.zeros(m.shape[:-1])
    if len(m) == 0:
        return out
    principal = _matrix_to_euler_zxy(m)  # (T, ..., 3) degrees
    cos_x = np.hypot(m[..., 2, 0], m[..., 2, 2])
    locked = cos_x < 1e-9
    # at the lock: Rz(z) Rx(+-90) Ry(y) == Rz(z +- y) Rx(+-90), the sum from the first column
    sum_z_y = np.rad2deg(np.arctan2(m[..., 1, 0], m[..., 0, 0]))
    sign = np.where(m[..., 2, 1] >= 0, 1.0, -1.0)
    for t in range(len(m)):
        prev = out[t - 1] if t else np.zeros(m.shape[1:-2] + (3,))
        first = principal[t].copy()
        if locked[t].any():
            lock = locked[t]
            first[lock, 0] = prev[lock, 0]
            first[lock, 1] = 90.0 * sign[t][lock]
            first[lock, 2] = sign[t][lock] * (sum_z_y[t][lock] - prev[lock, 0])
        if t == 0:
            out[0] = first
            continue
        second = np.stack([first[..., 0] + 180.0, 180.0 - first[..., 1], first[..., 2] + 180.0], -1)
        candidates = []
        for c in (first, second):
            c = c + 360.0 * np.round((prev - c) / 360.0)  # each angle the nearest whole turn away from prev
            candidates.append(c)
        far = [np.sum((c - prev) ** 2, -1) for c in candidates]
        out[t] = np.where((far[1] < far[0])[..., None], candidates[1], candidates[0])
    return out


def pad_frames(values: np.ndarray, start_frame: int, num_frames: int | None) -> np.ndarray:
    """``values`` (T, ...) placed at frames ``start_frame`` .. ``start_frame + T - 1`` of ``num_frames``
    frames (default ``start_frame + T``): the frames before hold the first value, those after the last.

    >>> pad_frames(np.array([1, 2]), 2, 5).tolist()
    [1, 1, 1, 2, 2]
    """
    values = np.asarray(values)
    if len(values) == 0:
        raise ValueError("no frames to write")
    if start_frame < 0:
        raise ValueError(f"start_frame must be >= 0, got {start_frame}")
    total = start_frame + len(values) if num_frames is None else int(num_frames)
    if total < start_frame + len(values):
        raise ValueError(f"{len(values)} frames from frame {start_frame} do not fit in {total} frames")
    index = np.clip(np.arange(total) - start_frame, 0, len(values) - 1)
    return values[index]


def write_rig_bvh(path: str | os.PathLike[str], rig: Rig, positions: np.ndarray, fps: float,
                  start_frame: int = 0, num_frames: int | None = None) -> Path:
    """Write the motion of ``rig`` posed at ``positions`` (T, J, 3) metres (world, z up, with the rig's
    bone lengths, e.g. from :mod:`gastnet.world.fit`) as a BVH file; returns ``path``.

    The file is Y up (``(x, y, z)`` z-up -> ``(x, z, -y)``, :data:`~gastnet.animation.rig.Y_UP`:
    the person faces +z), in metres. Its hierarchy is the rig's :attr:`~Rig.nodes` (the joints plus
    a zero-offset ``<joint>_to_<child>`` node per child of a joint with several children), every
    node a ``JOINT`` with ``Zrotation Xrotation Yrotation`` channels (the root also ``Xposition
    Yposition Zposition`` first); a joint without children ends in an ``End Site`` a quarter of its
    bone further along. The offsets are the rig's T-pose, so with every angle zero the file stands
    in that T-pose, and the angles are the rig's solved local rotations, continuous over time
    (:func:`continuous_euler_zxy`).

    Frames line up with the video: the file has ``num_frames`` frames (default ``start_frame + T``)
    at ``fps``, and its frame k is video frame k: ``positions[0]`` is frame ``start_frame``, the
    frames before it hold the first pose and those after the person's last frame the last pose.
    (Blender's BVH importer puts file frame 0 at scene frame 1 by default.)
    """
    positions = np.asarray(positions, np.float64)
    sk = rig.skeleton
    check_shape(positions, f"T {sk.num_joints} 3", "positions")
    if not np.isfinite(positions).all():
        raise ValueError("positions must be finite")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    up = positions @ Y_UP.T
    upright = rig.rotated(Y_UP)
    nodes = upright.nodes
    angles = continuous_euler_zxy(upright.solve(up))  # (T, N, 3)
    angles = pad_frames(angles, start_frame, num_frames)
    root = pad_frames(up[:, sk.root], start_frame, num_frames)
    lines = ["HIERARCHY"]

    def emit(node: int, depth: int) -> None:
        pad = "\t" * depth
        kind = "ROOT" if nodes.parents[node] < 0 else "JOINT"
        x, y, z = nodes.offsets[node]
        lines.append(f"{pad}{kind} {nodes.names[node]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {x:.6f} {y:.6f} {z:.6f}")
        chans = "6 Xposition Yposition Zposition" if kind == "ROOT" else "3"
        lines.append(f"{pad}\tCHANNELS {chans} Zrotation Xrotation Yrotation")
        for child in nodes.children[node]:
            emit(child, depth + 1)
        if not nodes.children[node]:
            ex, ey, ez = nodes.offsets[node] / 4
            lines.append(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET {ex:.6f} {ey:.6f} {ez:.6f}\n{pad}\t}}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    order: list[int] = []

    def walk(node: int) -> None:
        order.append(node)
        for child in nodes.children[node]:
            walk(child)

    walk(0)
    lines += ["MOTION", f"Frames: {len(root)}", f"Frame Time: {1.0 / fps:.9f}"]
    table = np.concatenate([root, angles[:, order].reshape(len(root), -1)], 1)
    lines += [" ".join(f"{v:.6f}" for v in row) for row in table]
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path
