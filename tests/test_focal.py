"""The focal length estimated from the people (gastnet.world.focal).

The truth is synthetic: a walker whose planted feet stand still on the floor (built here, joint by
joint, around a racetrack path), seen by a camera of known field of view placed as the trajectory
benchmark places it (``helpers.place_camera``), projected with ``gastnet.geometry.camera.project_to_2d``. The
lifted pose is the true root-relative pose (an oracle), so the tests check the method, not a lifter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet.geometry.camera import DEFAULT_FOV_DEG, focal_from_fov, project_to_2d
from gastnet.world.focal import (
    PRIOR_SIGMA_LOG,
    FocalLengthEstimate,
    combine_focal,
    default_focal,
    estimate_focal,
    fov_from_focal,
)
from helpers import place_camera, shared_file, standing_person, walking_world

SIZE = (1920, 1080)
FPS = 30.0


def racetrack(arc: np.ndarray, length: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) metres at arc lengths ``arc`` (N,) along a racetrack (two straights ``length`` apart
    ``width``, joined by half circles), and the unit direction of travel (N, 2)."""
    r = width / 2
    total = 2 * length + 2 * math.pi * r
    s = np.mod(arc, total)
    straight_a, bend_a = s < length, (s >= length) & (s < length + math.pi * r)
    straight_b = (s >= length + math.pi * r) & (s < 2 * length + math.pi * r)
    a = np.where(bend_a, (s - length) / r, (s - 2 * length - math.pi * r) / r)  # angle into a bend
    x = np.select([straight_a, bend_a, straight_b],
                  [s - length / 2, length / 2 + r * np.sin(a), length / 2 - (s - length - math.pi * r)],
                  -length / 2 - r * np.sin(a))
    y = np.select([straight_a, bend_a, straight_b], [np.full_like(s, -r), -r * np.cos(a), np.full_like(s, r)],
                  r * np.cos(a))
    dx = np.select([straight_a, bend_a, straight_b], [np.ones_like(s), np.cos(a), -np.ones_like(s)], -np.cos(a))
    dy = np.select([straight_a, bend_a, straight_b], [np.zeros_like(s), np.sin(a), np.zeros_like(s)], -np.sin(a))
    return np.stack([x, y], -1), np.stack([dx, dy], -1)


def planted_walk(frames: int, length: float = 4.0, width: float = 0.8, speed: float = 1.2,
                 step: float = 0.65, start: float = 1.0) -> np.ndarray:
    """A walker around a racetrack (T, 17, 3) metres, z up, at ``FPS``, whose planted feet stand still.

    The walker starts ``start`` metres along the track. Each foot stands on its footprint (every
    second step along the path, 10 cm to its side) while the pelvis passes from 0.6 steps behind it
    to 0.6 steps beyond (60% of the cycle), then swings to the next footprint, its ankle lifted up to
    12 cm. Knees midway between hip and ankle, 5 cm forward;
    an upright torso and head; arms hanging and swinging against the legs.
    """
    arc = speed * np.arange(frames) / FPS + start
    centre, ahead = racetrack(arc, length, width)
    right = np.stack([ahead[:, 1], -ahead[:, 0]], -1)
    ankles = []
    for foot, side in ((0, 1.0), (1, -1.0)):  # right, left
        cycle = arc - foot * step + 0.6 * step
        footprint = np.floor(cycle / (2 * step)) * 2 * step + foot * step
        swing = np.clip((cycle - np.floor(cycle / (2 * step)) * 2 * step - 1.2 * step) / (0.8 * step), 0, 1)
        where = footprint + (0.5 - 0.5 * np.cos(np.pi * swing)) * 2 * step
        point, direction = racetrack(where, length, width)
        point = point + side * 0.1 * np.stack([direction[:, 1], -direction[:, 0]], -1)
        ankles.append(np.column_stack([point, 0.08 + 0.12 * np.sin(np.pi * swing)]))
    up, ahead3, right3 = np.array([0.0, 0.0, 1.0]), np.column_stack([ahead, 0 * arc]), np.column_stack([right, 0 * arc])
    pelvis = np.column_stack([centre, np.full(frames, 0.95)])
    joints = np.zeros((frames, 17, 3))
    joints[:, 0], joints[:, 3], joints[:, 6] = pelvis, ankles[0], ankles[1]
    joints[:, 1], joints[:, 4] = pelvis + 0.12 * right3, pelvis - 0.12 * right3
    joints[:, 2] = (joints[:, 1] + joints[:, 3]) / 2 + 0.05 * ahead3
    joints[:, 5] = (joints[:, 4] + joints[:, 6]) / 2 + 0.05 * ahead3
    for joint, height in ((7, 0.25), (8, 0.5), (9, 0.6), (10, 0.75)):
        joints[:, joint] = pelvis + height * up + (0.08 * ahead3 if joint == 9 else 0)
    joints[:, 11], joints[:, 14] = joints[:, 8] - 0.18 * right3, joints[:, 8] + 0.18 * right3
    swing_arm = 0.15 * ((ankles[0] - ankles[1]) * ahead3).sum(-1, keepdims=True) * ahead3
    for shoulder, sign in ((11, -1.0), (14, 1.0)):
        joints[:, shoulder + 1] = joints[:, shoulder] - 0.28 * up + sign * swing_arm
        joints[:, shoulder + 2] = joints[:, shoulder + 1] - 0.25 * up + sign * swing_arm
    return joints


WALK = planted_walk(540)  # 18 s: one and a half laps


def seen(world: np.ndarray, direction: str, fov: float, height: float = 1.5, pitch: float = 8.0,
         noise_px: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """(root-relative camera-frame poses (T, 17, 3) m, pixels (T, 17, 2), true focal px) of ``world`` through a camera."""
    rot, eye = place_camera(world, direction, fov, height, pitch, SIZE)
    cam = (world - eye) @ rot.T
    focal = focal_from_fov(fov, SIZE)
    pixels = project_to_2d(cam, focal, np.array(SIZE) / 2)
    pixels = pixels + np.random.default_rng(seed).normal(0.0, noise_px, pixels.shape)
    return cam - cam[:, :1], pixels, focal


def test_the_synthetic_walker_plants_its_feet():
    """The truth the other tests rely on: the lower foot stands still, and the walker moves at 1.2 m/s."""
    lower = np.argmin(WALK[:, [3, 6], 2], axis=1)
    ankle = WALK[np.arange(len(WALK)), np.where(lower == 0, 3, 6)]
    planted = np.abs(WALK[:, 3, 2] - WALK[:, 6, 2]) > 0.05
    speed = np.linalg.norm(np.diff(ankle, axis=0), axis=-1) * FPS
    assert np.median(speed[planted[1:] & planted[:-1]]) < 1e-9
    assert np.linalg.norm(np.diff(WALK[:, 0], axis=0), axis=-1).mean() * FPS == pytest.approx(1.2, rel=1e-3)


@pytest.mark.parametrize("direction", ["across", "toward/away"])
@pytest.mark.parametrize("fov", [50.0, 65.0, 75.0, 90.0])
def test_walks_give_the_focal_length(direction, fov):
    """Within 9% of the true focal length (clean 2D), and within 3 of its own sigmas: the camera 1.5 m high,
    pitched 8 degrees down, beside the racetrack (the straights cross the image at two depths 0.8 m
    apart) or on its axis (the walker comes and goes over 4 m)."""
    rel, pixels, focal = seen(WALK, direction, fov)
    estimate = estimate_focal(rel, pixels, None, SIZE, FPS)
    error = math.log(estimate.focal_px / focal)
    assert estimate.informative, estimate.note
    assert abs(error) < 0.09, estimate.describe()
    assert abs(error) < 3 * estimate.sigma_log, estimate.describe()
    assert estimate.sigma_log < 0.2
    assert estimate.method.startswith("people: ")


@pytest.mark.parametrize("direction,fov", [("across", 65.0), ("toward/away", 90.0)])
def test_noisy_2d(direction, fov):
    """3 px of noise on every joint: still within 10% of the focal length and 3 sigmas."""
    rel, pixels, focal = seen(WALK, direction, fov, noise_px=3.0, seed=1)
    estimate = estimate_focal(rel, pixels, np.full(pixels.shape[:2], 0.9), SIZE, FPS)
    error = math.log(estimate.focal_px / focal)
    assert estimate.informative and abs(error) < 0.1 and abs(error) < 3 * estimate.sigma_log, estimate.describe()


def test_the_estimate_places_the_walk_better_than_a_wrong_default():
    """The point of it: a 90-degree lens taken for 65 puts the walker 57% too far (tan 45 / tan 32.5); the
    estimate, pulled a little toward the default by the prior, within 15%."""
    rel, pixels, focal = seen(WALK, "toward/away", 90.0)
    final = combine_focal([estimate_focal(rel, pixels, None, SIZE, FPS)])
    assert focal_from_fov(DEFAULT_FOV_DEG, SIZE) / focal - 1 == pytest.approx(math.tan(math.radians(45)) /
                                                                               math.tan(math.radians(32.5)) - 1)
    assert abs(final.focal_px / focal - 1) < 0.15, final.describe()


def test_standing_still_cannot_tell():
    """A person standing at one spot in the middle of the image: the default, not informative, wide, and why."""
    body = standing_person(150) * np.array([1.0, -1.0, 1.0])  # y up -> camera y down
    rel = body - body[:, :1]
    pixels = project_to_2d(body + np.array([0.0, 0.0, 4.0]), focal_from_fov(75.0, SIZE), np.array(SIZE) / 2)
    estimate = estimate_focal(rel, pixels, None, SIZE, FPS)
    assert not estimate.informative
    assert estimate.focal_px == pytest.approx(focal_from_fov(DEFAULT_FOV_DEG, SIZE))
    assert estimate.sigma_log == PRIOR_SIGMA_LOG and estimate.method == "default"
    assert "do not walk" in estimate.note
    narrow, wide = estimate.fov_range_deg()
    assert narrow < 55 and wide > 75


def test_walking_on_the_spot_cannot_tell():
    """Legs that step while the body stays at one spot (helpers.walking_world): no path, so nothing to compare."""
    world = walking_world(300).astype(np.float64)
    rel, pixels, _ = seen(world, "across", 75.0)
    assert not estimate_focal(rel, pixels, None, SIZE, FPS).informative


def test_straight_across_at_one_depth_before_a_level_camera_is_unsure():
    """A walk straight across the image at one depth, camera level: the stretched world differs only in
    second order (the path bows in depth off the image centre), so the estimate is either "cannot tell" or
    wide (sigma of ln focal at least 0.12) and then within two of its sigmas."""
    world = planted_walk(150, length=12.0)  # 5 s along the first straight
    rel, pixels, focal = seen(world, "across", 75.0, height=0.95, pitch=0.0)
    estimate = estimate_focal(rel, pixels, None, SIZE, FPS)
    if estimate.informative:
        assert estimate.sigma_log >= 0.12, estimate.describe()
        assert abs(math.log(estimate.focal_px / focal)) < 2 * estimate.sigma_log, estimate.describe()
    else:  # the default lens, as unsure as the prior, and saying so
        assert estimate.method == "default" and estimate.sigma_log == PRIOR_SIGMA_LOG, estimate.describe()
        assert estimate.focal_px == pytest.approx(focal_from_fov(DEFAULT_FOV_DEG, SIZE))
    narrow, wide = estimate.fov_range_deg()
    assert narrow < 75.0 < wide, estimate.describe()  # either way, the range it admits holds the true lens


def test_the_body_size_does_not_matter():
    """A lifted body 15% too small (a child, or a lifter's bias) gives the same focal length within 1%:
    the size scales the placed world about the camera centre, which moves no angle (so ``person_height``
    is not an input)."""
    rel, pixels, _ = seen(WALK, "toward/away", 75.0)
    full = estimate_focal(rel, pixels, None, SIZE, FPS)
    small = estimate_focal(0.85 * rel, pixels, None, SIZE, FPS)
    assert small.focal_px == pytest.approx(full.focal_px, rel=0.01)


def test_two_people_are_combined():
    """Two walkers half a lap apart on the racetrack, seen by one 75-degree camera on its axis: each
    person's measurements count, named by person, and the estimate is within 9%."""
    both = np.concatenate([WALK, planted_walk(540, start=6.5)], axis=1)  # (T, 34, 3): one camera sees both
    rel, pixels, focal = seen(both, "toward/away", 75.0)
    rel_a, rel_b = rel[:, :17], rel[:, 17:] - rel[:, 17:18]
    estimate = estimate_focal([rel_a, rel_b], [pixels[:, :17], pixels[:, 17:]], None, SIZE, FPS)
    assert {c.note.split(":")[0] for c in estimate.cues} == {"person 0", "person 1"}
    assert abs(math.log(estimate.focal_px / focal)) < 0.09, estimate.describe()


def test_combine_focal_weighs_by_inverse_variance_with_the_prior():
    """Worked by hand: ln f = (ln 1000 / 0.1^2 + ln 1500 / 0.2^2 + ln f65 / 0.3^2) / (1/0.01 + 1/0.04 + 1/0.09)."""
    a = FocalLengthEstimate(1000.0, 0.1, SIZE, "people", "a")
    b = FocalLengthEstimate(1500.0, 0.2, SIZE, "homography", "b")
    f65 = focal_from_fov(65.0, SIZE)
    weights = np.array([100.0, 25.0, 1 / 0.09])
    expected = math.exp((weights * np.log([1000.0, 1500.0, f65])).sum() / weights.sum())
    both = combine_focal([a, b, default_focal(SIZE)])
    assert both.focal_px == pytest.approx(expected, rel=1e-12)
    assert both.sigma_log == pytest.approx(weights.sum() ** -0.5)
    assert both.informative and both.method == "people + homography + prior" and both.cues == (a, b)
    alone = combine_focal([a], prior=False)
    assert alone.focal_px == pytest.approx(1000.0) and alone.sigma_log == pytest.approx(0.1)


def test_a_range_becomes_a_sigma():
    """Quartiles (coverage 0.5) are 0.6745 sigmas either side of a normal's centre (tables), a 95% range 1.96."""
    quartiles = FocalLengthEstimate.from_range(1000.0, 900.0, 1200.0, SIZE, "homography", coverage=0.5)
    assert quartiles.sigma_log == pytest.approx(math.log(1200.0 / 900.0) / (2 * 0.6745), rel=1e-3)
    wide = FocalLengthEstimate.from_range(1000.0, 900.0, 1200.0, SIZE, "homography", coverage=0.95)
    assert wide.sigma_log == pytest.approx(math.log(1200.0 / 900.0) / (2 * 1.96), rel=1e-3)
    assert quartiles.informative and quartiles.focal_px == 1000.0


def test_combine_focal_without_information_is_the_default():
    nothing = combine_focal([default_focal(SIZE, "no walk"), default_focal(SIZE, "no background")])
    assert not nothing.informative and nothing.method == "default"
    assert nothing.focal_px == pytest.approx(focal_from_fov(DEFAULT_FOV_DEG, SIZE))
    assert nothing.note == "no walk; no background"


def test_fov_and_focal_round_trip_and_ranges():
    for fov in (30.0, 65.0, 100.0):
        assert fov_from_focal(focal_from_fov(fov, SIZE), SIZE) == pytest.approx(fov)
        assert fov_from_focal(focal_from_fov(fov, (1080, 1920)), (1080, 1920)) == pytest.approx(fov)
    estimate = FocalLengthEstimate(1000.0, 0.1, SIZE, "people", "")
    low, high = estimate.range_px(2.0)
    assert low == pytest.approx(1000.0 * math.exp(-0.2)) and high == pytest.approx(1000.0 * math.exp(0.2))
    narrow, wide = estimate.fov_range_deg()
    assert narrow < estimate.fov_deg < wide
    assert "1000 px" in estimate.describe()


@pytest.mark.parametrize("call,message", [
    (lambda rel, pix: estimate_focal(rel[:, :15], pix, None, SIZE, FPS), "expected root-relative poses"),
    (lambda rel, pix: estimate_focal(rel, pix[:-1], None, SIZE, FPS), "expected keypoints"),
    (lambda rel, pix: estimate_focal(rel, pix, np.ones((3, 17)), SIZE, FPS), "expected scores"),
    (lambda rel, pix: estimate_focal(rel * np.nan, pix, None, SIZE, FPS), "NaN"),
    (lambda rel, pix: estimate_focal(rel, pix, None, SIZE, 0.0), "fps"),
    (lambda rel, pix: estimate_focal(rel, pix, None, (0, 1080), FPS), "image_size"),
    (lambda rel, pix: estimate_focal([rel, rel], [pix], None, SIZE, FPS), "same number"),
    (lambda rel, pix: FocalLengthEstimate(-5.0, 0.1, SIZE, "x", ""), "focal_px"),
    (lambda rel, pix: FocalLengthEstimate(1000.0, 0.0, SIZE, "x", ""), "sigma_log"),
    (lambda rel, pix: combine_focal([]), "at least one"),
    (lambda rel, pix: FocalLengthEstimate.from_range(1000.0, 1100.0, 1200.0, SIZE, "x"), "low <= focal <= high"),
    (lambda rel, pix: combine_focal([default_focal(SIZE), default_focal((640, 480))]), "share the image size"),
])
def test_bad_input_is_one_line(call, message):
    rel, pix = np.zeros((40, 17, 3)), np.full((40, 17, 2), 500.0)
    with pytest.raises(ValueError, match=message) as info:
        call(rel, pix)
    assert "\n" not in str(info.value)


@pytest.mark.data
def test_a_real_walk():
    """Human3.6M S11 "Walking 1" (25 fps, real gait: the ankle rolls over in stance) through a 75-degree
    camera on its walking axis, with the true pose: within 10% of the focal length and two of its sigmas."""
    data = np.load(shared_file("h36m", "data_3d_h36m.npz"), allow_pickle=True)["positions_3d"].item()
    world = data["S11"]["Walking 1"][::2][:, [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]]
    rot, eye = place_camera(world.astype(np.float64), "toward/away", 75.0, 1.3, 6.0, SIZE)
    cam = (world - eye) @ rot.T
    focal = focal_from_fov(75.0, SIZE)
    estimate = estimate_focal(cam - cam[:, :1], project_to_2d(cam, focal, np.array(SIZE) / 2), None, SIZE, 25.0)
    error = abs(math.log(estimate.focal_px / focal))
    assert estimate.informative and error < 0.1 and error < 2 * estimate.sigma_log, estimate.describe()
