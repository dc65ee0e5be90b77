"""BVH: reading, forward kinematics and a write/read round trip."""

import numpy as np
import pytest

from gastnet.animation import forward_kinematics, read_bvh, write_bvh
from gastnet.animation.bvh import euler_to_matrix
from gastnet.skeleton import H36M_17
from helpers import shared_file


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
    path = write_bvh(tmp_path / "motion.bvh", poses, H36M_17, fps=25, up_axis="z")
    bvh = read_bvh(path)
    assert bvh.fps == pytest.approx(25, rel=1e-4) and len(bvh.motion) == 30
    fk = forward_kinematics(bvh)
    back = fk[:, [bvh.names.index(n) for n in H36M_17.joint_names]]
    back = np.stack([back[..., 0], -back[..., 2], back[..., 1]], -1)  # the file is Y up
    assert np.abs(back - poses).max() < 1e-3  # under a millimetre


def test_bvh_of_noisy_bones_keeps_mean_lengths(tmp_path):
    poses = rigid_motion() + np.random.default_rng(1).normal(0, 0.005, size=(30, 17, 3))
    bvh = read_bvh(write_bvh(tmp_path / "noisy.bvh", poses, H36M_17, fps=25))
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
        write_bvh(tmp_path / "y.bvh", np.zeros((3, 16, 3)), H36M_17, 25)
