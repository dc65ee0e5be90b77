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
from gastnet.world.fit import (
    DEFINITION_JOINTS,
    FitOptions,
    KinematicFit,
    body_axes,
    describe_definition_offsets,
    fit_person,
    person_image_height,
    seen_joints,
)
from helpers import walking_world

FOCAL, CENTRE, FPS = 1000.0, (640.0, 360.0), 30.0
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_ELBOW, L_WRIST, R_WRIST = 0, 1, 2, 3, 4, 12, 13, 16


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


def jab(poses: np.ndarray, fps: float, peak_s: float) -> np.ndarray:
    """``poses`` (T, 17, 3) at ``fps`` with a left-wrist punch peaking at ``peak_s`` seconds: 0.35 m out (towards
    the camera and to the side) and back in ~0.3 s (peaks of ~50 m/s^2), the forearm kept rigid."""
    t = np.arange(len(poses)) / fps
    reach = 0.35 * np.exp(-0.5 * ((t - peak_s) / (2.5 / 30)) ** 2)  # metres
    jabbed = poses.copy()
    jabbed[:, L_WRIST] += reach[:, None] * np.array([0.5, 0.0, -0.85])
    return Rig.from_poses(poses).conform(jabbed)  # the forearm keeps its length: the elbow swings with it


def jab_loss(jabbed: np.ndarray, fps: float, peak_s: float, options: FitOptions | None = None) -> float:
    """The most (metres) the fit of the exact 2D and 3D ``jabbed`` takes off the wrist within 0.2 s of the peak."""
    fitted = fit_person(jabbed, project(jabbed), np.ones(jabbed.shape[:2]), FOCAL, CENTRE, fps, options).poses
    near = np.abs(np.arange(len(jabbed)) / fps - peak_s) <= 0.2
    return float(np.linalg.norm(relative(fitted)[near, L_WRIST] - relative(jabbed)[near, L_WRIST], axis=-1).max())


def test_a_fast_jab_is_kept_not_rounded_off():
    """The walk with a jab at 1.5 s, exact 2D and 3D: the reach docs/video.md documents (the robust smoothness
    takes 14 cm off the peak, a quadratic one of the same weight 18, ``robust_acceleration=3`` within 2.5 cm)."""
    jabbed = jab(truth(90), FPS, 1.5)
    quadratic, robust, low = (jab_loss(jabbed, FPS, 1.5, FitOptions(robust_acceleration=a)) for a in (None, 10.0, 3.0))
    assert 0.13 < robust < 0.15 and 0.17 < quadratic < 0.19 and low < 0.026


def test_the_temporal_terms_follow_the_frame_rate():
    """One motion in seconds (standing, swaying 5 cm at 0.5 Hz, a jab at 1.5 s) sampled at 25 and 60 fps: the
    smoothness, set in m/s^2, takes the same off the jab at both rates (a fit that took every recording for
    30 fps would take 9 cm at 25 fps and 4 at 60)."""
    losses = []
    for fps in (25.0, 60.0):
        t = np.arange(int(3 * fps)) / fps
        standing = np.repeat(truth(1), len(t), axis=0) + 0.05 * np.sin(np.pi * t)[:, None, None] * np.array([1, 0, 0])
        losses.append(jab_loss(jab(standing, fps, 1.5), fps, 1.5))
    assert 0.07 < losses[0] < 0.09 and 0.07 < losses[1] < 0.095 and abs(losses[0] - losses[1]) < 0.015


def test_the_jacobians_are_the_derivatives_of_the_loss():
    """Half the gradient of the objective (finite differences) is what ``linearise`` gives as J^T r, for the
    frames' parameters and the joint-definition offsets, with every term active: the Cauchy reprojection at
    noisy 2D and confidences, the robust smoothness above its threshold, the knee limit (made to bind), 3D
    targets on some joints."""
    rng = np.random.default_rng(11)
    poses = truth(8)
    noisy = poses + rng.normal(0.0, 0.02, poses.shape)  # accelerations of ~40 m/s^2 at 30 fps: the robust regime
    keypoints = project(poses) + rng.normal(0.0, 5.0, (8, 17, 2))
    scores = rng.uniform(0.2, 1.0, (8, 17))
    targets = np.where(rng.random((8, 17, 1)) < 0.3, poses + rng.normal(0.0, 0.05, poses.shape), np.nan)  # some joints
    problem = fit_module._Problem(noisy, keypoints, scores, FOCAL, CENTRE, FPS, FitOptions(knee_hyperextension_deg=-20.0),
                                  Rig.from_poses(noisy), targets)
    bones = noisy[:, fit_module._CHILD] - noisy[:, fit_module._PARENT]
    x = np.concatenate([noisy[:, 0] + 0.01, 1.1 * bones.reshape(8, -1)], 1)  # directions not unit: the gauge term acts
    o = rng.normal(0.0, 0.03, problem.offset_map.shape[-1])
    assert o.shape == (21,)
    _, e2 = problem.loss(x, o)
    _, grad, _, _, offset_grad = problem.linearise(x, o, e2)
    _, unit, _, vectors = problem.unpack(x)
    assert any((g < np.sin(np.radians(20.0))).any() for g, *_ in problem._knees(unit, vectors))  # the limit binds
    h = 1e-6

    def slope(dx: np.ndarray, do: np.ndarray) -> float:
        return (problem.loss(x + h * dx, o + h * do)[0] - problem.loss(x - h * dx, o - h * do)[0]) / (2 * h)

    numeric = np.array([[slope(np.eye(x.size)[i * 51 + j].reshape(x.shape), 0 * o) for j in range(51)] for i in range(8)])
    numeric_o = np.array([slope(0 * x, e) for e in np.eye(len(o))])
    np.testing.assert_allclose(2 * grad, numeric, atol=1e-6 * np.abs(numeric).max())
    np.testing.assert_allclose(2 * offset_grad, numeric_o, atol=1e-6 * np.abs(numeric_o).max())


def test_a_target_moves_a_joint_along_its_ray_and_nothing_else():
    """The network put the left arm 25 cm too far back along the rays (the 2D exact, so only depth is
    wrong): with the true wrist as a 3D target in the middle 20 frames (where people touch) the fitted
    wrist comes within 5 cm of it there and still projects onto its 2D; without the target it stays
    over 9 cm away (the rig's bones pull it part of the way); the right arm moves by under a centimetre either way."""
    poses = truth(60)
    lifted = poses.copy()
    for joint in (L_ELBOW, L_WRIST):  # pushed back along their rays: the same pixels, 25 cm deeper
        ray = poses[:, joint] / np.linalg.norm(poses[:, joint], axis=-1, keepdims=True)
        lifted[:, joint] = poses[:, joint] + 0.25 * (1.0 if joint == L_WRIST else 0.5) * ray
    targets = np.full(poses.shape, np.nan)
    targets[20:40, L_WRIST] = poses[20:40, L_WRIST]
    touched = fit(lifted, project(poses), rig=Rig.from_poses(poses), targets=targets)
    alone = fit(lifted, project(poses), rig=Rig.from_poses(poses))
    gap = np.linalg.norm(touched.poses[20:40, L_WRIST] - poses[20:40, L_WRIST], axis=-1)
    assert gap.max() < 0.05
    assert np.linalg.norm(alone.poses[20:40, L_WRIST] - poses[20:40, L_WRIST], axis=-1).min() > 0.09
    assert np.nanmax(touched.reprojection_px[20:40, L_WRIST]) < 3.0
    for result in (touched, alone):
        assert np.abs(relative(result.poses)[:, R_WRIST] - relative(alone.poses)[:, R_WRIST]).max() < 0.01


def test_the_root_stays_on_the_placement_where_nothing_is_detected():
    """A person crouching 30 cm while no joint is detected (a second): the root follows the placement's path
    (what the network and the floor say); the smoothness alone would carry it straight across the dip."""
    poses = truth(80)
    poses = poses + 0.3 * np.exp(-0.5 * ((np.arange(80) - 40) / 5.0) ** 2)[:, None, None] * np.array([0.0, 1.0, 0.0])
    scores = np.ones((80, 17))
    scores[28:53] = 0.0
    result = fit(poses, project(poses), scores)
    assert np.abs(result.poses[:, PELVIS] - poses[:, PELVIS]).max() < 0.14  # 0.17 without the root's prior


def test_an_unsure_joint_follows_the_3d_more_than_a_sure_one():
    """A wrist detected 30 px off with confidence 0.2: it stays within 4.5 cm of the network's 3D (the prior
    counts more where the detector is unsure; with the same pull at every confidence it moves 8 cm)."""
    rng = np.random.default_rng(5)
    poses = truth(60)
    noisy = poses + rng.normal(0.0, 0.01, poses.shape)
    keypoints, scores = project(poses), np.ones((60, 17))
    keypoints[:, L_WRIST] += [25.0, -20.0]
    scores[:, L_WRIST] = 0.2
    moved = np.linalg.norm(relative(fit(noisy, keypoints, scores).poses)[:, L_WRIST] - relative(noisy)[:, L_WRIST], axis=-1)
    assert moved.mean() < 0.045


def test_the_bones_come_from_the_frames_the_detector_is_sure_of():
    """The network's forearm 30% too long in 60% of the frames, those where the wrist's confidence is 0.05: the
    skeleton's forearm is the true one (a median over all frames would take the long one)."""
    poses = truth(60)
    wrong = poses.copy()
    bad = np.random.default_rng(7).permutation(60)[:36]
    wrong[bad, L_WRIST] = poses[bad, L_ELBOW] + 1.3 * (poses[bad, L_WRIST] - poses[bad, L_ELBOW])
    scores = np.ones((60, 17))
    scores[bad, L_WRIST] = 0.05
    forearm = np.linalg.norm(poses[0, L_WRIST] - poses[0, L_ELBOW])
    assert fit(wrong, project(poses), scores).rig.bone_lengths[L_WRIST] == pytest.approx(forearm, abs=0.003)


def turning_walk(frames: int) -> np.ndarray:
    """The walk (seen side-on) turning about the vertical from -60 to 60 degrees over ``frames``."""
    poses = truth(frames, 0.0)
    turns = Rotation.from_euler("y", np.linspace(-60.0, 60.0, frames)[:, None], degrees=True)
    return np.stack([turn.apply(p - p[0]) + p[0] for turn, p in zip(turns, poses)])


OFFSETS = np.zeros((17, 3))  # where a detector puts the torso joints, body frame (left, up, forward), metres
OFFSETS[[PELVIS, R_HIP, L_HIP, 8, 9, 10, 14, 11]] = [[0, -0.04, 0.02], [-0.03, 0.05, -0.02], [0.03, 0.05, -0.02],
                                                    [0, 0.03, -0.04], [0, -0.05, 0.03], [0, -0.06, 0.04],
                                                    [-0.04, -0.03, 0.02], [0.04, -0.03, 0.02]]


def test_the_detectors_joint_definitions_become_offsets_not_anatomy():
    """The torso joints seen 3-7 cm from the skeleton's (constant in the body's frame, left and right mirrored),
    the limbs exact, the 3D with 2 cm of noise: the fit finds the offsets (within 1.2 cm on average) and comes
    out closer to the truth than the network; without offsets it bends the body onto the detector's joints."""
    rng = np.random.default_rng(3)
    poses = turning_walk(100)
    seen = poses + np.einsum("jk,tkc->tjc", OFFSETS, body_axes(poses))
    noisy = poses + rng.normal(0.0, 0.012, poses.shape)
    keypoints = project(seen) + rng.normal(0.0, 1.0, (100, 17, 2))
    result = fit(noisy, keypoints)
    plain = fit(noisy, keypoints, options=FitOptions(definition_offset_std=0.0))
    assert np.abs(result.definition_offsets - OFFSETS)[list(DEFINITION_JOINTS)].mean() < 0.012
    assert np.abs(result.definition_offsets[[2, 3, 5, 6, 12, 13, 15, 16]]).max() == 0
    assert mpjpe(result.poses, poses) < 0.5 * mpjpe(noisy, poses) and mpjpe(plain.poses, poses) > mpjpe(noisy, poses)
    assert np.all(plain.definition_offsets == 0)
    assert describe_definition_offsets(result).startswith("pelvis ")
    # the skeleton's joints plus the offsets are where the detector saw the torso: they reproject onto its 2D
    torso = list(DEFINITION_JOINTS)
    at_skeleton = np.linalg.norm(project(result.poses) - keypoints, axis=-1)[:, torso]
    at_seen = np.linalg.norm(project(seen_joints(result.poses, result.definition_offsets)) - keypoints, axis=-1)[:, torso]
    assert np.median(at_seen) < 3.0 < 3 * np.median(at_seen) < np.median(at_skeleton)
    # exact torso joints: offsets near zero
    exact = fit(noisy, project(poses) + rng.normal(0.0, 1.0, (100, 17, 2)))
    assert np.abs(exact.definition_offsets).max() < 0.025


def test_a_photo_keeps_the_network_s_3d_where_a_detector_defines_joints_otherwise():
    """One frame, the torso joints seen elsewhere: nothing tells the body from the detector, so the fit stays
    near the network (no worse than it; with a clip's prior and pull it would take 1 cm more error on average)."""
    poses = turning_walk(100)[50:51]
    keypoints = project(poses + np.einsum("jk,tkc->tjc", OFFSETS, body_axes(poses)))
    clip_rules = FitOptions(photo_prior_m=FitOptions().prior_m, photo_definition_offset_std=FitOptions().definition_offset_std)
    errors = []  # the network's, the fit's, the fit's with a clip's rules (metres)
    for seed in range(6):
        noisy = poses + np.random.default_rng(seed).normal(0.0, 0.012, poses.shape)
        errors.append([mpjpe(noisy, poses), mpjpe(fit(noisy, keypoints).poses, poses),
                       mpjpe(fit(noisy, keypoints, options=clip_rules).poses, poses)])
    network, fitted, clip = np.array(errors).T
    assert (fitted < network).all() and clip.mean() > network.mean() + 0.005


def test_a_photo_the_2d_agrees_with_keeps_the_network_s_pose_and_bones():
    """One frame whose 2D is the network's own 3D projected, its bones uneven left and right (as a lift's are): nothing
    says the network is wrong, so the fit leaves the pose within 1 mm and keeps its bone lengths. Averaging left and
    right, as a clip's skeleton does, would move the joints by centimetres (what made some photos worse)."""
    poses = turning_walk(100)[50:51]
    network = poses + np.random.default_rng(11).normal(0.0, 0.012, poses.shape)
    keypoints = project(network)
    result = fit(network, keypoints)
    averaged = fit(network, keypoints, options=FitOptions(photo_own_bones=False))
    assert np.abs(result.poses - network).max() < 0.001
    children = [c for c, _ in H36M_17.bones()]
    assert result.rig.bone_lengths[children] == pytest.approx(bone_lengths(network)[0], abs=1e-9)
    assert np.abs(averaged.poses - network).max() > 0.01


def test_chunks_agree_with_the_whole_sequence(monkeypatch):
    poses = truth(100)
    rng = np.random.default_rng(2)
    noisy = poses + rng.normal(0.0, 0.012, poses.shape)
    keypoints = project(poses)
    whole = fit(noisy, keypoints)
    calls = []
    optimise = fit_module._optimise
    monkeypatch.setattr(fit_module, "FIT_CHUNK_FRAMES", 40)
    monkeypatch.setattr(fit_module, "FIT_CHUNK_OVERLAP", 8)
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
    offsets = fit_notes[0].split("the detector's joints against the skeleton's (cm, left/up/forward): ")[1].split(", ")
    assert [o.split(" ")[0] for o in offsets] == [H36M_17.joint_names[j] for j in DEFINITION_JOINTS]
    assert all(len(o.split(" ")[1].split("/")) == 3 for o in offsets)

    paths = result.save(tmp_path, ("npz", "bvh", "glb"))
    assert sorted(p.name for p in paths) == ["poses.glb", "poses.npz", "poses_3.bvh"]
    saved = np.load(tmp_path / "poses.npz")
    meta = json.loads(str(saved["meta"]))["rig"]
    parents, offsets, quats = meta["parents"], saved["rig_offsets"][0].astype(np.float64), saved["rotations"][0]
    world = saved["poses_world"][0]
    assert quats.shape == (110, 23, 4) and np.isnan(quats[:10]).all() and np.isnan(quats[100:]).all()
    np.testing.assert_allclose(saved["bone_lengths"][0], person.rig.bone_lengths, atol=1e-6)
    np.testing.assert_allclose(saved["reprojection_px"][0, 10:100], person.reprojection_px, atol=1e-3)
    np.testing.assert_allclose(saved["definition_offsets"][0], person.definition_offsets, atol=1e-6)
    assert person.definition_offsets[list(DEFINITION_JOINTS)].any()
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
