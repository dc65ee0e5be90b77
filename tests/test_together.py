"""People placed together (gastnet.world.together): one floor, touching hands, sizes.

Scenes with known truth: walkers placed in a world (z up, metres), seen by a look-at camera; the
"lifter" is simulated by scaling a person's true camera-frame poses about the camera's centre,
which is exactly the ambiguity a lifter cannot resolve (the 2D stays the same). The end-to-end
case lifts two Human3.6M people who shake hands (``helpers.handshake``) with the shipped model.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gastnet.world.together as together_module
from gastnet.geometry.camera import look_at, project_to_2d
from gastnet.skeleton import H36M_17
from gastnet.world.together import MAX_TOUCH_GAP_M, find_contacts, scale_together
from helpers import detector_joints, detector_pixels, handshake, shared_file, two_person_view, walking_world

FOCAL, CENTRE = 1000.0, np.array([960.0, 540.0])
RIGHT_WRIST, LEFT_WRIST, LEFT_ELBOW = (H36M_17.index(n) for n in ("right_wrist", "left_wrist", "left_elbow"))


def camera(eye=(0.0, -5.0, 1.6), target=(0.0, 0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    rot = look_at(torch.tensor(eye, dtype=torch.float64), torch.tensor(target, dtype=torch.float64)).numpy()
    return rot, np.array(eye)


def to_camera(world: np.ndarray, rot: np.ndarray, eye: np.ndarray) -> np.ndarray:
    return (world - eye) @ rot.T


def people(offsets, frames: int = 40, eye=(0.0, -5.0, 1.6), target=(0.0, 0.0, 1.0)):
    """Camera-frame poses (T, 17, 3) of walkers at world ``offsets`` (x, y) metres, their pixels and scores."""
    rot, eye_ = camera(eye, target)
    walk = walking_world(frames).astype(np.float64)
    walk = walk - np.array([*walk[0, 0, :2], walk[..., 2].min()])  # at the origin, lowest ankle on z = 0
    poses = [to_camera(walk + np.array([x, y, 0.0]), rot, eye_) for x, y in offsets]
    pixels = [project_to_2d(p, FOCAL, CENTRE) for p in poses]
    return poses, pixels, [np.full((frames, 17), 0.9) for _ in poses]


def test_one_person_keeps_its_size():
    poses, pixels, scores = people([(0.0, 0.0)])
    together = scale_together(poses, [np.arange(40)], pixels, scores)
    assert together.scales.tolist() == [1.0] and together.notes == []


@pytest.mark.parametrize("wrong", [0.8, 1.15, 1.3])
def test_the_floor_undoes_a_wrong_body_size(wrong):
    """Person 2 lifted ``wrong`` times too big (and so as far): one floor brings the two to the true ratio."""
    poses, pixels, scores = people([(-0.8, 0.0), (0.9, 2.0)])
    lifted = [poses[0], poses[1] * wrong]
    together = scale_together(lifted, [np.arange(40)] * 2, pixels, scores)
    ratio = together.scales[1] / together.scales[0]
    assert ratio == pytest.approx(1 / wrong, rel=0.04)
    # the sizes prior shares the correction: the scene's scale stays that of the lifted bodies
    assert np.prod(together.scales) == pytest.approx(1.0, abs=0.04)
    assert "scaled track" not in together.notes[0] and "person 2 x" in together.notes[0]


def test_a_touch_decides_where_the_floor_cannot():
    """A camera at ankle height sees no floor in the feet: the hands that meet set the depths."""
    eye, target = (0.0, -5.0, 0.05), (0.0, 0.0, 0.05)
    poses, _, scores = people([(-0.35, 0.0), (0.35, 0.0)], eye=eye, target=target)
    rot, eye_ = camera(eye, target)
    meet = to_camera(np.array([0.0, 0.0, 1.0]), rot, eye_)
    poses[0][:, RIGHT_WRIST] = meet
    poses[1][:, LEFT_WRIST] = meet + 0.02
    pixels = [project_to_2d(p, FOCAL, CENTRE) for p in poses]
    wrong = 1.2
    together = scale_together([poses[0], poses[1] * wrong], [np.arange(40)] * 2, pixels, scores, ["a", "b"])
    assert together.scales[1] / together.scales[0] == pytest.approx(1 / wrong, rel=0.03)
    assert [(c.joint_a, c.joint_b) for c in together.contacts] == [(RIGHT_WRIST, LEFT_WRIST)]
    assert any(n.startswith("a and b touch") and "right_wrist-left_wrist" in n for n in together.notes)
    # without the touch (the hands apart in the image) nothing tells the sizes: the wrong ratio stays
    apart = scale_together([poses[0], poses[1] * wrong], [np.arange(40)] * 2,
                           [pixels[0], pixels[1] + 300.0], scores)
    assert apart.contacts == [] and apart.scales[1] / apart.scales[0] == pytest.approx(1.0, abs=0.05)


def test_a_hand_in_front_of_someone_far_behind_is_no_touch():
    """Person 2 stands 3 m behind person 1, and 1's hand covers 2's hand in the image: the floor
    keeps them apart, and the overlap is reported as no touch."""
    poses, _, scores = people([(0.0, 0.0), (0.3, 3.0)])
    rot, eye = camera()
    poses[0][:, RIGHT_WRIST] = to_camera(np.array([0.25, -0.2, 1.1]), rot, eye)
    ray = poses[0][:, RIGHT_WRIST] / np.linalg.norm(poses[0][:, RIGHT_WRIST], axis=-1, keepdims=True)
    poses[1][:, LEFT_WRIST] = ray * np.linalg.norm(poses[1][:, 0], axis=-1, keepdims=True)  # same pixel, 3 m on
    pixels = [project_to_2d(p, FOCAL, CENTRE) for p in poses]
    overlaps = find_contacts(poses, [np.arange(40)] * 2, pixels, scores)
    assert (RIGHT_WRIST, LEFT_WRIST) in [(c.joint_a, c.joint_b) for c in overlaps]
    together = scale_together(poses, [np.arange(40)] * 2, pixels, scores)
    assert together.contacts == [] and len(together.rejected) == len(overlaps)
    assert all(c.gap_m(poses, together.scales) > MAX_TOUCH_GAP_M for c in together.rejected)
    assert together.scales == pytest.approx([1.0, 1.0], abs=0.02)
    assert any("not taken as touches" in n for n in together.notes)


def _hands_meeting(gap_m: float, elbow_m: float | None = None):
    """Two people 0.7 m apart seen from ankle height, 1's right wrist at 1 m and 2's left wrist ``gap_m``
    to its right (and 2's left elbow ``elbow_m`` above 1's wrist): poses, pixels, scores."""
    eye, target = (0.0, -5.0, 0.05), (0.0, 0.0, 0.05)
    poses, _, scores = people([(-0.35, 0.0), (0.35, 0.0)], eye=eye, target=target)
    rot, eye_ = camera(eye, target)
    meet = to_camera(np.array([0.0, 0.0, 1.0]), rot, eye_)
    poses[0][:, RIGHT_WRIST] = meet
    poses[1][:, LEFT_WRIST] = meet + np.array([gap_m, 0.0, 0.0])
    if elbow_m is not None:
        poses[1][:, LEFT_ELBOW] = meet + np.array([0.0, -elbow_m, 0.0])
    return poses, [project_to_2d(p, FOCAL, CENTRE) for p in poses], scores


def test_a_touch_is_found_through_a_detectors_noise():
    """Two wrists that meet (1% of the height apart in the image) seen through 2.5% of the height of noise
    per coordinate and frame (a detector's), 4 draws of 40 frames: the running median finds the touch in
    nearly every frame, the raw 2D misses it in several times as many."""
    poses, pixels, scores = _hands_meeting(0.02)
    height = np.ptp(pixels[0][0, :, 1])

    def frames_touching(smooth_frames: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        noisy = [k + rng.normal(0.0, 0.025 * height, k.shape) for k in pixels]
        original = together_module.TOUCH_SMOOTH_FRAMES
        together_module.TOUCH_SMOOTH_FRAMES = smooth_frames
        try:
            contacts = find_contacts(poses, [np.arange(40)] * 2, noisy, scores)
        finally:
            together_module.TOUCH_SMOOTH_FRAMES = original
        return sum(c.frames for c in contacts if (c.joint_a, c.joint_b) == (RIGHT_WRIST, LEFT_WRIST))

    smoothed = sum(frames_touching(5, seed) for seed in range(4))
    raw = sum(frames_touching(1, seed) for seed in range(4))
    assert smoothed >= 150 and 160 - raw >= 2 * (160 - smoothed)


def test_a_hand_touches_only_the_nearest_joint_of_the_other():
    """An elbow 4 cm from a hand that touches the other's hand is no touch of its own; alone (the hand
    moved away) it is; an elbow a little nearer than the hand held (2 cm against 3) loses to the hand."""
    poses, pixels, scores = _hands_meeting(0.02, elbow_m=0.04)
    found = [(c.joint_a, c.joint_b) for c in find_contacts(poses, [np.arange(40)] * 2, pixels, scores)]
    assert found == [(RIGHT_WRIST, LEFT_WRIST)]
    poses, pixels, scores = _hands_meeting(1.0, elbow_m=0.04)
    found = [(c.joint_a, c.joint_b) for c in find_contacts(poses, [np.arange(40)] * 2, pixels, scores)]
    assert found == [(RIGHT_WRIST, LEFT_ELBOW)]
    # the elbow projects nearer the hand (2 cm) than the hand it holds (3 cm): the hands still touch
    poses, pixels, scores = _hands_meeting(0.03, elbow_m=0.02)
    found = [(c.joint_a, c.joint_b) for c in find_contacts(poses, [np.arange(40)] * 2, pixels, scores)]
    assert found == [(RIGHT_WRIST, LEFT_WRIST)]


def test_unsure_joints_make_no_touch():
    eye, target = (0.0, -5.0, 0.05), (0.0, 0.0, 0.05)
    poses, _, scores = people([(-0.35, 0.0), (0.35, 0.0)], eye=eye, target=target)
    rot, eye_ = camera(eye, target)
    poses[0][:, RIGHT_WRIST] = poses[1][:, LEFT_WRIST] = to_camera(np.array([0.0, 0.0, 1.0]), rot, eye_)
    pixels = [project_to_2d(p, FOCAL, CENTRE) for p in poses]
    scores[1][:, LEFT_WRIST] = 0.3
    assert find_contacts(poses, [np.arange(40)] * 2, pixels, scores) == []


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("detector", [False, True], ids=["mocap-joints", "detector-2d"])
def test_two_people_shaking_hands_are_placed_together(detector):
    """End to end (lift_tracks with the shipped model): a handshake seen from 30 degrees off square, with
    the mocap's joints and 2 px of noise, or with a detector's joint definitions and errors
    (``helpers.detector_joints``, ``detector_pixels``); placed together the hands meet (within 0.15 m,
    where each placed alone leaves them further apart; one scale per person without the fit's touch
    targets leaves them 0.21 and 0.30 m apart) and the pelvises stay within 5 cm of their true distance
    (or nearer it than alone)."""
    import gastnet.pipeline.placing as placing
    from gastnet import create_model
    from gastnet.keypoints.tracks import PersonTrack
    from gastnet.pipeline.tracks_to_3d import lift_tracks
    from gastnet.world.together import Together

    data = shared_file("h36m", "data_3d_h36m.npz").parents[1]
    a, b, hands = handshake(data, "S11", "Greeting 1", 1.0)
    if detector:
        pixels, focal = two_person_view(detector_joints(a, 1), detector_joints(b, 2), 30.0)
        pixels = detector_pixels(pixels, 30)
    else:
        pixels, focal = two_person_view(a, b, 30.0)
        pixels = pixels + np.random.default_rng(0).normal(0.0, 2.0, pixels.shape)
    tracks = [PersonTrack(i, np.arange(len(a)), pixels[i], np.full((len(a), 17), 0.9)) for i in range(2)]
    model = create_model("gastnet_rf27_c32.video", pretrained=True).eval()

    def lift(alone: bool):
        original = placing.scale_together
        if alone:
            placing.scale_together = lambda poses, *args, **kwargs: Together(np.ones(len(poses)))
        try:
            result = lift_tracks(tracks, (1920, 1080), model, len(a), 25.0, focal_length=focal)
        finally:
            placing.scale_together = original
        first, second = result.people
        middle = len(a) // 2
        gap = np.linalg.norm(first.poses_world[middle, hands[0]] - second.poses_world[middle, hands[1]])
        pelvis = np.abs(np.linalg.norm(first.poses_world[:, 0] - second.poses_world[:, 0], axis=1)
                        - np.linalg.norm(a[:, 0] - b[:, 0], axis=1)).mean()
        return gap, pelvis, result.notes

    alone, together = lift(True), lift(False)
    assert together[0] <= 0.15 < alone[0]
    assert together[1] < 0.05 or together[1] < alone[1]
    assert any(n.startswith("people placed together") for n in together[2])
    assert any(" touch, placed at one depth" in n for n in together[2])
    assert any(n.startswith("touching joints posed to meet") for n in together[2])


def test_given_statures_leave_the_scales_alone():
    """With --person-height everybody's size is known: place_people rescales nobody (and says nothing of it)."""
    from gastnet.pipeline.options import LiftOptions
    from gastnet.pipeline.placing import LiftedTrack, place_people

    poses, pixels, scores = people([(-0.8, 0.0), (0.9, 2.0)])
    lifted = [LiftedTrack(i, np.arange(40), pixels[i], scores[i], p - p[:, :1]) for i, p in enumerate(poses)]
    lifted[1] = LiftedTrack(1, np.arange(40), pixels[1], scores[1], 1.2 * lifted[1].poses)  # lifted too big
    size = (1920, 1080)
    together = place_people(lifted, size, 25.0, LiftOptions(focal_length=FOCAL, fit=False))
    given = place_people(lifted, size, 25.0, LiftOptions(focal_length=FOCAL, fit=False, person_height=1.7))
    assert any(n.startswith("people placed together") for n in together.notes)
    assert not any(n.startswith("people placed together") for n in given.notes)
    # placed together, the second person's depth moves toward the truth; with the statures given it stays as lifted
    true_depth = np.linalg.norm(poses[1][:, 0], axis=-1).mean()
    depth = [np.linalg.norm(p.people[1].poses_absolute[:, 0], axis=-1).mean() for p in (together, given)]
    assert abs(depth[0] - true_depth) < abs(depth[1] - true_depth)
