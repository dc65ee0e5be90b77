"""Skeletons and the graph matrices derived from them (FACTS.md sections 1 and 2)."""

import pytest
import torch

from gastnet import H36M_17, HUMANEVA_15, Skeleton, get_skeleton
from gastnet.model.graph import adjacency, graph_matrix, kinematic_matrix, symmetry_matrix


def nonzero_row(mat: torch.Tensor, row: int) -> set[int]:
    return set(mat[row].nonzero().flatten().tolist())


@pytest.mark.parametrize(
    "skeleton, n_adjacency, n_symmetry, n_kinematic, distal",
    [(H36M_17, 49, 29, 54, (3, 6, 10, 13, 16)), (HUMANEVA_15, 43, 27, 47, (4, 7, 10, 13))],
)
def test_graph_nonzero_counts_and_distal_joints(skeleton, n_adjacency, n_symmetry, n_kinematic, distal):
    # A + I has J self-loops plus two entries per bone
    assert n_adjacency == skeleton.num_joints + 2 * (skeleton.num_joints - 1)
    assert int(adjacency(skeleton).sum()) == n_adjacency
    assert int(symmetry_matrix(skeleton).sum()) == n_symmetry
    assert int(kinematic_matrix(skeleton).sum()) == n_kinematic
    assert skeleton.distal_joints == distal


def test_h36m_kinematic_rows_from_facts():
    a_c = kinematic_matrix(H36M_17)
    assert nonzero_row(a_c, 3) == {1, 2, 3}  # right ankle reaches the hip
    assert nonzero_row(a_c, 10) == {8, 9, 10}  # head reaches the thorax
    assert nonzero_row(a_c, 13) == {11, 12, 13}  # left wrist reaches the shoulder
    assert nonzero_row(a_c, 8) == {7, 8, 9, 11, 14}  # thorax is not distal: first order only
    assert not torch.equal(a_c, a_c.T)


def test_symmetry_matrix_pairs_and_lone_joints():
    a_s = symmetry_matrix(H36M_17)
    assert torch.equal(a_s, a_s.T)
    assert nonzero_row(a_s, 1) == {1, 4} and nonzero_row(a_s, 16) == {13, 16}
    for joint in (0, 7, 8, 9, 10):
        assert nonzero_row(a_s, joint) == {joint}


def test_adjacency_is_bones_plus_self_loops():
    a = adjacency(H36M_17)
    assert torch.equal(a, a.T) and bool(a.diagonal().all())
    for child, parent in H36M_17.bones():
        assert a[child, parent] and a[parent, child]
    assert not a[3, 1]  # ankle and hip are two hops apart


def test_custom_skeleton_from_parents():
    # a chain 0-1-2-3 with a short branch 0-4: only joint 3 ends a chain of three bones
    s = Skeleton.from_parents([-1, 0, 1, 2, 0], joints_left=[1], joints_right=[4], name="toy")
    assert s.distal_joints == (3,)
    assert nonzero_row(kinematic_matrix(s), 3) == {1, 2, 3}
    assert nonzero_row(kinematic_matrix(s), 4) == {0, 4}
    assert s.flip_permutation() == [0, 4, 2, 3, 1]
    assert Skeleton.from_dict(s.to_dict()) == s


def test_flip_permutation_is_an_involution_swapping_pairs():
    perm = H36M_17.flip_permutation()
    assert [perm[p] for p in perm] == list(range(17))
    assert all(perm[left] == right for left, right in zip(H36M_17.joints_left, H36M_17.joints_right))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(parents=[-1, -1]), "exactly one root"),
        (dict(parents=[-1, 2, 1]), "cycle"),
        (dict(parents=[-1, 5]), "parent 5"),
        (dict(parents=[-1, 0, 0], joints_left=[1], joints_right=[]), "pair up"),
        (dict(parents=[-1, 0, 0], joints_left=[1], joints_right=[1]), "distinct"),
    ],
)
def test_invalid_skeletons_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Skeleton.from_parents(**kwargs)


def test_lookup_errors_name_the_choices():
    assert get_skeleton("h36m17") is H36M_17
    with pytest.raises(ValueError, match="h36m17"):
        get_skeleton("coco")
    with pytest.raises(ValueError, match="first_order"):
        graph_matrix(H36M_17, "second_order")
