"""BVH: reading, forward kinematics and a write/read round trip."""

import numpy as np
import pytest

from gastnet.animation import forward_kinematics, read_bvh, write_rig_bvh
from gastnet.animation.bvh import BvhMotion, continuous_euler_zxy, euler_to_matrix
from gastnet.animation.rig import Y_UP, Rig
from gastnet.skeleton import H36M_17
from helpers import shared_file, walking_world


def rigid_motion(frames: int = 30) -> np.ndarray:
    """Poses (T, 17, 3) from true forward kinematics: every joint rotates all its bones rigidly."""
    rng = np.random.default_rng(0)
    rest = np.zeros((17, 3))
    directions = {1: (-1, 0, 0), 2: (0, 0, -1), 3: (0, 0, -1), 4: (1, 0, 0), 5: (0, 0, -1), 6: (0, 0, -1),
                  7: (0, 0, 1), 8: (0, 0, 1), 9: (0, 0.2, 1), 10: (0, 0, 1), 11: (1, 0, 0.1), 12: (1, 0, 0),
                  13: (1, 0, 0), 14: (-1, 0, 0.1), 15: (-1, 0, 0), 16: (-1, 0, 0)}
    lengths = (0.13, 0.44, 0.45, 0.13, 0.44, 0.45, 0.23, 0.26, 0.12, 0.12, 0.15, 0.28, 0.25, 0.15, 0.28, 0.25)
    for (child, _), length in zip(H36M_17.bones(), lengths):
        d = np.array(directions[child], dtype=float)
        rest[child] = length * d / np.linalg.norm(d)
    t = np.linspace(0, 2 * np.pi, frames)[:, None]
    angles = 25 * np.sin(t + rng.uniform(0, 6, size=(1, 17 * 3))).reshape(frames, 17, 3)
    local = euler_to_matrix(angles, "ZXY")
    glob = np.zeros_like(local)
    poses = np.zeros((frames, 17, 3))
    for j, p in enumerate(H36M_17.parents):
        if p == -1:
            glob[:, j] = local[:, j]
            poses[:, j] = np.array([0.0, 0.0, 1.0]) + np.concatenate([0.01 * t, 0 * t, 0 * t], 1)
        else:
            poses[:, j] = poses[:, p] + np.einsum("tij,j->ti", glob[:, p], rest[j])
            glob[:, j] = glob[:, p] @ local[:, j]
    return poses


def test_write_then_read_reproduces_the_positions(tmp_path):
    poses = rigid_motion()
    path = write_rig_bvh(tmp_path / "motion.bvh", Rig.from_poses(poses), poses, fps=25)
    bvh = read_bvh(path)
    assert bvh.fps == pytest.approx(25, rel=1e-4) and len(bvh.motion) == 30
    fk = forward_kinematics(bvh)
    back = fk[:, [bvh.names.index(n) for n in H36M_17.joint_names]]
    back = np.stack([back[..., 0], -back[..., 2], back[..., 1]], -1)  # the file is Y up
    assert np.abs(back - poses).max() < 1e-3  # under a millimetre


def test_bvh_of_noisy_bones_made_rigid_stays_close(tmp_path):
    poses = rigid_motion() + np.random.default_rng(1).normal(0, 0.005, size=(30, 17, 3))
    rig = Rig.from_poses(poses)
    bvh = read_bvh(write_rig_bvh(tmp_path / "noisy.bvh", rig, rig.conform(poses), fps=25))
    fk = forward_kinematics(bvh)
    back = fk[:, [bvh.names.index(n) for n in H36M_17.joint_names]]
    back = np.stack([back[..., 0], -back[..., 2], back[..., 1]], -1)
    assert np.abs(back - poses).mean() < 0.01  # within a centimetre on average


@pytest.mark.data
def test_read_the_cmu_file():
    bvh = read_bvh(shared_file("cmu", "131_01.bvh"))
    assert len(bvh.motion) == 994 and bvh.fps == pytest.approx(120, rel=1e-3)
    assert bvh.names[0] == "Hips" and "Head_end" in bvh.names
    fk = forward_kinematics(bvh)
    knee, ankle = bvh.names.index("LeftKnee"), bvh.names.index("LeftAnkle")
    shin = np.linalg.norm(fk[:, ankle] - fk[:, knee], axis=-1)
    np.testing.assert_allclose(shin, np.linalg.norm(bvh.offsets[ankle]), rtol=1e-9)  # rigid bones


def test_bad_bvh_is_rejected(tmp_path):
    (tmp_path / "x.bvh").write_text("not a bvh")
    with pytest.raises(ValueError, match="not a BVH"):
        read_bvh(tmp_path / "x.bvh")
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        write_rig_bvh(tmp_path / "y.bvh", Rig.t_pose(), np.zeros((3, 16, 3)), 25)


# --- the BVH of a rig ------------------------------------------------------------------------------


def turning_walk(frames: int = 120, turns: float = 2.0) -> tuple[Rig, np.ndarray]:
    """A rig and its motion (T, 17, 3) metres, z up: the synthetic walk, turning ``turns`` times about the vertical."""
    world = walking_world(frames).astype(np.float64)
    a = np.linspace(0, 2 * np.pi * turns, frames)
    c, s = np.cos(a), np.sin(a)
    spin = np.zeros((frames, 3, 3))
    spin[:, 0, 0], spin[:, 0, 1], spin[:, 1, 0], spin[:, 1, 1], spin[:, 2, 2] = c, -s, s, c, 1
    world = np.einsum("tij,tkj->tki", spin, world)
    rig = Rig.from_poses(world)
    return rig, rig.conform(world)


def joints_of(bvh: BvhMotion) -> np.ndarray:
    """The skeleton's joints (F, 17, 3) of a BVH file's forward kinematics (its Y-up frame)."""
    return forward_kinematics(bvh)[:, [bvh.names.index(n) for n in H36M_17.joint_names]]


def test_rig_bvh_reproduces_the_positions(tmp_path):
    rig, motion = turning_walk()
    bvh = read_bvh(write_rig_bvh(tmp_path / "rig.bvh", rig, motion, fps=30))
    assert bvh.fps == pytest.approx(30, rel=1e-6) and len(bvh.motion) == len(motion)
    assert bvh.names[:3] == ["pelvis", "pelvis_to_right_hip", "right_hip"]
    assert all(len(c) == 3 for c in bvh.channels[1:] if c) and len(bvh.channels[0]) == 6
    error = np.linalg.norm(joints_of(bvh) - motion @ Y_UP.T, axis=-1)
    assert error.max() < 1e-4  # under 0.1 mm at every frame and joint


def test_rig_bvh_angles_are_continuous(tmp_path):
    rig, motion = turning_walk(turns=3.0)
    bvh = read_bvh(write_rig_bvh(tmp_path / "spin.bvh", rig, motion, fps=30))
    rotations = bvh.motion[:, 3:]
    assert np.abs(np.diff(rotations, axis=0)).max() < 60  # no 360-degree wraps
    heading = bvh.motion[:, 3 + 2]  # the root's Y (vertical) angle turns on, past 360
    assert np.ptp(heading) > 2.5 * 360


def test_euler_angles_at_gimbal_lock():
    truth = np.array([[10.0, 30.0, 20.0], [12.0, 90.0, 25.0], [14.0, 89.9, 27.0], [20.0, -90.0, 5.0]])
    matrices = euler_to_matrix(truth[:, None], "ZXY")
    angles = continuous_euler_zxy(matrices)
    np.testing.assert_allclose(euler_to_matrix(angles, "ZXY"), matrices, atol=1e-9)
    assert angles[1, 0, 0] == pytest.approx(10.0)  # locked: z keeps its previous value


def test_rig_bvh_rest_is_a_t_pose(tmp_path):
    rig, motion = turning_walk(30)
    bvh = read_bvh(write_rig_bvh(tmp_path / "rest.bvh", rig, motion, fps=30))
    rest = BvhMotion(bvh.names, bvh.parents, bvh.offsets, bvh.channels, np.zeros_like(bvh.motion[:1]), bvh.frame_time)
    pose = joints_of(rest)[0]  # Y up: legs along -y, arms along +-x
    j = {n: pose[H36M_17.joint_names.index(n)] for n in H36M_17.joint_names}
    for side, sign in (("left", 1), ("right", -1)):
        for a, b in ((f"{side}_hip", f"{side}_knee"), (f"{side}_knee", f"{side}_ankle")):
            d = (j[b] - j[a]) / np.linalg.norm(j[b] - j[a])
            np.testing.assert_allclose(d, [0, -1, 0], atol=1e-6)
        for a, b in ((f"{side}_shoulder", f"{side}_elbow"), (f"{side}_elbow", f"{side}_wrist")):
            d = (j[b] - j[a]) / np.linalg.norm(j[b] - j[a])
            np.testing.assert_allclose(d, [sign, 0, 0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(bvh.offsets[[bvh.names.index(n) for n in H36M_17.joint_names]], axis=-1),
                               rig.bone_lengths, atol=1e-6)


def test_rig_bvh_lines_up_with_the_video(tmp_path):
    rig, motion = turning_walk(60)
    bvh = read_bvh(write_rig_bvh(tmp_path / "late.bvh", rig, motion, fps=30, start_frame=40, num_frames=130))
    assert len(bvh.motion) == 130
    joints, up = joints_of(bvh), motion @ Y_UP.T
    assert np.abs(joints[40:100] - up).max() < 1e-4  # input frame 0 is file frame 40
    assert np.abs(joints[:40] - up[0]).max() < 1e-4  # before: the first pose
    assert np.abs(joints[100:] - up[-1]).max() < 1e-4  # after: the last pose
    with pytest.raises(ValueError, match="do not fit"):
        write_rig_bvh(tmp_path / "short.bvh", rig, motion, fps=30, start_frame=40, num_frames=99)
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        write_rig_bvh(tmp_path / "bad.bvh", rig, motion[:, :16], fps=30)


@pytest.mark.data
def test_rig_bvh_of_a_real_walk(tmp_path):
    from gastnet.data.mocap import load_mocap

    world = load_mocap(str(shared_file("h36m", "data_3d_h36m.npz")), "h36m").positions["S9"]["Walking 1"]
    world = np.asarray(world[::4], np.float64)
    rig = Rig.from_poses(world)
    motion = rig.conform(world)
    bvh = read_bvh(write_rig_bvh(tmp_path / "s9.bvh", rig, motion, fps=12.5, start_frame=7))
    assert np.linalg.norm(joints_of(bvh)[7:] - motion @ Y_UP.T, axis=-1).max() < 1e-4
    assert np.abs(np.diff(bvh.motion[:, 3:], axis=0)).max() < 90
