"""The animation rig: smallest rotations, Kabsch, the T-pose, bones from poses, solve/forward/conform."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from gastnet.animation.rig import Y_UP, Rig
from gastnet.geometry.rotations import kabsch, rotation_between
from gastnet.skeleton import H36M_17

J = H36M_17.joint_names.index
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = (J(n) for n in (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle"))
SPINE, THORAX, NECK, HEAD = (J(n) for n in ("spine", "thorax", "neck", "head"))
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = (J(n) for n in (
    "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist"))


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def known_rig(asymmetric: bool = False) -> Rig:
    """A T-pose rig with hand-picked bones: hips and shoulders off the straight line (back, down),
    spine and neck straight up (the T-pose's convention for middle children)."""
    lengths = np.zeros(17)
    lengths[[R_HIP, L_HIP]] = 0.12
    lengths[[R_KNEE, L_KNEE]] = 0.47 if not asymmetric else (0.44, 0.50)
    lengths[[R_ANKLE, L_ANKLE]] = 0.43
    lengths[[SPINE, THORAX, NECK, HEAD]] = 0.24, 0.26, 0.10, 0.13
    lengths[[L_SHOULDER, R_SHOULDER]] = 0.16
    lengths[[L_ELBOW, R_ELBOW]] = 0.29
    lengths[[L_WRIST, R_WRIST]] = 0.26
    hip = unit(np.array([1.0, 0.15, -0.3])) * 0.12
    shoulder = unit(np.array([1.0, -0.2, -0.25])) * 0.16
    mirror = np.array([-1.0, 1.0, 1.0])
    shapes = {PELVIS: np.stack([hip * mirror, hip, [0, 0, 0.24]]),  # children 1 (right), 4 (left), 7
              THORAX: np.stack([[0, 0, 0.10], shoulder, shoulder * mirror])}  # children 9, 11 (left), 14 (right)
    return Rig.t_pose(H36M_17, lengths, shapes)


def random_motion(rig: Rig, frames: int, rng, carriers: bool = True, scale: float = 0.8):
    """Random local rotations (frames, N, 3, 3) and root path; the carrier nodes (a joint's extra node
    per child) turn too unless ``carriers`` is False."""
    n = len(rig.nodes.names)
    rotvec = rng.normal(0, scale, (frames, n, 3))
    if not carriers:
        rotvec[:, [k for k, j in enumerate(rig.nodes.joints) if j < 0]] = 0.0
    rotations = Rotation.from_rotvec(rotvec.reshape(-1, 3)).as_matrix().reshape(frames, n, 3, 3)
    return rotations, rng.normal(0, 1.0, (frames, 3))


def bone_lengths(poses):
    return np.stack([np.linalg.norm(poses[..., c, :] - poses[..., p, :], axis=-1) for c, p in H36M_17.bones()], -1)


# ------------------------------------------------------------------ rotation_between, kabsch


def test_rotation_between_is_the_smallest_rotation_taking_a_onto_b():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) * rng.uniform(0.1, 5, (200, 1))
    r = rotation_between(a, b)
    assert r.shape == (200, 3, 3)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", r, unit(a)), unit(b), atol=1e-12)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    # a second formulation: the turn about a x b by the angle between them (Rodrigues, scipy)
    angle = np.arccos(np.clip(np.sum(unit(a) * unit(b), -1), -1, 1))
    expected = Rotation.from_rotvec(unit(np.cross(a, b)) * angle[:, None]).as_matrix()
    np.testing.assert_allclose(r, expected, atol=1e-9)
    # one pair without a batch axis; parallel directions: the identity
    np.testing.assert_allclose(rotation_between(a[0], b[0]), expected[0], atol=1e-9)
    np.testing.assert_allclose(rotation_between(a[0], 3 * a[0]), np.eye(3), atol=1e-12)


@pytest.mark.parametrize("a", [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 2.0], [0.3, -0.5, 0.8], [-0.95, 0.1, 0.05]])
def test_rotation_between_opposite_directions_is_a_half_turn(a):
    a = np.asarray(a)
    for r in (rotation_between(a, -2.5 * a), rotation_between(np.stack([a, a]), np.stack([-a, a]))[0]):
        np.testing.assert_allclose(r @ unit(a), -unit(a), atol=1e-12)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)
        rotvec = Rotation.from_matrix(r).as_rotvec()
        assert np.linalg.norm(rotvec) == pytest.approx(np.pi, abs=1e-6)  # a half turn...
        assert abs(unit(rotvec) @ unit(a)) < 1e-9  # ...about an axis perpendicular to a
    # in a batch, the other (non-opposite) pair is still the ordinary smallest rotation
    np.testing.assert_allclose(rotation_between(np.stack([a, a]), np.stack([-a, a]))[1], np.eye(3), atol=1e-12)


def test_kabsch_recovers_an_exact_rotation_and_is_batched():
    rng = np.random.default_rng(1)
    source = rng.normal(size=(5, 3))
    truth = Rotation.random(8, random_state=2).as_matrix()
    target = np.einsum("nij,kj->nki", truth, source)  # (8, 5, 3)
    np.testing.assert_allclose(kabsch(source, target), truth, atol=1e-10)
    np.testing.assert_allclose(kabsch(source, target[3]), truth[3], atol=1e-10)
    # three points (the rig's groups): still exact
    np.testing.assert_allclose(kabsch(source[:3], target[:, :3]), truth, atol=1e-9)


def test_kabsch_with_noise_is_the_least_squares_rotation():
    rng = np.random.default_rng(3)
    for trial in range(20):
        source = rng.normal(size=(4, 3))
        truth = Rotation.random(random_state=trial).as_matrix()
        target = source @ truth.T + rng.normal(0, 0.3, source.shape)
        if trial % 5 == 0:
            target = target * [-1.0, 1.0, 1.0]  # a mirror image: the best *rotation*, never a reflection
        found = kabsch(source, target)
        assert np.linalg.det(found) == pytest.approx(1.0, abs=1e-10)
        np.testing.assert_allclose(found @ found.T, np.eye(3), atol=1e-10)
        reference = Rotation.align_vectors(target, source)[0].as_matrix()  # minimises sum |target - R source|^2
        np.testing.assert_allclose(found, reference, atol=1e-7)

        def cost(r, source=source, target=target):
            return float(np.sum((target - source @ r.T) ** 2))

        best = cost(found)
        nearby = Rotation.from_rotvec(rng.normal(0, 0.05, (200, 3))).as_matrix() @ found
        assert best <= min(cost(r) for r in nearby) + 1e-12
        assert best <= min(cost(r) for r in Rotation.random(200, random_state=trial).as_matrix()) + 1e-12


# ------------------------------------------------------------------ the T-pose


def test_t_pose_stands_with_legs_down_arms_out_and_trunk_up():
    rig = Rig.t_pose()
    rest = rig.rest_pose()
    np.testing.assert_allclose(rest[PELVIS], 0.0)

    def direction(child, parent):
        return unit(rest[child] - rest[parent])

    down, up, left = np.array([0, 0, -1.0]), np.array([0, 0, 1.0]), np.array([1.0, 0, 0])
    for child, parent in ((R_KNEE, R_HIP), (R_ANKLE, R_KNEE), (L_KNEE, L_HIP), (L_ANKLE, L_KNEE)):
        np.testing.assert_allclose(direction(child, parent), down, atol=1e-12)
    for child, parent in ((SPINE, PELVIS), (THORAX, SPINE), (NECK, THORAX), (HEAD, NECK)):
        np.testing.assert_allclose(direction(child, parent), up, atol=1e-12)
    for child, parent in ((L_HIP, PELVIS), (L_SHOULDER, THORAX), (L_ELBOW, L_SHOULDER), (L_WRIST, L_ELBOW)):
        np.testing.assert_allclose(direction(child, parent), left, atol=1e-12)  # the person's left: +x
    for child, parent in ((R_HIP, PELVIS), (R_SHOULDER, THORAX), (R_ELBOW, R_SHOULDER), (R_WRIST, R_ELBOW)):
        np.testing.assert_allclose(direction(child, parent), -left, atol=1e-12)
    # a human's size: ankle to the top of the head
    lengths = rig.bone_lengths
    stature = lengths[[L_KNEE, L_ANKLE, SPINE, THORAX, NECK, HEAD]].sum()
    assert rig.height == pytest.approx(stature, abs=1e-12)
    assert rest[HEAD, 2] - rest[L_ANKLE, 2] == pytest.approx(stature, abs=1e-12)
    assert 1.55 <= rig.height <= 1.85
    np.testing.assert_allclose(lengths, lengths[H36M_17.flip_permutation()], atol=0)  # symmetric
    assert rig.scaled(1.1).height == pytest.approx(1.1 * rig.height)


def test_t_pose_takes_the_given_lengths_and_group_shapes():
    rig = known_rig(asymmetric=True)
    np.testing.assert_allclose(rig.bone_lengths[[R_KNEE, L_KNEE, L_ELBOW, HEAD]], [0.44, 0.50, 0.29, 0.13], atol=1e-12)
    np.testing.assert_allclose(rig.offsets[L_HIP], unit(np.array([1.0, 0.15, -0.3])) * 0.12, atol=1e-12)
    np.testing.assert_allclose(rig.offsets[R_SHOULDER], unit(np.array([-1.0, -0.2, -0.25])) * 0.16, atol=1e-12)
    np.testing.assert_allclose(rig.offsets[R_KNEE], [0, 0, -0.44], atol=1e-12)


def test_nodes_have_one_carrier_per_child_of_a_branching_joint():
    rig = known_rig()
    nodes = rig.nodes
    assert len(nodes.names) == 17 + 3 + 3
    for k, (name, parent) in enumerate(zip(nodes.names, nodes.parents)):
        assert parent < k  # parents first
        if nodes.joints[k] < 0:
            joint, child = name.split("_to_")
            assert nodes.names[parent] == joint and nodes.children[k] == (nodes.joint_nodes[J(child)],)
            np.testing.assert_allclose(nodes.offsets[k], 0.0)
        else:
            assert name == H36M_17.joint_names[nodes.joints[k]] and nodes.joint_nodes[nodes.joints[k]] == k
            np.testing.assert_allclose(nodes.offsets[k], rig.offsets[nodes.joints[k]])
    # identity rotations stand the rig in its rest pose wherever the root is
    root = np.array([[0.5, -1.0, 2.0]])
    np.testing.assert_allclose(rig.forward(np.eye(3)[None, None].repeat(23, 1), root)[0], rig.rest_pose() + root[0],
                               atol=1e-12)


# ------------------------------------------------------------------ from_poses


def test_from_poses_recovers_a_known_rig():
    rig = known_rig()
    rng = np.random.default_rng(4)
    rotations, root = random_motion(rig, 30, rng, carriers=False)  # the groups (hips, shoulders) stay rigid
    poses = rig.forward(rotations, root)
    found = Rig.from_poses(poses)
    np.testing.assert_allclose(found.bone_lengths, rig.bone_lengths, atol=1e-9)
    np.testing.assert_allclose(found.offsets, rig.offsets, atol=1e-9)
    # any frame: the same body rotated and moved
    q = Rotation.random(random_state=5).as_matrix()
    np.testing.assert_allclose(Rig.from_poses(poses @ q.T + [3.0, -2.0, 1.0]).offsets, rig.offsets, atol=1e-9)


def test_from_poses_averages_left_and_right():
    rig = known_rig(asymmetric=True)  # right thigh 0.44 m, left 0.50 m
    rng = np.random.default_rng(6)
    poses = rig.forward(*random_motion(rig, 12, rng, carriers=False))
    found = Rig.from_poses(poses)
    assert found.bone_lengths[R_KNEE] == pytest.approx(0.47, abs=1e-9)
    assert found.bone_lengths[L_KNEE] == pytest.approx(0.47, abs=1e-9)
    np.testing.assert_allclose(found.bone_lengths, found.bone_lengths[H36M_17.flip_permutation()], atol=1e-12)
    mirror = np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(found.offsets[R_HIP], found.offsets[L_HIP] * mirror, atol=1e-12)
    np.testing.assert_allclose(found.offsets[R_SHOULDER], found.offsets[L_SHOULDER] * mirror, atol=1e-12)


def test_from_poses_ignores_frames_weighted_zero():
    rig = known_rig()
    rng = np.random.default_rng(7)
    poses = rig.forward(*random_motion(rig, 9, rng, carriers=False))
    bad = [0, 2, 3, 5, 8]  # the majority: scaled up and shaken
    poses[bad] = (poses[bad] - poses[bad, :1]) * 1.5 + poses[bad, :1] + rng.normal(0, 0.05, (5, 17, 3))
    weights = np.ones((9, 17))
    weights[bad] = 0.0
    np.testing.assert_allclose(Rig.from_poses(poses, weights=weights).offsets, rig.offsets, atol=1e-9)
    assert Rig.from_poses(poses).height > 1.2 * rig.height  # unweighted, the bad frames win
    # a bone counts with the lesser of its two joints' weights: zero one end only
    weights = np.ones((9, 17))
    weights[bad, L_ANKLE] = 0.0
    poses = rig.forward(*random_motion(rig, 9, rng, carriers=False))
    poses[bad, L_ANKLE] += (poses[bad, L_ANKLE] - poses[bad, L_KNEE]) * 0.5  # shins 1.5 times as long
    poses[bad, R_ANKLE] += (poses[bad, R_ANKLE] - poses[bad, R_KNEE]) * 0.5
    found = Rig.from_poses(poses, weights=weights)
    # the left shin counts only in good frames (0.43 m), the right one mostly in bad (0.645 m): averaged
    assert found.bone_lengths[L_ANKLE] == pytest.approx((0.43 + 0.645) / 2, abs=1e-9)


# ------------------------------------------------------------------ solve, forward, conform


def test_solve_then_forward_gives_back_rig_consistent_positions_in_any_frame():
    rig = known_rig()
    rng = np.random.default_rng(8)
    poses = rig.forward(*random_motion(rig, 25, rng))
    np.testing.assert_allclose(bone_lengths(poses), np.broadcast_to(rig.bone_lengths[1:], (25, 16)), atol=1e-12)
    q = Rotation.random(random_state=9).as_matrix()
    moved = poses @ q.T + [10.0, -4.0, 2.5]
    local = rig.solve(moved)
    assert local.shape == (25, 23, 3, 3)
    np.testing.assert_allclose(local @ np.swapaxes(local, -1, -2), np.broadcast_to(np.eye(3), local.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(local), 1.0, atol=1e-12)
    assert np.abs(rig.forward(local, moved[:, PELVIS]) - moved).max() < 1e-9
    np.testing.assert_allclose(rig.conform(moved), moved, atol=1e-9)  # already the rig's pose: unchanged


def test_rotated_rig_solves_to_conjugated_rotations():
    rig = known_rig()
    rng = np.random.default_rng(10)
    poses = rig.forward(*random_motion(rig, 10, rng))
    local = rig.solve(poses)
    y_rig = rig.rotated(Y_UP)
    np.testing.assert_allclose(y_rig.offsets, rig.offsets @ Y_UP.T, atol=1e-15)
    np.testing.assert_allclose(Y_UP @ [0, 0, 1.0], [0, 1.0, 0])  # z up becomes y up
    np.testing.assert_allclose(Y_UP @ [0, -1.0, 0], [0, 0, 1.0])  # facing -y becomes facing +z
    y_poses = poses @ Y_UP.T
    y_local = y_rig.solve(y_poses)
    np.testing.assert_allclose(y_local[:, 1:], Y_UP @ local[:, 1:] @ Y_UP.T, atol=1e-9)
    assert np.abs(y_rig.forward(y_local, y_poses[:, PELVIS]) - y_poses).max() < 1e-9
    np.testing.assert_allclose(np.ptp(y_rig.rest_pose()[:, 1]), rig.height, atol=1e-12)


def test_conform_keeps_directions_and_sets_the_rigs_lengths():
    rig = known_rig()
    rng = np.random.default_rng(11)
    poses = rig.forward(*random_motion(rig, 6, rng)) + rng.normal(0, 0.04, (6, 17, 3))  # bones change length
    out = rig.conform(poses)
    np.testing.assert_allclose(out[:, PELVIS], poses[:, PELVIS], atol=1e-12)
    for c, p in H36M_17.bones():
        np.testing.assert_allclose(np.linalg.norm(out[:, c] - out[:, p], axis=-1), rig.bone_lengths[c], atol=1e-12)
        np.testing.assert_allclose(unit(out[:, c] - out[:, p]), unit(poses[:, c] - poses[:, p]), atol=1e-9)
    # by hand: the left wrist is the pelvis plus four bones, each along its observed direction at the rig's length
    chain = [PELVIS, SPINE, THORAX, L_SHOULDER, L_ELBOW, L_WRIST]
    wrist = poses[:, PELVIS].copy()
    for p, c in zip(chain, chain[1:]):
        wrist += unit(poses[:, c] - poses[:, p]) * rig.bone_lengths[c]
    np.testing.assert_allclose(out[:, L_WRIST], wrist, atol=1e-9)
    knee = poses[:, PELVIS] + unit(poses[:, R_HIP] - poses[:, PELVIS]) * 0.12 + unit(poses[:, R_KNEE] - poses[:, R_HIP]) * 0.47
    np.testing.assert_allclose(out[:, R_KNEE], knee, atol=1e-9)


def test_single_child_joints_turn_without_twist():
    rig = known_rig()
    rng = np.random.default_rng(12)
    local = rig.solve(rig.forward(*random_motion(rig, 15, rng)))
    nodes = rig.nodes
    checked = 0
    for k in range(len(nodes.names)):
        joint = nodes.joints[k]
        if joint >= 0 and len(H36M_17.children(joint)) == 1:
            rest = rig.offsets[H36M_17.children(joint)[0]]
        elif joint < 0:  # a carrier: turns its one child's bone
            rest = rig.offsets[nodes.joints[nodes.children[k][0]]]
        else:
            continue
        rotvec = Rotation.from_matrix(local[:, k]).as_rotvec()
        assert np.linalg.norm(rotvec, axis=-1).min() > 1e-3  # they do turn
        np.testing.assert_allclose(rotvec @ unit(rest), 0.0, atol=1e-9)  # about an axis across the bone
        checked += 1
    assert checked == 10 + 6  # hips, knees, spine, neck, shoulders, elbows; six carriers
    # joints without children keep their parent's rotation
    for j in (R_ANKLE, L_ANKLE, HEAD, L_WRIST, R_WRIST):
        np.testing.assert_allclose(local[:, nodes.joint_nodes[j]], np.broadcast_to(np.eye(3), (15, 3, 3)), atol=1e-12)


def test_bad_shapes_name_the_expected_shape():
    rig = Rig.t_pose()
    with pytest.raises(ValueError, match=r"expected rest offsets \(17, 3\), got \(16, 3\)"):
        Rig(H36M_17, np.zeros((16, 3)))
    with pytest.raises(ValueError, match=r"poses must be \(T, 17, 3\), got \(5, 16, 3\)"):
        Rig.from_poses(np.zeros((5, 16, 3)))
    with pytest.raises(ValueError, match=r"poses must have at least one frame"):
        Rig.from_poses(np.zeros((0, 17, 3)))
    with pytest.raises(ValueError, match=r"poses must be \(T, 17, 3\), got \(17, 3\)"):
        Rig.from_poses(np.zeros((17, 3)))
    with pytest.raises(ValueError, match=r"positions must be \(T, 17, 3\), got \(17, 3\)"):
        rig.solve(np.zeros((17, 3)))
    with pytest.raises(ValueError, match=r"rotations must be \(T, 23, 3, 3\), got \(2, 17, 3, 3\)"):
        rig.forward(np.zeros((2, 17, 3, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"root must be \(T, 3\) with T = \d+, got \(3, 3\)"):
        rig.forward(np.zeros((2, 23, 3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"positions must be \(T, 17, 3\)"):
        rig.conform(np.zeros((4, 17, 2)))
