"""The kinematic fit against synthetic truth: a rigid walk seen by a pinhole camera, its 3D perturbed.

Every test builds a world motion with one set of bones (the synthetic walk, smoothed and made rigid),
puts a camera 4 m in front of it (focal 1000 px, a 1280x720 image: the person is ~395 px tall),
projects it, and hands :func:`fit_person` that 2D with a perturbed 3D.
"""

import json

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

import gastnet.world.fit as fit_module
from gastnet.animation.rig import Rig
from gastnet.skeleton import H36M_17
from gastnet.world.fit import FitOptions, KinematicFit, fit_person, person_image_height
from helpers import walking_world

FOCAL, CENTRE, FPS = 1000.0, (640.0, 360.0), 30.0
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_WRIST = 0, 1, 2, 3, 4, 13


def truth(frames: int, yaw_deg: float = 20.0) -> np.ndarray:
    """(frames, 17, 3) camera-frame metres (x right, y down, z away): the synthetic walk turned by
    ``yaw_deg``, 4 m in front of the camera, smoothed (its ankles have velocity kinks) and made rigid."""
    world = walking_world(frames).astype(np.float64)
    yaw = Rotation.from_euler("z", yaw_deg, degrees=True).as_matrix()
    world = (world - [0.0, 0.0, 0.95]) @ yaw.T + [0.0, 0.0, 0.95]
    camera = np.stack([world[..., 0] + 0.3, 1.2 - world[..., 2], world[..., 1] + 4.0], -1)  # a proper rotation
    rig = Rig.from_poses(camera)
    return rig.conform(gaussian_filter1d(camera, 2.0, axis=0, mode="nearest"))


def project(poses: np.ndarray) -> np.ndarray:
    return FOCAL * poses[..., :2] / poses[..., 2:] + np.asarray(CENTRE)


def relative(poses: np.ndarray) -> np.ndarray:
    return poses - poses[:, :1]


def mpjpe(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(relative(a) - relative(b), axis=-1).mean())


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    return np.stack([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for c, p in H36M_17.bones()], -1)


def jitter(poses: np.ndarray) -> float:
    return float(np.linalg.norm(poses[2:] - 2 * poses[1:-1] + poses[:-2], axis=-1).mean())


def knee_flexion_deg(poses: np.ndarray, hip: int = R_HIP, knee: int = R_KNEE, ankle: int = R_ANKLE) -> np.ndarray:
    """(T,) signed knee angle: positive when the shin folds behind the thigh (the human way), negative
    when the knee bends forwards (hyperextension); about the person's left-right axis."""
    lateral = poses[:, L_HIP] - poses[:, R_HIP]
    lateral /= np.linalg.norm(lateral, axis=-1, keepdims=True)
    thigh, shin = poses[:, knee] - poses[:, hip], poses[:, ankle] - poses[:, knee]
    sine = np.einsum("ti,ti->t", np.cross(thigh, shin), lateral)
    return np.degrees(np.arctan2(sine, np.einsum("ti,ti->t", thigh, shin)))


def bend_knee(poses: np.ndarray, degrees: float) -> np.ndarray:
    """The right shin turned about the knee's left-right axis by ``degrees`` (positive: the human way),
    its length kept."""
    out = poses.copy()
    thigh = poses[:, R_KNEE] - poses[:, R_HIP]
    thigh /= np.linalg.norm(thigh, axis=-1, keepdims=True)
    lateral = poses[:, L_HIP] - poses[:, R_HIP]
    axis = lateral - np.sum(lateral * thigh, -1, keepdims=True) * thigh
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    shin = np.linalg.norm(poses[:, R_ANKLE] - poses[:, R_KNEE], axis=-1, keepdims=True)
    out[:, R_ANKLE] = poses[:, R_KNEE] + Rotation.from_rotvec(np.radians(degrees) * axis).apply(thigh) * shin
    return out


def fit(poses, keypoints, scores=None, **kwargs) -> KinematicFit:
    scores = np.ones(poses.shape[:2]) if scores is None else scores
    return fit_person(poses, keypoints, scores, FOCAL, CENTRE, FPS, **kwargs)


def test_the_scene_is_what_the_tests_assume():
    poses = truth(60)
    lengths = bone_lengths(poses)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-12)  # rigid
    assert 380 < person_image_height(project(poses)) < 410
    assert np.abs(knee_flexion_deg(poses)).max() < 0.01  # the walk's legs are straight
    np.testing.assert_allclose(knee_flexion_deg(bend_knee(poses, -30.0)), -30.0, atol=1e-9)
    np.testing.assert_allclose(knee_flexion_deg(bend_knee(poses, 40.0)), 40.0, atol=1e-9)
    scores = np.ones((60, 17))
    scores[:, 10] = 0.0  # the head (the top joint) not detected: the extent of the others
    others = project(poses)[:, :10, 1]
    assert person_image_height(project(poses), scores) == pytest.approx(np.median(others.max(1) - others.min(1)))
    assert person_image_height(project(poses)) > person_image_height(project(poses), scores) + 20


def test_noisy_3d_comes_out_closer_to_the_truth_rigid_and_on_the_2d():
    poses = truth(100)
    keypoints = project(poses)
    rng = np.random.default_rng(0)
    noisy = poses + rng.normal(0.0, 0.012, poses.shape)  # ~2 cm per joint, the network's typical error
    result = fit(noisy, keypoints)
    before, after = mpjpe(noisy, poses), mpjpe(result.poses, poses)
    assert 0.017 < before < 0.025
    assert after < 0.6 * before
    error = result.reprojection_px
    assert error.shape == (100, 17) and np.isfinite(error).all()
    assert np.median(error) < 1.0 and np.percentile(error, 95) < 2.0
    assert np.median(result.reprojection_before_px) > 5 * np.median(error)
    lengths = bone_lengths(result.poses)
    assert (lengths.std(0) / lengths.mean(0)).max() < 1e-6  # one length per bone over all frames
    np.testing.assert_allclose(lengths.mean(0), result.rig.bone_lengths[[c for c, _ in H36M_17.bones()]], rtol=1e-9)
    # the rig's bones are the noisy lift's (robust) lengths: within a few mm of the truth's
    np.testing.assert_allclose(result.rig.bone_lengths, Rig.from_poses(poses).bone_lengths, atol=0.008)
    assert np.isfinite(result.loss) and result.loss > 0


def test_undetected_joints_follow_the_3d_not_their_2d():
    poses = truth(60)
    keypoints, scores = project(poses), np.ones((60, 17))
    keypoints[20:40, L_WRIST] += [80.0, -60.0]  # made up by gap filling, and wrong
    scores[20:40, L_WRIST] = 0.0
    result = fit(poses, keypoints, scores)
    wrist = np.linalg.norm(relative(result.poses)[20:40, L_WRIST] - relative(poses)[20:40, L_WRIST], axis=-1)
    assert wrist.max() < 0.02
    assert np.linalg.norm(project(result.poses)[20:40, L_WRIST] - keypoints[20:40, L_WRIST], axis=-1).min() > 80
    missing = np.isnan(result.reprojection_px)
    assert missing[20:40, L_WRIST].all() and missing.sum() == 20
    assert np.isnan(result.reprojection_before_px).sum() == 20


def test_a_2d_outlier_pulls_the_fit_very_little():
    poses = truth(60)
    keypoints = project(poses)
    clean = fit(poses, keypoints)
    height = person_image_height(keypoints)
    wrong = keypoints.copy()
    wrong[30, L_WRIST, 0] += 0.3 * height  # ~120 px off, the detector still sure
    result = fit(poses, wrong)
    # the pull a least-squares fit would follow: ~0.5 m at the wrist's depth; the robust fit moves ~mm
    assert 0.3 * height * poses[30, L_WRIST, 2] / FOCAL > 0.4
    assert np.linalg.norm(result.poses[30, L_WRIST] - clean.poses[30, L_WRIST]) < 0.01
    assert result.reprojection_px[30, L_WRIST] > 0.9 * 0.3 * height  # it stays off the outlier
    others = np.r_[0:30, 31:60]
    assert np.abs(result.poses[others] - clean.poses[others]).max() < 0.005
    np.testing.assert_allclose(result.reprojection_px[others], clean.reprojection_px[others], atol=0.5)


def test_a_hyperextended_knee_is_bent_back_within_the_limit():
    poses = truth(60)
    bad = bend_knee(poses, -30.0)  # the knee bent forwards by 30 degrees
    assert knee_flexion_deg(bad).max() < -29.9
    limit = FitOptions().knee_hyperextension_deg
    result = fit(bad, project(bad))  # the 2D agrees with the input: it does not insist either way (depth)
    assert knee_flexion_deg(result.poses).min() > -(limit + 1.5)
    # a knee bent the human way is left as it is
    bent = bend_knee(poses, 40.0)
    kept = knee_flexion_deg(fit(bent, project(bent)).poses)
    assert np.abs(kept - 40.0).max() < 5.0


def test_the_fit_removes_jitter():
    poses = truth(80)
    rng = np.random.default_rng(1)
    noisy = poses + rng.normal(0.0, 0.01, poses.shape)
    keypoints = project(poses) + rng.normal(0.0, 1.0, (80, 17, 2))  # a detector's pixel of jitter too
    result = fit(noisy, keypoints)
    assert jitter(noisy) > 20 * jitter(poses)
    assert jitter(result.poses) < 0.1 * jitter(noisy)
    assert jitter(relative(result.poses)) < 0.1 * jitter(relative(noisy))
    assert jitter(result.poses) < 1.5 * jitter(poses)


def test_a_fast_jab_is_kept_not_rounded_off():
    """A left-wrist punch (0.35 m out and back in 0.3 s, peaks of ~50 m/s^2) with exact 2D and 3D: the
    robust smoothness cuts its peak less than the quadratic one of the same weight (by default 14 against
    18 cm, in depth), and a lower threshold keeps it within a few centimetres."""
    real = truth(90)
    t = np.arange(90)
    reach = 0.35 * np.exp(-0.5 * ((t - 45) / 2.5) ** 2)  # metres, towards the camera and to the side
    jabbed = real.copy()
    jabbed[:, L_WRIST] += reach[:, None] * np.array([0.5, 0.0, -0.85])
    jabbed = Rig.from_poses(real).conform(jabbed)  # the forearm keeps its length: the elbow swings with it
    keypoints, scores = project(jabbed), np.ones((90, 17))

    def peak_error(options: FitOptions) -> float:
        fitted = fit_person(jabbed, keypoints, scores, FOCAL, CENTRE, FPS, options).poses
        return float(np.linalg.norm(relative(fitted)[40:51, L_WRIST] - relative(jabbed)[40:51, L_WRIST], axis=-1).max())

    quadratic, robust, low = (peak_error(FitOptions(robust_acceleration=a)) for a in (None, 10.0, 3.0))
    assert robust < 0.9 * quadratic and low < 0.05 and low < 0.3 * quadratic


def test_chunks_agree_with_the_whole_sequence(monkeypatch):
    poses = truth(100)
    rng = np.random.default_rng(2)
    noisy = poses + rng.normal(0.0, 0.012, poses.shape)
    keypoints = project(poses)
    whole = fit(noisy, keypoints)
    calls = []
    optimise = fit_module._optimise
    monkeypatch.setattr(fit_module, "CHUNK_FRAMES", 40)
    monkeypatch.setattr(fit_module, "CHUNK_OVERLAP", 8)
    monkeypatch.setattr(fit_module, "_optimise", lambda p, *a: calls.append(len(p)) or optimise(p, *a))
    chunked = fit(noisy, keypoints)
    assert calls == [40, 40, 36]  # frames 0-39, 32-71, 64-99
    distance = np.linalg.norm(chunked.poses - whole.poses, axis=-1)
    assert distance.mean() < 0.005 and np.median(distance) < 0.003
    assert mpjpe(chunked.poses, poses) < 1.1 * mpjpe(whole.poses, poses)  # as accurate
    assert jitter(chunked.poses) < 1.25 * jitter(whole.poses)  # no jumps where pieces meet
    lengths = bone_lengths(chunked.poses)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), rtol=1e-9)
    np.testing.assert_allclose(lengths[0], whole.rig.bone_lengths[[c for c, _ in H36M_17.bones()]], rtol=1e-9)
    assert np.median(chunked.reprojection_px) < 1.0


def test_reprojection_errors_are_pixel_distances_to_the_detected_2d():
    poses = truth(40)
    rng = np.random.default_rng(3)
    keypoints = project(poses) + rng.normal(0.0, 3.0, (40, 17, 2))
    scores = rng.uniform(0.3, 1.0, (40, 17))
    scores[::7, 5] = 0.0
    noisy = poses + rng.normal(0.0, 0.02, poses.shape)
    result = fit(noisy, keypoints, scores)
    for mine, theirs in ((result.reprojection_px, result.poses), (result.reprojection_before_px, noisy)):
        u = FOCAL * theirs[..., 0] / theirs[..., 2] + CENTRE[0]
        v = FOCAL * theirs[..., 1] / theirs[..., 2] + CENTRE[1]
        expected = np.hypot(u - keypoints[..., 0], v - keypoints[..., 1])
        expected[scores == 0] = np.nan
        np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-9)
    assert np.isnan(result.reprojection_px[::7, 5]).all() and np.isnan(result.reprojection_px).sum() == 6


def test_bad_input_is_a_value_error():
    poses = truth(10)
    keypoints, scores = project(poses), np.ones((10, 17))
    for args, words in (((poses[:, :16], keypoints, scores), r"poses must be \(T, 17, 3\), got \(10, 16, 3\)"),
                        ((poses, keypoints[:9], scores), r"keypoints must be \(T, 17, 2\) with T = 10, got \(9, 17, 2\)"),
                        ((poses, keypoints, scores[:, :5]), r"scores must be \(T, 17\) with T = 10, got \(10, 5\)"),
                        ((poses[:0], keypoints[:0], scores[:0]), r"at least one frame"),
                        ((poses[..., :2], keypoints, scores), r"poses must be \(T, 17, 3\)")):
        with pytest.raises(ValueError, match=words):
            fit_person(*args, FOCAL, CENTRE, FPS)
    for focal, fps in ((0.0, FPS), (-500.0, FPS), (np.nan, FPS), (FOCAL, 0.0), (FOCAL, -30.0), (FOCAL, np.inf)):
        with pytest.raises(ValueError, match="expected a positive focal length and frame rate"):
            fit_person(poses, keypoints, scores, focal, CENTRE, fps)


@pytest.mark.slow
def test_lifting_with_the_fit_saves_rotations_that_pose_the_saved_skeleton(tmp_path):
    import gastnet
    from gastnet.examples import synthetic_walk_2d
    from gastnet.keypoints.tracks import PersonTrack
    from gastnet.pipeline.tracks_to_3d import lift_tracks

    size = (1280, 720)
    keypoints = synthetic_walk_2d(90, (size[1], size[1])).astype(np.float64)
    track = PersonTrack(3, np.arange(10, 100), keypoints, np.full((90, 17), 0.9))
    model = gastnet.create_model("gastnet_rf27_c32.video", pretrained=True)
    result = lift_tracks([track], size, model, num_frames=110, fps=30, fit=True)
    [person] = result.people
    assert person.rig is not None and person.reprojection_px.shape == (90, 17)
    lengths = bone_lengths(person.poses_world)
    assert (lengths.std(0) / lengths.mean(0)).max() < 1e-6
    np.testing.assert_allclose(lengths[0], person.rig.bone_lengths[[c for c, _ in H36M_17.bones()]], rtol=1e-6)
    fit_notes = [n for n in result.notes if n.startswith("track 3: one skeleton of")]
    assert len(fit_notes) == 1 and "per joint (px): pelvis " in fit_notes[0]
    assert all(f"{name} " in fit_notes[0].split("per joint (px):")[1] for name in H36M_17.joint_names)
    assert f"one skeleton of {person.rig.height:.2f} m" in fit_notes[0]

    paths = result.save(tmp_path, ("npz", "bvh", "glb"))
    assert sorted(p.name for p in paths) == ["poses.glb", "poses.npz", "poses_3.bvh"]
    saved = np.load(tmp_path / "poses.npz")
    meta = json.loads(str(saved["meta"]))["rig"]
    parents, offsets, quats = meta["parents"], saved["rig_offsets"][0].astype(np.float64), saved["rotations"][0]
    world = saved["poses_world"][0]
    assert quats.shape == (110, 23, 4) and np.isnan(quats[:10]).all() and np.isnan(quats[100:]).all()
    np.testing.assert_allclose(saved["bone_lengths"][0], person.rig.bone_lengths, atol=1e-6)
    np.testing.assert_allclose(saved["reprojection_px"][0, 10:100], person.reprojection_px, atol=1e-3)
    # forward kinematics written out here from the file alone: global = parent's global @ local,
    # position = parent's position + parent's global @ rest offset; the joints are the nodes named so
    local = Rotation.from_quat(quats[10:100].reshape(-1, 4).astype(np.float64)).as_matrix().reshape(90, 23, 3, 3)
    positions, glob = np.zeros((90, 23, 3)), np.zeros((90, 23, 3, 3))
    for node, parent in enumerate(parents):
        if parent < 0:
            positions[:, node], glob[:, node] = world[10:100, 0], local[:, node]
        else:
            positions[:, node] = positions[:, parent] + glob[:, parent] @ offsets[node]
            glob[:, node] = glob[:, parent] @ local[:, node]
    joints = [meta["nodes"].index(name) for name in H36M_17.joint_names]
    assert np.abs(positions[:, joints] - world[10:100]).max() < 1e-3
    # the same through the rig rebuilt from the saved offsets
    rig = Rig(H36M_17, offsets[joints])
    assert rig.nodes.names == tuple(meta["nodes"])
    assert np.abs(rig.forward(local, world[10:100, 0]) - world[10:100]).max() < 1e-3

    plain = lift_tracks([track], size, model, num_frames=110, fps=30, fit=False)
    assert plain.people[0].rig is None and plain.people[0].rotations is None
    assert not any("one skeleton" in n for n in plain.notes)
    plain.save(tmp_path / "plain")
    with np.load(tmp_path / "plain" / "poses.npz") as saved:
        assert "rotations" not in saved and "rig_offsets" not in saved and "poses_world" in saved
