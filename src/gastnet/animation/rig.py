"""A rigid skeleton for animation: one set of bones per person, a T-pose rest, joint rotations.

A :class:`Rig` is a :class:`~gastnet.skeleton.Skeleton` with one rest offset per joint (metres,
from its parent, in the *rig frame*: z up, the person facing -y, their left along +x) laid out as
a T-pose: legs straight down, spine, neck and head straight up, arms straight out to the sides;
hips and shoulders keep the shape measured from the poses the rig is built from.

A motion is the rotations (T, N, 3, 3) of the rig's :attr:`~Rig.nodes` (its joints, plus one node
per child of a joint with several children, so that every bone turns on its own), each *local*
(relative to its parent's: a node's global rotation is its parent's global rotation times its
own), plus the root's position (T, 3). Forward kinematics puts each node at its parent's position
plus the parent's global rotation applied to the node's rest offset, so with all rotations the
identity the rig stands in its T-pose. :meth:`Rig.solve` goes the other way: rotations from
positions (exact for positions with the rig's bone lengths, e.g. those
:mod:`gastnet.world.fit` produces), twist-free for joints with one child (the smallest turn
from the rest direction, in the parent's frame).

The rig frame is z up; :meth:`Rig.rotated` gives the same rig in another frame (e.g. Y up for BVH
and glTF files, with the person facing +z).

>>> import numpy as np
>>> from gastnet.skeleton import H36M_17
>>> rig = Rig.t_pose(H36M_17)
>>> len(rig.nodes.names), rig.nodes.names[1]
(23, 'pelvis_to_right_hip')
>>> poses = rig.forward(np.broadcast_to(np.eye(3), (2, 23, 3, 3)), np.zeros((2, 3)))
>>> bool(np.allclose(poses[0], rig.rest_pose())), bool(np.allclose(rig.solve(poses), np.eye(3)))
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..geometry.rotations import kabsch, rotation_between, unit
from ..geometry.shapes import check_shape
from ..skeleton import H36M_17, Skeleton

__all__ = ["Rig", "RigNodes", "Y_UP"]

Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""Rotation taking z-up coordinates (x, y, z) to Y-up ones (x, z, -y): BVH and glTF files are Y up."""


@dataclass(frozen=True)
class Rig:
    """A skeleton with one rest offset (J, 3) metres per joint, from its parent, in the rig frame
    (the root's is zero); see the module's conventions."""

    skeleton: Skeleton
    offsets: np.ndarray

    def __post_init__(self) -> None:
        offsets = np.asarray(self.offsets, np.float64)
        if offsets.shape != (self.skeleton.num_joints, 3):
            raise ValueError(f"expected rest offsets ({self.skeleton.num_joints}, 3), got {offsets.shape}")
        object.__setattr__(self, "offsets", offsets)

    # ------------------------------------------------------------------ building
    @classmethod
    def t_pose(cls, skeleton: Skeleton = H36M_17, lengths: np.ndarray | None = None,
               shapes: dict[int, np.ndarray] | None = None) -> Rig:
        """A T-pose rig: ``lengths`` (J,) metres of each joint's bone from its parent (default: a
        1.7 m Human3.6M-like body), ``shapes`` the rest offsets (children, 3) of each joint with
        several children, in its children's order (default: level hips and shoulders, spine and
        neck straight up)."""
        n = skeleton.num_joints
        lengths = _default_lengths(skeleton) if lengths is None else np.asarray(lengths, np.float64)
        offsets = np.zeros((n, 3))
        for joint in _order(skeleton):
            kids = skeleton.children(joint)
            if len(kids) > 1:
                shape = (shapes or {}).get(joint)
                for k, c in enumerate(kids):
                    offsets[c] = shape[k] if shape is not None else _rest_direction(skeleton, c) * lengths[c]
            elif kids:
                offsets[kids[0]] = _rest_direction(skeleton, kids[0]) * lengths[kids[0]]
        return cls(skeleton, offsets)

    @classmethod
    def from_poses(cls, poses: np.ndarray, skeleton: Skeleton = H36M_17, weights: np.ndarray | None = None) -> Rig:
        """The T-pose rig of the body in ``poses`` (T, J, 3) metres (any frame, any root position):
        every bone its weighted median length over the frames, left and right averaged; every
        joint with several children its children's median shape (in the frame of its left/right
        pair and its middle child), mirrored to be symmetric. ``weights`` (T, J): how much each
        frame's joint counts (e.g. detector confidence); a bone counts with the lesser of its two
        joints' weights."""
        poses = np.asarray(poses, np.float64)
        check_shape(poses, f"T {skeleton.num_joints} 3", "poses")
        if len(poses) == 0:
            raise ValueError("poses must have at least one frame, got none")
        w = np.ones(poses.shape[:2]) if weights is None else np.asarray(weights, np.float64)
        lengths = np.zeros(skeleton.num_joints)
        for c, p in skeleton.bones():
            lengths[c] = _weighted_median(np.linalg.norm(poses[:, c] - poses[:, p], axis=-1), np.minimum(w[:, c], w[:, p]))
        mirror = skeleton.flip_permutation()
        lengths = (lengths + lengths[mirror]) / 2
        shapes = {}
        for joint in range(skeleton.num_joints):
            kids = skeleton.children(joint)
            if len(kids) > 1:
                frame = _group_frame(skeleton, joint, poses)  # (T, 3, 3) columns: the group's axes
                local = np.einsum("tji,tkj->tki", frame, poses[:, kids] - poses[:, joint, None])  # frame^T v
                weight = np.minimum.reduce([w[:, joint]] + [w[:, k] for k in kids])
                shape = np.stack([[_weighted_median(local[:, k, a], weight) for a in range(3)] for k in range(len(kids))])
                shapes[joint] = _symmetric(skeleton, kids, shape, lengths)
        return cls.t_pose(skeleton, lengths, shapes)

    # ------------------------------------------------------------------ facts
    @property
    def bone_lengths(self) -> np.ndarray:
        """(J,) metres: each joint's distance from its parent (0 at the root)."""
        return np.linalg.norm(self.offsets, axis=-1)

    @property
    def height(self) -> float:
        """Stature (metres) of the T-pose: the head's top joint above the lower ankle, along the rig's up."""
        rest = self.rest_pose()
        return float(rest[:, 2].max() - rest[:, 2].min())

    def rest_pose(self) -> np.ndarray:
        """(J, 3) metres: the T-pose's joint positions, the root at the origin."""
        return self.nodes.rest_positions[list(self.nodes.joint_nodes)]

    def rotated(self, rotation: np.ndarray) -> Rig:
        """The same rig with its rest offsets in another frame (``rotation`` (3, 3) takes rig-frame
        vectors there, e.g. :data:`Y_UP`); rotations solved in that frame are ``R @ L @ R.T``."""
        return Rig(self.skeleton, self.offsets @ np.asarray(rotation, np.float64).T)

    def scaled(self, factor: float) -> Rig:
        """The rig with every bone ``factor`` times as long."""
        return Rig(self.skeleton, self.offsets * float(factor))

    # ------------------------------------------------------------------ kinematics
    @cached_property
    def nodes(self) -> RigNodes:
        """The rig as files write it: every joint, plus one node per child of a joint with several
        children (see :class:`RigNodes`)."""
        return _nodes(self)

    def forward(self, rotations: np.ndarray, root: np.ndarray) -> np.ndarray:
        """Joint positions (T, J, 3) metres from the nodes' local rotations (T, N, 3, 3) (:attr:`nodes`)
        and root positions (T, 3)."""
        nodes = self.nodes
        rotations = np.asarray(rotations, np.float64)
        root = np.asarray(root, np.float64)
        n = len(nodes.names)
        check_shape(root, "T 3", "root", check_shape(rotations, f"T {n} 3 3", "rotations"))
        positions = np.zeros((len(root), n, 3))
        glob = np.zeros_like(rotations)
        for node, p in enumerate(nodes.parents):  # parents come first
            if p < 0:
                positions[:, node], glob[:, node] = root, rotations[:, node]
            else:
                positions[:, node] = positions[:, p] + glob[:, p] @ nodes.offsets[node]
                glob[:, node] = glob[:, p] @ rotations[:, node]
        return positions[:, nodes.joint_nodes]

    def solve(self, positions: np.ndarray) -> np.ndarray:
        """Local rotations (T, N, 3, 3) of the :attr:`nodes` that pose the rig at ``positions`` (T, J, 3) (any frame).

        A joint with one child turns by the smallest rotation, in its parent's frame, from the rest
        direction to the observed one (no twist); a joint with several children by the
        least-squares rotation of their rest offsets onto the observed ones (its orientation), and
        each of its child nodes by the smallest rotation that makes that child exact; joints
        without children keep their parent's rotation (identity). :meth:`forward` of the result
        (with ``positions[:, root]``) gives back ``positions`` when they have the rig's bone
        lengths, and otherwise the rig's pose with every bone along the observed direction."""
        positions = np.asarray(positions, np.float64)
        sk = self.skeleton
        check_shape(positions, f"T {sk.num_joints} 3", "positions")
        nodes = self.nodes
        frames = len(positions)
        local = np.broadcast_to(np.eye(3), (frames, len(nodes.names), 3, 3)).copy()
        glob = local.copy()
        for node, p in enumerate(nodes.parents):
            parent_glob = glob[:, p] if p >= 0 else np.broadcast_to(np.eye(3), (frames, 3, 3))
            joint = nodes.joints[node]
            if joint < 0:  # the node carrying one child of a joint with several
                child = nodes.joints[nodes.children[node][0]]
                seen = np.einsum("tji,tj->ti", parent_glob, positions[:, child] - positions[:, sk.parents[child]])
                local[:, node] = rotation_between(np.broadcast_to(self.offsets[child], seen.shape), seen)
            else:
                kids = sk.children(joint)
                if len(kids) == 1:
                    seen = np.einsum("tji,tj->ti", parent_glob, positions[:, kids[0]] - positions[:, joint])
                    local[:, node] = rotation_between(np.broadcast_to(self.offsets[kids[0]], seen.shape), seen)
                elif kids:
                    seen = positions[:, kids] - positions[:, joint, None]
                    local[:, node] = np.swapaxes(parent_glob, -1, -2) @ kabsch(self.offsets[kids], seen)
            glob[:, node] = parent_glob @ local[:, node]
        return local

    def conform(self, positions: np.ndarray) -> np.ndarray:
        """(T, J, 3): the rig's pose closest to ``positions`` (T, J, 3): every bone along the observed
        direction at the rig's length, the root where it is."""
        positions = np.asarray(positions, np.float64)
        return self.forward(self.solve(positions), positions[:, self.skeleton.root])


@dataclass(frozen=True)
class RigNodes:
    """The rig's tree as BVH and glTF files hold it: N nodes, parents before children.

    Every joint of the skeleton is a node; a joint with several children gets one extra node per
    child (named ``<joint>_to_<child>``, at the joint's position: zero offset), which turns that
    child's bone on its own, so that hips, spine, neck and shoulders each keep their own direction
    (as CMU's BVH files do with their ``LHipJoint`` and clavicles)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (N, 3) metres, rest offset from the parent node, rig frame
    joints: tuple[int, ...]  # (N,) the skeleton joint of each node, -1 for the extra nodes
    joint_nodes: tuple[int, ...]  # (J,) the node of each skeleton joint
    children: tuple[tuple[int, ...], ...]  # (N,) child nodes

    @property
    def rest_positions(self) -> np.ndarray:
        """(N, 3) metres: every node's position in the T-pose, the root at the origin."""
        out = np.zeros((len(self.names), 3))
        for node, parent in enumerate(self.parents):  # parents come first
            if parent >= 0:
                out[node] = out[parent] + self.offsets[node]
        return out


def _nodes(rig: Rig) -> RigNodes:
    sk = rig.skeleton
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    joints: list[int] = []
    joint_nodes = [0] * sk.num_joints

    def add(joint: int, parent_node: int, offset: np.ndarray) -> None:
        node = len(names)
        joint_nodes[joint] = node
        names.append(sk.joint_names[joint])
        parents.append(parent_node)
        offsets.append(offset)
        joints.append(joint)
        kids = sk.children(joint)
        for child in kids:
            if len(kids) > 1:
                carrier = len(names)
                names.append(f"{sk.joint_names[joint]}_to_{sk.joint_names[child]}")
                parents.append(node)
                offsets.append(np.zeros(3))
                joints.append(-1)
                add(child, carrier, rig.offsets[child])
            else:
                add(child, node, rig.offsets[child])

    add(sk.root, -1, np.zeros(3))
    children = tuple(tuple(k for k, p in enumerate(parents) if p == node) for node in range(len(names)))
    return RigNodes(tuple(names), tuple(parents), np.array(offsets), tuple(joints), tuple(joint_nodes), children)


def _order(skeleton: Skeleton) -> list[int]:
    """Joints with every parent before its children."""
    return sorted(range(skeleton.num_joints), key=skeleton._depth)


def _side(skeleton: Skeleton, joint: int) -> float:
    """+1 for the person's left (+x in the rig frame), -1 for the right, 0 for the middle."""
    return 1.0 if joint in skeleton.joints_left else -1.0 if joint in skeleton.joints_right else 0.0


def _is_arm(skeleton: Skeleton, joint: int) -> bool:
    """Whether ``joint`` hangs below a joint of several children other than the root (an arm off the thorax)."""
    p = skeleton.parents[joint]
    while p >= 0:
        if len(skeleton.children(p)) > 1:
            return p != skeleton.root
        p = skeleton.parents[p]
    return False


def _rest_direction(skeleton: Skeleton, joint: int) -> np.ndarray:
    """Unit direction of the bone ending at ``joint`` in the T-pose: sideways for the arms and the
    hips and shoulders themselves, down for the legs, up for the trunk, neck and head."""
    side = _side(skeleton, joint)
    parent = skeleton.parents[joint]
    if side == 0:
        return np.array([0.0, 0.0, 1.0])
    if len(skeleton.children(parent)) > 1 or _is_arm(skeleton, joint):
        return np.array([side, 0.0, 0.0])
    return np.array([0.0, 0.0, -1.0])


def _default_lengths(skeleton: Skeleton) -> np.ndarray:
    """Bone lengths (J,) metres of a 1.7 m adult for a Human3.6M-like skeleton (0.25 m elsewhere)."""
    if skeleton.name == H36M_17.name:  # pelvis-hip, thigh, shin, pelvis-spine, spine-thorax, neck, head, shoulder, arm
        return np.array([0, 0.13, 0.45, 0.44, 0.13, 0.45, 0.44, 0.23, 0.25, 0.11, 0.12, 0.15, 0.28, 0.25, 0.15, 0.28, 0.25])
    return np.where(np.array(skeleton.parents) < 0, 0.0, 0.25)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted median of ``values`` (N,); the plain median when every weight is zero."""
    values, weights = np.asarray(values, np.float64), np.clip(np.asarray(weights, np.float64), 0, None)
    keep = np.isfinite(values)
    values, weights = values[keep], weights[keep]
    if len(values) == 0:
        return float("nan")
    if weights.sum() <= 0:
        return float(np.median(values))
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])


def _group_frame(skeleton: Skeleton, joint: int, poses: np.ndarray) -> np.ndarray:
    """Axes (T, 3, 3) (columns x, y, z) of a joint with several children: x from its right child to
    its left one, z towards its middle child made perpendicular to x, y = z cross x."""
    kids = skeleton.children(joint)
    left = [k for k in kids if _side(skeleton, k) > 0]
    right = [k for k in kids if _side(skeleton, k) < 0]
    middle = [k for k in kids if _side(skeleton, k) == 0]
    if not left or not right or not middle:
        raise ValueError(f"joint {skeleton.joint_names[joint]!r}: a rig needs a left, a right and a middle child "
                         "for a joint with several children")
    x = unit(poses[:, left[0]] - poses[:, right[0]])
    up = poses[:, middle[0]] - poses[:, joint]
    z = unit(up - np.sum(up * x, -1, keepdims=True) * x)
    y = np.cross(z, x)
    return np.stack([x, y, z], -1)


def _symmetric(skeleton: Skeleton, kids: list[int], shape: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A group's median shape (children, 3) made left/right symmetric, each child at its bone length."""
    out = shape.copy()
    mirror = skeleton.flip_permutation()
    for k, c in enumerate(kids):
        if _side(skeleton, c) == 0:
            out[k, 0] = 0.0
        elif mirror[c] in kids:
            m = shape[kids.index(mirror[c])]
            out[k] = [_side(skeleton, c) * (abs(shape[k, 0]) + abs(m[0])) / 2, (shape[k, 1] + m[1]) / 2,
                      (shape[k, 2] + m[2]) / 2]
        out[k] = unit(out[k]) * lengths[c]
    return out
