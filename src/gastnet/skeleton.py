"""Skeleton definitions: joint names, the kinematic tree and left/right pairs.

This is the one place where joint layouts live. A :class:`Skeleton` is defined by the parent
of every joint (``-1`` for the root) and by the list of left joints with their right
counterparts. Everything else the project needs (graph matrices, flip permutations, bone lists)
is derived from those facts.

>>> H36M_17.num_joints, H36M_17.parents[3], H36M_17.joint_names[10]
(17, 2, 'head')
>>> H36M_17.flip_permutation()[1], H36M_17.flip_permutation()[4]
(4, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Skeleton",
    "H36M_17",
    "HUMANEVA_15",
    "CAPTURE_FPS",
    "standing_height",
    "get_skeleton",
    "list_skeletons",
    "register_skeleton",
]


@dataclass(frozen=True)
class Skeleton:
    """A kinematic tree of joints.

    Args:
        name: short identifier, e.g. ``"h36m17"``.
        parents: parent index of every joint, ``-1`` for the (single) root. Parents may come
            after their children in the list; the tree only has to be connected and acyclic.
        joints_left: joints on the person's left side.
        joints_right: their right counterparts, in the same order as ``joints_left``.
        joint_names: optional names, one per joint (defaults to ``"joint0"``, ...).
        distal_joints: joints at the far end of a kinematic chain, which the kinematic graph
            ``A_c`` connects to their second-order neighbours. ``None`` derives them: leaves of
            the tree at least three bones away from the root (wrists, ankles and the head of
            Human3.6M; HumanEva's head hangs directly off the thorax and is therefore not distal).
    """

    name: str
    parents: tuple[int, ...]
    joints_left: tuple[int, ...]
    joints_right: tuple[int, ...]
    joint_names: tuple[str, ...] = ()
    distal_joints: tuple[int, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        parents = tuple(int(p) for p in self.parents)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "joints_left", tuple(int(j) for j in self.joints_left))
        object.__setattr__(self, "joints_right", tuple(int(j) for j in self.joints_right))
        n = len(parents)
        if n == 0:
            raise ValueError("a skeleton needs at least one joint, got an empty parents list")
        roots = [j for j, p in enumerate(parents) if p == -1]
        if len(roots) != 1:
            raise ValueError(f"expected exactly one root (parent -1), found {len(roots)}: {roots}")
        for j, p in enumerate(parents):
            if not (p == -1 or 0 <= p < n) or p == j:
                raise ValueError(f"joint {j} has parent {p}; expected -1 or another joint in 0..{n - 1}")
        for j in range(n):  # every joint must reach the root without a cycle
            seen, k = set(), j
            while k != -1:
                if k in seen:
                    raise ValueError(f"the parents list has a cycle through joint {k}")
                seen.add(k)
                k = parents[k]
        if len(self.joints_left) != len(self.joints_right):
            raise ValueError(
                f"joints_left and joints_right must pair up, got {len(self.joints_left)} left and "
                f"{len(self.joints_right)} right joints"
            )
        paired = self.joints_left + self.joints_right
        if any(not 0 <= j < n for j in paired) or len(set(paired)) != len(paired):
            raise ValueError(f"left/right joints must be distinct indices in 0..{n - 1}, got {paired}")
        names = tuple(self.joint_names) or tuple(f"joint{j}" for j in range(n))
        if len(names) != n:
            raise ValueError(f"expected {n} joint names, got {len(names)}")
        object.__setattr__(self, "joint_names", names)
        if self.distal_joints is None:
            depth = [self._depth(j) for j in range(n)]
            has_child = {p for p in parents if p != -1}
            distal = tuple(j for j in range(n) if j not in has_child and depth[j] >= 3)
        else:
            distal = tuple(int(j) for j in self.distal_joints)
            if any(not 0 <= j < n for j in distal):
                raise ValueError(f"distal joints must lie in 0..{n - 1}, got {distal}")
        object.__setattr__(self, "distal_joints", distal)

    @classmethod
    def from_parents(
        cls,
        parents: Sequence[int],
        joints_left: Sequence[int] = (),
        joints_right: Sequence[int] = (),
        *,
        name: str = "custom",
        joint_names: Sequence[str] = (),
        distal_joints: Sequence[int] | None = None,
    ) -> Skeleton:
        """Define a skeleton from its parents and left/right lists.

        >>> s = Skeleton.from_parents([-1, 0, 1, 0, 3], [1, 2], [3, 4])
        >>> s.bones()
        [(1, 0), (2, 1), (3, 0), (4, 3)]
        """
        return cls(
            name=name,
            parents=tuple(parents),
            joints_left=tuple(joints_left),
            joints_right=tuple(joints_right),
            joint_names=tuple(joint_names),
            distal_joints=None if distal_joints is None else tuple(distal_joints),
        )

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    @property
    def root(self) -> int:
        return self.parents.index(-1)

    def index(self, name: str) -> int:
        """The index of the joint called ``name``.

        >>> H36M_17.index("thorax"), HUMANEVA_15.index("thorax")
        (8, 1)
        """
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise ValueError(f"{self.name} has no joint {name!r}; its joints: {', '.join(self.joint_names)}") from None

    def legs(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(hip, knee, ankle) joint indices of the right leg, then the left.

        >>> H36M_17.legs()
        ((1, 2, 3), (4, 5, 6))
        """
        def leg(side: str) -> tuple[int, int, int]:
            return self.index(f"{side}_hip"), self.index(f"{side}_knee"), self.index(f"{side}_ankle")

        return leg("right"), leg("left")

    def _depth(self, joint: int) -> int:
        depth = 0
        while self.parents[joint] != -1:
            joint = self.parents[joint]
            depth += 1
        return depth

    def bones(self) -> list[tuple[int, int]]:
        """(child, parent) pairs, one per non-root joint, in joint order."""
        return [(j, p) for j, p in enumerate(self.parents) if p != -1]

    def children(self, joint: int) -> list[int]:
        return [j for j, p in enumerate(self.parents) if p == joint]

    def flip_permutation(self) -> list[int]:
        """Index permutation that swaps every left joint with its right counterpart.

        ``mirrored = poses[..., skeleton.flip_permutation(), :]`` with x negated mirrors a pose.
        """
        perm = list(range(self.num_joints))
        for left, right in zip(self.joints_left, self.joints_right):
            perm[left], perm[right] = right, left
        return perm

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description, the inverse of :meth:`from_dict`."""
        return {
            "name": self.name,
            "parents": list(self.parents),
            "joints_left": list(self.joints_left),
            "joints_right": list(self.joints_right),
            "joint_names": list(self.joint_names),
            "distal_joints": list(self.distal_joints or ()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Skeleton:
        return cls(
            name=data["name"],
            parents=tuple(data["parents"]),
            joints_left=tuple(data["joints_left"]),
            joints_right=tuple(data["joints_right"]),
            joint_names=tuple(data.get("joint_names", ())),
            distal_joints=tuple(data["distal_joints"]) if "distal_joints" in data else None,
        )


H36M_17 = Skeleton(
    name="h36m17",
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    joints_left=(4, 5, 6, 11, 12, 13),
    joints_right=(1, 2, 3, 14, 15, 16),
    joint_names=(
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
        "left_ankle", "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow",
        "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    ),
)
"""Human3.6M, the standard 17-joint subset (pelvis is the root)."""

HUMANEVA_15 = Skeleton(
    name="humaneva15",
    parents=(-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1),
    joints_left=(2, 3, 4, 8, 9, 10),
    joints_right=(5, 6, 7, 11, 12, 13),
    joint_names=(
        "pelvis", "thorax", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
        "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle", "right_hip",
        "right_knee", "right_ankle", "head",
    ),
)
"""HumanEva-I, 15 joints (pelvis is the root)."""

def standing_height(poses: Any) -> Any:
    """Standing height (...) of Human3.6M-17 poses (..., 17, 3), measured along their bones (numpy or torch; metres).

    Ankle to knee to hip (both legs averaged), then pelvis, spine, thorax, neck and head: independent
    of the posture, so a sitting person gets the height they would have standing. It runs from the
    ankle joint to the head joint, so it is the stature less the ankle's height above the sole and
    the crown above the head joint.

    >>> import numpy as np
    >>> pose = np.zeros((17, 3)); pose[:, 2] = [0, 0, -.4, -.8, 0, -.4, -.8, .2, .5, .6, .7, 0, 0, 0, 0, 0, 0]
    >>> round(float(standing_height(pose)), 6)  # 0.8 of legs, 0.7 of trunk, neck and head
    1.5
    """

    def bone(child: int, parent: int) -> Any:
        return (((poses[..., child, :] - poses[..., parent, :]) ** 2).sum(-1)) ** 0.5

    (rhip, rknee, rankle), (lhip, lknee, lankle) = H36M_17.legs()
    legs = (bone(rankle, rknee) + bone(rknee, rhip) + bone(lankle, lknee) + bone(lknee, lhip)) / 2
    spine, thorax, neck, head = (H36M_17.index(n) for n in ("spine", "thorax", "neck", "head"))
    return legs + bone(spine, H36M_17.root) + bone(thorax, spine) + bone(neck, thorax) + bone(head, neck)


CAPTURE_FPS: dict[str, float] = {"h36m": 50.0, "humaneva": 60.0}
"""Frames per second of each dataset's motion capture, before downsampling (the datasets of the
skeletons above; the model layer reads a checkpoint's training frame rate from it)."""

_SKELETONS: dict[str, Skeleton] = {}


def register_skeleton(skeleton: Skeleton) -> Skeleton:
    """Make ``skeleton`` available by name to :func:`get_skeleton` and to model configs."""
    _SKELETONS[skeleton.name] = skeleton
    return skeleton


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Look up a registered skeleton by name (a :class:`Skeleton` passes through)."""
    if isinstance(name, Skeleton):
        return name
    try:
        return _SKELETONS[name]
    except KeyError:
        raise ValueError(f"unknown skeleton {name!r}; expected one of {sorted(_SKELETONS)}") from None


def list_skeletons() -> list[str]:
    return sorted(_SKELETONS)


register_skeleton(H36M_17)
register_skeleton(HUMANEVA_15)
