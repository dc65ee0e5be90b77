"""Graph matrices of the local attention, derived from a :class:`~gastnet.skeleton.Skeleton`.

Three boolean J x J patterns (only where they are non-zero matters):

- ``A`` (:func:`adjacency`): first-order bones, both directions, plus self-loops.
- ``A_s`` (:func:`symmetry_matrix`): self-loops plus each left/right pair, both directions.
- ``A_c`` (:func:`kinematic_matrix`): the row of ``A`` for ordinary joints; for distal joints
  (ends of limb chains) everything within two hops. Not symmetric.

>>> from gastnet.skeleton import H36M_17
>>> int(adjacency(H36M_17).sum()), int(symmetry_matrix(H36M_17).sum()), int(kinematic_matrix(H36M_17).sum())
(49, 29, 54)
>>> kinematic_matrix(H36M_17)[10].nonzero().flatten().tolist()
[8, 9, 10]
"""

from __future__ import annotations

import torch

from ..skeleton import Skeleton

__all__ = ["adjacency", "symmetry_matrix", "kinematic_matrix", "graph_matrix", "GRAPH_NAMES"]


def adjacency(skeleton: Skeleton) -> torch.Tensor:
    """First-order adjacency with self-loops, ``A + I``: bool tensor (J, J)."""
    n = skeleton.num_joints
    mat = torch.eye(n, dtype=torch.bool)
    for child, parent in skeleton.bones():
        mat[child, parent] = mat[parent, child] = True
    return mat


def symmetry_matrix(skeleton: Skeleton) -> torch.Tensor:
    """Symmetry pattern ``A_s``: identity plus left<->right pairs. Bool tensor (J, J)."""
    mat = torch.eye(skeleton.num_joints, dtype=torch.bool)
    for left, right in zip(skeleton.joints_left, skeleton.joints_right):
        mat[left, right] = mat[right, left] = True
    return mat


def kinematic_matrix(skeleton: Skeleton) -> torch.Tensor:
    """Kinematic pattern ``A_c``: bool tensor (J, J), rows of distal joints reach two hops."""
    first = adjacency(skeleton)
    two_hop = (first.float() @ first.float()) > 0
    mat = first.clone()
    for joint in skeleton.distal_joints or ():
        mat[joint] = two_hop[joint]
    return mat


_BUILDERS = {"first_order": adjacency, "symmetric": symmetry_matrix, "kinematic": kinematic_matrix}
GRAPH_NAMES: tuple[str, ...] = tuple(_BUILDERS)
"""Names accepted for the local-attention graphs: ``first_order`` (A), ``symmetric`` (A_s),
``kinematic`` (A_c)."""


def graph_matrix(skeleton: Skeleton, name: str) -> torch.Tensor:
    """The pattern called ``name`` (one of :data:`GRAPH_NAMES`) for ``skeleton``."""
    try:
        return _BUILDERS[name](skeleton)
    except KeyError:
        raise ValueError(f"unknown graph {name!r}; expected one of {GRAPH_NAMES}") from None
