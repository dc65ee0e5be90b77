"""glTF 2.0 binary files (.glb) of rigs in motion: every person a skeleton of nodes, a skin and limbs.

:func:`write_glb` writes one scene with, per person (:class:`GlbPerson`), a root node named after
them holding the node tree of their :class:`~gastnet.animation.rig.Rig` (its
:attr:`~gastnet.animation.rig.Rig.nodes`: the joints plus a zero-offset ``<joint>_to_<child>`` node
per child of a joint with several children), each node's translation its rest offset (a T-pose),
and one animation for everybody: the root joint's translation and every node's rotation, sampled
at the video's frame times with linear interpolation. With limbs, each person also gets a skinned
mesh: one box per bone, moving rigidly with the node that turns that bone, so that any glTF viewer
(Blender, three.js, the Khronos sample viewer, Windows 3D Viewer) shows a moving stick figure.

glTF is Y up, metres, right-handed: poses are converted with
:data:`~gastnet.animation.rig.Y_UP` (z-up ``(x, y, z)`` -> ``(x, z, -y)``), so the people face +z.
Writing needs ``pygltflib`` (``pip install "gastnet[gltf]"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..extras import require
from ..fileio import atomic_path
from ..geometry.rotations import continuous_quaternions, matrix_to_quaternion
from .rig import Y_UP, Rig

__all__ = ["GlbCamera", "GlbPerson", "write_glb"]

# base colours (linear RGB) of the people's limbs, in turn
_COLOURS = ((0.90, 0.45, 0.10), (0.10, 0.45, 0.90), (0.20, 0.70, 0.25), (0.80, 0.15, 0.55), (0.55, 0.55, 0.55))

_FLOAT, _UNSIGNED_BYTE, _UNSIGNED_SHORT, _UNSIGNED_INT = 5126, 5121, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@dataclass(frozen=True)
class GlbPerson:
    """One person of a .glb file: ``name``, their ``rig``, ``positions`` (T, J, 3) metres (world, z up,
    with the rig's bone lengths, e.g. from :mod:`gastnet.world.fit`), and the video frame of
    ``positions[0]`` (``start_frame``)."""

    name: str
    rig: Rig
    positions: np.ndarray
    start_frame: int = 0


# gastnet's camera axes (x right, y down, z forward) in a glTF camera's (x right, y up, looking along -z)
_CAMERA_AXES = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class GlbCamera:
    """The video's camera in a .glb file, per video frame (T frames from frame 0): ``centres`` (T, 3)
    metres and ``rotations`` (T, 3, 3) camera -> world (gastnet's camera axes: x right, y down, z
    forward; world z up), ``yfov_deg`` the vertical field of view and ``aspect`` width over height."""

    centres: np.ndarray
    rotations: np.ndarray
    yfov_deg: float
    aspect: float


class _Buffer:
    """The binary chunk of a .glb file, its buffer views and its accessors."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, values: np.ndarray, kind: str, component: int = _FLOAT, target: int | None = None,
            bounds: bool = False) -> int:
        """Append ``values`` (count, width) as a new view and accessor; returns the accessor's index."""
        dtype = {_FLOAT: np.float32, _UNSIGNED_BYTE: np.uint8, _UNSIGNED_SHORT: np.uint16, _UNSIGNED_INT: np.uint32}
        array = np.ascontiguousarray(values, dtype=dtype[component]).reshape(-1, _WIDTH[kind])
        while len(self.data) % 4:
            self.data.append(0)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": array.nbytes}
        if target is not None:
            view["target"] = target
        self.data += array.tobytes()
        self.views.append(view)
        accessor: dict[str, Any] = {"bufferView": len(self.views) - 1, "componentType": component,
                                    "count": len(array), "type": kind}
        if bounds:
            as_number = float if component == _FLOAT else int
            accessor["min"] = [as_number(v) for v in array.min(0)]
            accessor["max"] = [as_number(v) for v in array.max(0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def _box(head: np.ndarray, tail: np.ndarray, half_width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A box from ``head`` to ``tail`` (3,): 24 vertices (24, 3), their normals (24, 3) and 12
    counter-clockwise triangles (12, 3)."""
    along = tail - head
    u = along / np.linalg.norm(along)
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    v = np.cross(u, helper)
    v /= np.linalg.norm(v)
    w = np.cross(u, v)
    centre = (head + tail) / 2
    half = np.array([np.linalg.norm(along) / 2, half_width, half_width])
    axes = np.stack([u, v, w])  # rows: the box's axes
    vertices: list[np.ndarray] = []
    normals: list[np.ndarray] = []
    triangles: list[tuple[int, int, int]] = []
    for axis in range(3):
        for side in (1.0, -1.0):
            n = side * axes[axis]
            a, b = axes[(axis + 1) % 3], axes[(axis + 2) % 3]
            ha, hb = half[(axis + 1) % 3], half[(axis + 2) % 3]
            face = centre + n * half[axis]
            corners = [face - a * ha - b * hb, face + a * ha - b * hb, face + a * ha + b * hb, face - a * ha + b * hb]
            if side < 0:  # a x b is along +axis: reverse the winding on the negative side
                corners = corners[::-1]
            base = len(vertices)
            vertices += corners
            normals += [n] * 4
            triangles += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return np.array(vertices), np.array(normals), np.array(triangles)


def _import_pygltflib() -> Any:
    require("gltf", "writing .glb files")  # an ImportError (MissingExtra) naming the extra
    import pygltflib  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return pygltflib


@dataclass
class _Scene:
    """What :func:`write_glb` gathers, person by person, before it writes the document."""

    buffer: _Buffer = field(default_factory=_Buffer)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    scene_nodes: list[int] = field(default_factory=list)
    meshes: list[dict[str, Any]] = field(default_factory=list)
    skins: list[dict[str, Any]] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)
    samplers: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)

    def channel(self, times: int, values: np.ndarray, kind: str, node: int, path: str,
                interpolation: str = "LINEAR") -> None:
        """Animate ``path`` of ``node`` with ``values`` (K, width) at the times of accessor ``times``."""
        self.samplers.append({"input": times, "output": self.buffer.add(values, kind), "interpolation": interpolation})
        self.channels.append({"sampler": len(self.samplers) - 1, "target": {"node": node, "path": path}})


class _Keys(NamedTuple):
    """One person's animation keys: times (K,) seconds, the root joint's translation (K, 3) and every
    node's rotation (K, N, 4), Y up; and the visibility keys: times (V,) and scales (V, 3), 0 or 1."""

    times: np.ndarray
    root: np.ndarray
    quaternions: np.ndarray
    shown_times: np.ndarray
    shown: np.ndarray


def _checked_positions(person: GlbPerson, num_frames: int | None) -> np.ndarray:
    """The person's positions (T, J, 3) as float64, or a ValueError saying what is wrong with them."""
    sk = person.rig.skeleton
    positions = np.asarray(person.positions, np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (sk.num_joints, 3) or len(positions) == 0:
        raise ValueError(f"{person.name}: expected positions (T, {sk.num_joints}, 3), got {positions.shape}")
    if not np.isfinite(positions).all():
        raise ValueError(f"{person.name}: positions must be finite")
    start = int(person.start_frame)
    if start < 0:
        raise ValueError(f"{person.name}: start_frame must be >= 0, got {start}")
    if num_frames is not None and start + len(positions) > num_frames:
        raise ValueError(f"{person.name}: {len(positions)} frames from frame {start} do not fit in {num_frames} frames")
    return positions


def _keys(person: GlbPerson, upright: Rig, positions: np.ndarray, fps: float, num_frames: int | None) -> _Keys:
    """The animation keys of one person (see :func:`write_glb`): their frames, the held poses at 0 s and
    at the last frame (with ``num_frames``), and the scale keys that hide them outside their frames."""
    up = positions @ Y_UP.T
    quaternions = continuous_quaternions(matrix_to_quaternion(upright.solve(up)))  # (T, N, 4)
    root = up[:, upright.skeleton.root]
    start = int(person.start_frame)
    last = start + len(positions) - 1
    times = (start + np.arange(len(positions))) / fps
    shown_times, shown = [start / fps], [1.0]
    if start > 0:  # hidden from 0 s until the first frame
        shown_times, shown = [0.0, *shown_times], [0.0, *shown]
    if num_frames is not None:  # hold the first and last poses over the whole video
        if start > 0:
            times, root = np.concatenate([[0.0], times]), np.concatenate([root[:1], root])
            quaternions = np.concatenate([quaternions[:1], quaternions])
        if last < num_frames - 1:
            times, root = np.concatenate([times, [(num_frames - 1) / fps]]), np.concatenate([root, root[-1:]])
            quaternions = np.concatenate([quaternions, quaternions[-1:]])
            shown_times, shown = [*shown_times, (last + 1) / fps], [*shown, 0.0]  # hidden from the frame after the last
    scales = np.repeat(np.asarray(shown)[:, None], 3, 1)
    return _Keys(times, root, quaternions, np.asarray(shown_times), scales)


def _add_person(scene: _Scene, person: GlbPerson, fps: float, num_frames: int | None) -> tuple[int, Rig]:
    """Add one person's node tree and animation to ``scene``; returns the node of their root joint and their
    rig turned Y up."""
    positions = _checked_positions(person, num_frames)
    upright = person.rig.rotated(Y_UP)
    tree = upright.nodes
    keys = _keys(person, upright, positions, fps, num_frames)
    person_node = len(scene.nodes)
    first = person_node + 1
    scene.nodes.append({"name": person.name, "children": [first]})
    scene.scene_nodes.append(person_node)
    for n, name in enumerate(tree.names):
        node: dict[str, Any] = {"name": name}
        translation = keys.root[0] if n == 0 else tree.offsets[n]
        if np.any(translation):
            node["translation"] = [float(v) for v in translation]
        if tree.children[n]:
            node["children"] = [first + c for c in tree.children[n]]
        scene.nodes.append(node)
    times = scene.buffer.add(keys.times, "SCALAR", bounds=True)
    scene.channel(times, keys.root, "VEC3", first, "translation")
    for n in range(len(tree.names)):
        scene.channel(times, keys.quaternions[:, n], "VEC4", first + n, "rotation")
    if len(keys.shown_times) > 1:  # shown only in their own frames: scale 0 (STEP) outside them
        scene.channel(scene.buffer.add(keys.shown_times, "SCALAR", bounds=True), keys.shown, "VEC3", person_node,
                      "scale", "STEP")
    return first, upright


def _add_limbs(scene: _Scene, name: str, upright: Rig, first: int, colour: tuple[float, float, float]) -> None:
    """Add a skin of the person's nodes (bound in the T-pose, the root at the origin) and a skinned mesh of
    one box per bone, on the node that turns it, in ``colour`` (linear RGB)."""
    tree, sk = upright.nodes, upright.skeleton
    rest = tree.rest_positions
    inverse_bind = np.broadcast_to(np.eye(4), (len(rest), 4, 4)).copy()
    inverse_bind[:, :3, 3] = -rest
    scene.skins.append({"name": name, "joints": [first + n for n in range(len(rest))], "skeleton": first,
                        "inverseBindMatrices": scene.buffer.add(np.swapaxes(inverse_bind, 1, 2), "MAT4")})  # column-major
    vertices: list[np.ndarray] = []
    normals: list[np.ndarray] = []
    triangles: list[np.ndarray] = []
    joints: list[np.ndarray] = []
    count = 0
    for child, parent in sk.bones():
        child_node = tree.joint_nodes[child]
        length = np.linalg.norm(tree.offsets[child_node])
        if length < 1e-6:
            continue
        v, nrm, tri = _box(rest[tree.joint_nodes[parent]], rest[child_node], float(np.clip(0.12 * length, 0.01, 0.03)))
        triangles.append(tri + count)
        count += len(v)
        vertices.append(v)
        normals.append(nrm)
        joints.append(np.full(len(v), tree.parents[child_node]))
    vertex = np.concatenate(vertices)
    joint_index = np.zeros((len(vertex), 4), np.int64)
    joint_index[:, 0] = np.concatenate(joints)
    weights = np.zeros((len(vertex), 4))
    weights[:, 0] = 1.0
    big_joints, big_vertices = len(rest) > 255, len(vertex) > 65534
    buffer = scene.buffer
    attributes = {
        "POSITION": buffer.add(vertex, "VEC3", target=_ARRAY_BUFFER, bounds=True),
        "NORMAL": buffer.add(np.concatenate(normals), "VEC3", target=_ARRAY_BUFFER),
        "JOINTS_0": buffer.add(joint_index, "VEC4", _UNSIGNED_SHORT if big_joints else _UNSIGNED_BYTE,
                               target=_ARRAY_BUFFER),
        "WEIGHTS_0": buffer.add(weights, "VEC4", target=_ARRAY_BUFFER),
    }
    indices = buffer.add(np.concatenate(triangles).reshape(-1, 1), "SCALAR",
                         _UNSIGNED_INT if big_vertices else _UNSIGNED_SHORT, target=_ELEMENT_ARRAY_BUFFER)
    scene.materials.append({"name": f"{name} limbs", "pbrMetallicRoughness": {
        "baseColorFactor": [*colour, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.7}})
    scene.meshes.append({"name": f"{name} limbs", "primitives": [
        {"attributes": attributes, "indices": indices, "material": len(scene.materials) - 1, "mode": 4}]})
    scene.nodes.append({"name": f"{name} limbs", "mesh": len(scene.meshes) - 1, "skin": len(scene.skins) - 1})
    scene.scene_nodes.append(len(scene.nodes) - 1)  # skinned meshes sit at the scene's root (their transform is ignored)


def _add_camera(scene: _Scene, camera: GlbCamera, fps: float) -> dict[str, Any]:
    """A perspective camera node named "camera" that moves and turns with the video's camera (keys at
    ``t / fps``); returns the document's camera."""
    centres, turns = np.asarray(camera.centres, np.float64), np.asarray(camera.rotations, np.float64)
    if centres.ndim != 2 or centres.shape[1] != 3 or turns.shape != (len(centres), 3, 3) or len(centres) == 0:
        raise ValueError(f"camera: expected centres (T, 3) and rotations (T, 3, 3), got {centres.shape} and {turns.shape}")
    if not (np.isfinite(centres).all() and np.isfinite(turns).all() and 0 < camera.yfov_deg < 180 and camera.aspect > 0):
        raise ValueError("camera: expected finite centres and rotations, 0 < yfov_deg < 180 and aspect > 0")
    scene.nodes.append({"name": "camera", "camera": 0})
    node = len(scene.nodes) - 1
    scene.scene_nodes.append(node)
    keys = scene.buffer.add(np.arange(len(centres)) / fps, "SCALAR", bounds=True)
    scene.channel(keys, centres @ Y_UP.T, "VEC3", node, "translation")
    scene.channel(keys, continuous_quaternions(matrix_to_quaternion(Y_UP @ turns @ _CAMERA_AXES)), "VEC4", node,
                  "rotation")
    return {"name": "camera", "type": "perspective", "perspective": {
        "yfov": float(np.radians(camera.yfov_deg)), "aspectRatio": float(camera.aspect), "znear": 0.05}}


def write_glb(path: str | os.PathLike[str], people: Sequence[GlbPerson], fps: float, num_frames: int | None = None,
              meshes: bool = True, camera: GlbCamera | None = None) -> Path:
    """Write ``people`` (:class:`GlbPerson`) in motion as one glTF 2.0 binary file; returns ``path``.

    The scene holds, per person, a root node named ``person.name`` with the rig's node tree below it
    (Y up, metres; node translations the T-pose offsets) and, with ``meshes``, a skinned mesh of one
    box per bone (one material per person); the skin's inverse bind matrices are the T-pose's. One
    animation holds, for all people, the root joint's translation and every node's local rotation
    (unit quaternions ``(x, y, z, w)``, sign-continuous over time), LINEAR, at the times
    ``(start_frame + t) / fps`` seconds of the video. A person is shown only in their own frames:
    their root node's scale is keyed (STEP) to 0 from 0 s until their first frame and, with
    ``num_frames`` (the video's frame count), from the frame after their last to the end, and to 1
    in between, so that every viewer collapses them to a point (nothing drawn) while they are
    absent. With ``num_frames`` every person also gets a key at 0 s holding their first pose and
    one at ``(num_frames - 1) / fps`` holding their last, so that the animation spans the whole
    video in every tool. With ``camera`` (:class:`GlbCamera`), a perspective camera node named
    "camera" moves and turns with the video's camera (keys at ``t / fps``), so a viewer can look
    through it.
    """
    pygltflib = _import_pygltflib()
    if not people:
        raise ValueError("no people to write")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    scene = _Scene()
    for index, person in enumerate(people):
        first, upright = _add_person(scene, person, fps, num_frames)
        if meshes:
            _add_limbs(scene, person.name, upright, first, _COLOURS[index % len(_COLOURS)])
    cameras = [_add_camera(scene, camera, fps)] if camera is not None else []
    buffer = scene.buffer
    while len(buffer.data) % 4:
        buffer.data.append(0)
    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "gastnet"},
        "scene": 0,
        "scenes": [{"name": "gastnet", "nodes": scene.scene_nodes}],
        "nodes": scene.nodes,
        "animations": [{"name": "motion", "samplers": scene.samplers, "channels": scene.channels}],
        "accessors": buffer.accessors,
        "bufferViews": buffer.views,
        "buffers": [{"byteLength": len(buffer.data)}],
    }
    if meshes:
        document.update(meshes=scene.meshes, skins=scene.skins, materials=scene.materials)
    if cameras:
        document["cameras"] = cameras
    gltf = pygltflib.GLTF2.from_dict(document)
    gltf.set_binary_blob(bytes(buffer.data))
    path = Path(path)
    with atomic_path(path) as tmp:
        gltf.save_binary(str(tmp))
    return path
