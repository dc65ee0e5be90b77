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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..fileio import atomic_path
from .rig import Y_UP, Rig

__all__ = ["GlbCamera", "GlbPerson", "write_glb", "matrix_to_quaternion"]

# base colours (linear RGB) of the people's limbs, in turn
_COLOURS = ((0.90, 0.45, 0.10), (0.10, 0.45, 0.90), (0.20, 0.70, 0.25), (0.80, 0.15, 0.55), (0.55, 0.55, 0.55))

_FLOAT, _UNSIGNED_BYTE, _UNSIGNED_SHORT, _UNSIGNED_INT = 5126, 5121, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@dataclass(frozen=True)
class GlbPerson:
    """One person of a .glb file: ``name``, their ``rig``, ``positions`` (T, J, 3) metres (world, z up,
    with the rig's bone lengths, e.g. from :mod:`gastnet.inference.fit`), and the video frame of
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


def matrix_to_quaternion(rotations: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) ``(x, y, z, w)`` of rotation matrices (..., 3, 3), ``w >= 0``.

    >>> half_turn_z = np.diag([-1.0, -1.0, 1.0])
    >>> np.round(matrix_to_quaternion(half_turn_z), 6).tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    m = np.asarray(rotations, np.float64)
    q = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat().reshape(m.shape[:-2] + (4,))
    return np.where(q[..., 3:] < 0, -q, q)


def _continuous(quaternions: np.ndarray) -> np.ndarray:
    """Quaternions (T, ..., 4) with signs flipped so that each frame's is nearest the previous frame's."""
    if len(quaternions) < 2:
        return quaternions
    flips = np.sum(quaternions[1:] * quaternions[:-1], -1) < 0
    sign = np.concatenate([np.ones((1,) + flips.shape[1:]), np.cumprod(np.where(flips, -1.0, 1.0), 0)])
    return quaternions * sign[..., None]


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
    try:
        import pygltflib  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as error:
        raise ImportError('writing .glb files needs pygltflib: pip install "gastnet[gltf]"') from error
    return pygltflib


def write_glb(path: str | os.PathLike[str], people: Sequence[GlbPerson], fps: float, num_frames: int | None = None,
              meshes: bool = True, camera: GlbCamera | None = None) -> Path:
    """Write ``people`` (:class:`GlbPerson`) in motion as one glTF 2.0 binary file; returns ``path``.

    The scene holds, per person, a root node named ``person.name`` with the rig's node tree below it
    (Y up, metres; node translations the T-pose offsets) and, with ``meshes``, a skinned mesh of one
    box per bone (one material per person); the skin's inverse bind matrices are the T-pose's. One
    animation holds, for all people, the root joint's translation and every node's local rotation
    (unit quaternions ``(x, y, z, w)``, sign-continuous over time), LINEAR, at the times
    ``(start_frame + t) / fps`` seconds of the video. Before a person's first key a viewer shows
    their first pose, after their last key the last one. With ``num_frames`` (the video's frame
    count) every person also gets a key at 0 s holding their first pose and one at
    ``(num_frames - 1) / fps`` holding their last, so that the animation spans the whole video in
    every tool. With ``camera`` (:class:`GlbCamera`), a perspective camera node named "camera" moves and
    turns with the video's camera (keys at ``t / fps``), so a viewer can look through it.
    """
    pygltflib = _import_pygltflib()
    if not people:
        raise ValueError("no people to write")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    buffer = _Buffer()
    nodes: list[dict[str, Any]] = []
    scene_nodes: list[int] = []
    meshes_out: list[dict[str, Any]] = []
    skins: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    samplers: list[dict[str, Any]] = []
    channels: list[dict[str, Any]] = []
    for index, person in enumerate(people):
        rig = person.rig
        sk = rig.skeleton
        positions = np.asarray(person.positions, np.float64)
        if positions.ndim != 3 or positions.shape[1:] != (sk.num_joints, 3) or len(positions) == 0:
            raise ValueError(f"{person.name}: expected positions (T, {sk.num_joints}, 3), got {positions.shape}")
        if not np.isfinite(positions).all():
            raise ValueError(f"{person.name}: positions must be finite")
        start = int(person.start_frame)
        if start < 0:
            raise ValueError(f"{person.name}: start_frame must be >= 0, got {start}")
        last = start + len(positions) - 1
        if num_frames is not None and last >= num_frames:
            raise ValueError(f"{person.name}: {len(positions)} frames from frame {start} do not fit in {num_frames} frames")
        upright = rig.rotated(Y_UP)
        tree = upright.nodes
        up = positions @ Y_UP.T
        quaternions = _continuous(matrix_to_quaternion(upright.solve(up)))  # (T, N, 4)
        root = up[:, sk.root]
        times = (start + np.arange(len(positions))) / fps
        if num_frames is not None:  # hold the first and last poses over the whole video
            if start > 0:
                times, root = np.concatenate([[0.0], times]), np.concatenate([root[:1], root])
                quaternions = np.concatenate([quaternions[:1], quaternions])
            if last < num_frames - 1:
                times, root = np.concatenate([times, [(num_frames - 1) / fps]]), np.concatenate([root, root[-1:]])
                quaternions = np.concatenate([quaternions, quaternions[-1:]])

        # the node tree, under the person's root node
        person_node = len(nodes)
        first = person_node + 1
        nodes.append({"name": person.name, "children": [first]})
        scene_nodes.append(person_node)
        for n, name in enumerate(tree.names):
            node: dict[str, Any] = {"name": name}
            translation = root[0] if n == 0 else tree.offsets[n]
            if np.any(translation):
                node["translation"] = [float(v) for v in translation]
            if tree.children[n]:
                node["children"] = [first + c for c in tree.children[n]]
            nodes.append(node)

        # the animation
        time_accessor = buffer.add(times, "SCALAR", bounds=True)
        samplers.append({"input": time_accessor, "output": buffer.add(root, "VEC3"), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": first, "path": "translation"}})
        for n in range(len(tree.names)):
            output = buffer.add(quaternions[:, n], "VEC4")
            samplers.append({"input": time_accessor, "output": output, "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": first + n, "path": "rotation"}})

        if not meshes:
            continue
        # the skin: every node a joint, bound in the T-pose (the root at the origin)
        rest = tree.rest_positions
        inverse_bind = np.broadcast_to(np.eye(4), (len(rest), 4, 4)).copy()
        inverse_bind[:, :3, 3] = -rest
        skins.append({"name": person.name, "joints": [first + n for n in range(len(rest))], "skeleton": first,
                      "inverseBindMatrices": buffer.add(np.swapaxes(inverse_bind, 1, 2), "MAT4")})  # column-major
        # the limbs: one box per bone, on the node that turns it
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
        attributes = {
            "POSITION": buffer.add(vertex, "VEC3", target=_ARRAY_BUFFER, bounds=True),
            "NORMAL": buffer.add(np.concatenate(normals), "VEC3", target=_ARRAY_BUFFER),
            "JOINTS_0": buffer.add(joint_index, "VEC4", _UNSIGNED_SHORT if big_joints else _UNSIGNED_BYTE,
                                   target=_ARRAY_BUFFER),
            "WEIGHTS_0": buffer.add(weights, "VEC4", target=_ARRAY_BUFFER),
        }
        indices = buffer.add(np.concatenate(triangles).reshape(-1, 1), "SCALAR",
                             _UNSIGNED_INT if big_vertices else _UNSIGNED_SHORT, target=_ELEMENT_ARRAY_BUFFER)
        colour = _COLOURS[index % len(_COLOURS)]
        materials.append({"name": f"{person.name} limbs", "pbrMetallicRoughness": {
            "baseColorFactor": [*colour, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.7}})
        meshes_out.append({"name": f"{person.name} limbs", "primitives": [
            {"attributes": attributes, "indices": indices, "material": len(materials) - 1, "mode": 4}]})
        nodes.append({"name": f"{person.name} limbs", "mesh": len(meshes_out) - 1, "skin": len(skins) - 1})
        scene_nodes.append(len(nodes) - 1)  # skinned meshes sit at the scene's root (their transform is ignored)

    cameras = []
    if camera is not None:
        centres, turns = np.asarray(camera.centres, np.float64), np.asarray(camera.rotations, np.float64)
        if centres.ndim != 2 or centres.shape[1] != 3 or turns.shape != (len(centres), 3, 3) or len(centres) == 0:
            raise ValueError(f"camera: expected centres (T, 3) and rotations (T, 3, 3), got {centres.shape} and {turns.shape}")
        if not (np.isfinite(centres).all() and np.isfinite(turns).all() and 0 < camera.yfov_deg < 180 and camera.aspect > 0):
            raise ValueError("camera: expected finite centres and rotations, 0 < yfov_deg < 180 and aspect > 0")
        cameras.append({"name": "camera", "type": "perspective", "perspective": {
            "yfov": float(np.radians(camera.yfov_deg)), "aspectRatio": float(camera.aspect), "znear": 0.05}})
        nodes.append({"name": "camera", "camera": 0})
        scene_nodes.append(len(nodes) - 1)
        keys = buffer.add(np.arange(len(centres)) / fps, "SCALAR", bounds=True)
        samplers.append({"input": keys, "output": buffer.add(centres @ Y_UP.T, "VEC3"), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": len(nodes) - 1, "path": "translation"}})
        turned = _continuous(matrix_to_quaternion(Y_UP @ turns @ _CAMERA_AXES))
        samplers.append({"input": keys, "output": buffer.add(turned, "VEC4"), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": len(nodes) - 1, "path": "rotation"}})

    while len(buffer.data) % 4:
        buffer.data.append(0)
    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "gastnet"},
        "scene": 0,
        "scenes": [{"name": "gastnet", "nodes": scene_nodes}],
        "nodes": nodes,
        "animations": [{"name": "motion", "samplers": samplers, "channels": channels}],
        "accessors": buffer.accessors,
        "bufferViews": buffer.views,
        "buffers": [{"byteLength": len(buffer.data)}],
    }
    if meshes:
        document.update(meshes=meshes_out, skins=skins, materials=materials)
    if cameras:
        document["cameras"] = cameras
    gltf = pygltflib.GLTF2.from_dict(document)
    gltf.set_binary_blob(bytes(buffer.data))
    path = Path(path)
    with atomic_path(path) as tmp:
        gltf.save_binary(str(tmp))
    return path
