"""Camera motion from the background (gastnet.video.motion) against synthetic footage with known truth.

The footage (tests/synthetic_footage.py) is rendered here: a walker drawn as striped limbs over a
textured panorama seen by a camera that stands still, turns to follow the walker, zooms, or slides
beside the walker through a scene with depth. The truth (rotations, focal lengths) comes from the
virtual camera, never from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet.geometry.camera import DEFAULT_FOV_DEG, focal_from_fov
from gastnet.geometry.rotations import nearest_rotation
from gastnet.video.motion import CameraMotionEstimator, boxes_from_keypoints
from gastnet.world.camera_motion import PARALLAX_FRACTION, CameraMotion, focal_from_homographies, to_reference_frame
from helpers import shared_file

cv2 = pytest.importorskip("cv2", reason="camera motion needs the video extra (OpenCV)")
from synthetic_footage import follow_walk, mocap_walk, straight_walk, truck_walk  # noqa: E402

ROTATION_BOUND_DEG = 0.3  # per-frame error of the rotation from frame 0, on every frame


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (T,) degrees between rotation matrices a and b (T, 3, 3)."""
    cos = (np.trace(np.swapaxes(a, 1, 2) @ b, axis1=1, axis2=2) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def estimate(footage, focal="true", masked: bool = True, frames: list[np.ndarray] | None = None) -> CameraMotion:
    """Run the estimator over the footage (``focal``: "true" for the footage's own, a number, or None)."""
    estimator = CameraMotionEstimator(float(footage.focal[0]) if focal == "true" else focal)
    for t in range(len(footage)):
        estimator.update(footage.frame(t) if frames is None else frames[t], footage.boxes(t) if masked else [])
    return estimator.finish()


def rot_y(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_x(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    return straight_walk(3.0)


# --- geometry without images ---------------------------------------------------------------------


def test_to_reference_frame_undoes_the_cameras_turn():
    rng = np.random.default_rng(0)
    world = rng.normal(size=(5, 17, 3)) + [0, 0, 4]  # frame-0 camera coordinates
    rotations = np.stack([rot_y(a) @ rot_x(b) for a, b in rng.uniform(-40, 40, (5, 2))])
    seen = np.einsum("tij,tkj->tki", rotations, world)  # each frame's camera
    assert np.allclose(to_reference_frame(seen, rotations), world)
    assert np.allclose(to_reference_frame(seen[:, 0], rotations), world[:, 0])  # (T, 3) works too
    with pytest.raises(ValueError, match=r"points must be \(T, \.\.\., 3\) with T = 5"):
        to_reference_frame(seen[:4], rotations)
    with pytest.raises(ValueError, match=r"rotations must be \(T, 3, 3\)"):
        to_reference_frame(seen, rotations[:, :2])


def test_nearest_rotation_of_a_scaled_noisy_rotation():
    rng = np.random.default_rng(1)
    truth = rot_y(25) @ rot_x(-10)
    noisy = -3.0 * (truth + rng.normal(0, 1e-3, (3, 3)))  # a homography's scale and sign are arbitrary
    found = nearest_rotation(noisy)
    assert np.allclose(found @ found.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(found), 1.0)
    assert angle_between(found[None], truth[None])[0] < 0.2


@pytest.mark.parametrize("fov", [50.0, 70.0, 90.0])
def test_focal_from_exact_rotation_homographies(fov):
    size = (1920, 1080)
    f = focal_from_fov(fov, size)
    k = np.array([[f, 0, 960], [0, f, 540], [0, 0, 1]])
    pairs = np.stack([k @ rot_y(a) @ rot_x(b) @ np.linalg.inv(k) for a, b in [(8, 1), (15, -3), (22, 2)]])
    found = focal_from_homographies(pairs * 7.0, size)  # any scale
    assert found is not None and found.focal_px == pytest.approx(f, rel=0.005)
    assert found.fov_deg == pytest.approx(fov, abs=0.3) and found.samples == 3 and found.method == "background"
    low, high = found.range_px(0.6745)  # the pairs' quartiles
    assert low <= found.focal_px <= high


def test_focal_needs_a_turn_of_the_optical_axis():
    size = (1280, 720)
    k = np.array([[900.0, 0, 640], [0, 900, 360], [0, 0, 1]])
    small = k @ rot_y(3.0) @ np.linalg.inv(k)  # under the 5-degree minimum
    c, s = math.cos(0.3), math.sin(0.3)
    roll = k @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.linalg.inv(k)  # about the optical axis
    assert focal_from_homographies(np.stack([np.eye(3), small, roll]), size) is None
    # a camera sliding 1 m sideways past a plane 3 m away, seen at 45 degrees: no focal length makes it a rotation
    n = np.array([0.0, -0.7071, -0.7071])
    plane = k @ (np.eye(3) + np.outer([1.0, 0, 0], n) / 3.0) @ np.linalg.inv(k)
    assert focal_from_homographies(plane[None], size) is None
    with pytest.raises(ValueError, match=r"homographies must be finite \(N, 3, 3\)"):
        focal_from_homographies(np.eye(3), size)


# --- footage -------------------------------------------------------------------------------------


def test_static_camera(walk):
    footage = follow_walk(walk[:30], 25.0, motion="static")
    motion = estimate(footage)
    assert motion.kind == "static" and motion.note.startswith("camera: static")
    assert motion.turned_deg().max() < 0.1
    assert np.allclose(motion.homographies, np.eye(3), atol=0.01)
    assert motion.focal_estimate is None and motion.measured.all()
    assert motion.inliers.min() >= 50


def test_panning_and_tilting_camera_follows_the_walker(walk):
    footage = follow_walk(walk[:60], 25.0, fov_deg=60.0, wobble_deg=1.5)
    truth = footage.rotations
    assert angle_between(np.broadcast_to(np.eye(3), truth.shape), truth).max() > 30  # it really turns
    motion = estimate(footage)
    assert motion.kind == "rotating"
    error = angle_between(motion.rotations, truth)
    assert error.max() < ROTATION_BOUND_DEG, f"rotation error up to {error.max():.3f} degrees"
    # the note names the pan's direction; the truth's optical axis turns toward frame 0's +x for "right"
    pan_right = (np.swapaxes(truth, 1, 2)[:, 0, 2]).max() > 0.3
    assert ("degrees right" in motion.note) == pan_right and ("degrees left" in motion.note) != pan_right
    assert motion.note.startswith("camera: panning")
    # the pan measured about the true vertical (world z in frame-0 camera coordinates)
    up = footage.world_to_camera[0][:, 2]
    forward = footage.world_to_camera[:, 2]  # optical axes in the world
    true_pan = np.degrees(np.unwrap(np.arctan2(forward[:, 0], forward[:, 1])))  # clockwise from above: right
    assert np.allclose(motion.angles_deg(up)[:, 0], true_pan - true_pan[0], atol=0.3)


def test_people_are_masked_out(walk):
    """With its box, the striped walker is ignored; without, its corners fall off the background's
    homography as parallax would, and the camera no longer looks like it only turns."""
    footage = follow_walk(walk[:50], 25.0, fov_deg=60.0, distance=2.5)
    frames = list(footage.frames())
    masked, unmasked = estimate(footage, frames=frames), estimate(footage, masked=False, frames=frames)
    assert masked.kind == "rotating"
    assert angle_between(masked.rotations, footage.rotations).max() < ROTATION_BOUND_DEG
    assert np.nanmedian(masked.parallax) < 0.1
    assert np.nanmedian(unmasked.parallax) > PARALLAX_FRACTION - 0.1
    assert unmasked.kind == "translating/zooming"


def test_detector_keypoints_mask_the_people(walk):
    """The hook detect_video calls: people as (keypoints (17, 2), scores (17,)), boxed from the joints."""
    footage = follow_walk(walk[:50], 25.0, fov_deg=60.0, distance=2.5)
    estimator = CameraMotionEstimator(float(footage.focal[0]))
    keypoints = footage.keypoints
    for t in range(len(footage)):
        estimator.on_frame(t, footage.frame(t), [(keypoints[t], np.ones(17))])
    motion = estimator.finish()
    assert motion.kind == "rotating" and np.nanmedian(motion.parallax) < 0.1
    assert angle_between(motion.rotations, footage.rotations).max() < ROTATION_BOUND_DEG
    with pytest.raises(ValueError, match="frames must come in order: expected frame 50, got 52"):
        estimator.on_frame(52, footage.frame(0), [])


def test_boxes_from_keypoints_leave_out_unsure_joints():
    keypoints = np.array([[[100.0, 100.0], [140.0, 300.0], [900.0, 900.0]], [[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]])
    scores = np.array([[0.9, 0.8, 0.05], [0.9, 0.1, 0.1]])  # the far joint is unsure; person 2 has one sure joint
    boxes = boxes_from_keypoints(keypoints, scores, pad=0.1)
    assert boxes.tolist() == [[80.0, 80.0, 160.0, 320.0]]  # 10% of the 200 px height on every side
    with pytest.raises(ValueError, match=r"keypoints must be \(N, J, 2\) pixels, got \(2, 3, 3\)"):
        boxes_from_keypoints(np.zeros((2, 3, 3)))


def test_translating_camera(walk):
    motion = estimate(truck_walk(walk[:30], 25.0), focal=None)
    assert motion.kind == "translating/zooming"
    assert "translating" in motion.note and "rotation does not explain" in motion.note
    assert motion.focal_estimate is None and motion.focal_source == "default"


def test_zooming_camera(walk):
    footage = follow_walk(walk[:40], 25.0, motion="static", zoom=(1.0, 1.3))
    motion = estimate(footage)
    assert motion.kind == "translating/zooming" and "zooming, up to x1.3" in motion.note
    assert motion.turned_deg().max() < 0.2  # the orientation never changed


@pytest.mark.parametrize("fov", [50.0, 70.0, 90.0])
def test_focal_length_from_a_pan(walk, fov):
    footage = follow_walk(walk[:55], 25.0, fov_deg=fov, distance=5.0, wobble_deg=1.0)
    assert angle_between(footage.rotations[:1], footage.rotations[-1:])[0] > 20  # a pan of 20+ degrees
    motion = estimate(footage, focal=None)
    assert motion.focal_source == "estimated" and motion.focal_estimate is not None
    assert motion.focal == pytest.approx(footage.focal[0], rel=0.05)
    assert angle_between(motion.rotations, footage.rotations).max() < ROTATION_BOUND_DEG
    assert f"{motion.focal:.0f} px from the background" in motion.note


def test_a_small_pan_is_a_rotation_without_a_focal_length():
    """3 degrees of pan on a 90-degree lens: too little to tell the lens (5 degrees are needed), but
    still a rotation, though the default 65-degree lens misses the background's motion by pixels."""
    footage = follow_walk(straight_walk(0.4), 25.0, fov_deg=90.0, distance=5.0)
    motion = estimate(footage, focal=None)
    assert motion.kind == "rotating" and motion.focal_estimate is None and motion.focal_source == "default"
    assert "focal length unknown: 65 degrees across assumed" in motion.note
    assert 2.0 < angle_between(footage.rotations[:1], footage.rotations[-1:])[0] < 5.0


def test_a_wrong_focal_length_keeps_the_kind_and_costs_accuracy(walk):
    footage = follow_walk(walk[:55], 25.0, fov_deg=70.0, distance=5.0)
    right = estimate(footage)
    wrong = right.with_focal(1.3 * footage.focal[0])
    assert right.kind == wrong.kind == "rotating" and wrong.focal_source == "given"
    assert right.focal_estimate is not None and wrong.focal_estimate == right.focal_estimate
    assert angle_between(wrong.rotations, footage.rotations).max() > 3 * angle_between(
        right.rotations, footage.rotations).max()


def test_a_blank_background_is_unknown():
    estimator = CameraMotionEstimator(500.0)
    for _ in range(10):
        estimator.update(np.full((360, 640, 3), 128, np.uint8))
    motion = estimator.finish()
    assert motion.kind == "unknown" and not motion.measured[1:].any()
    assert np.allclose(motion.rotations, np.eye(3))


@pytest.mark.parametrize(("height", "width"), [(360, 640), (640, 360), (200, 200)])
def test_the_default_lens_is_the_placements(height, width):
    """Without a focal length, the camera's motion is measured with the lens the placement assumes: the
    same focal length in pixels, the default field of view across the long side of the image."""
    estimator = CameraMotionEstimator()
    for _ in range(3):
        estimator.update(np.full((height, width, 3), 128, np.uint8))
    motion = estimator.finish()
    assert motion.focal_source == "default"
    by_hand = max(width, height) / 2 / np.tan(np.radians(DEFAULT_FOV_DEG / 2))
    assert motion.focal == pytest.approx(by_hand, rel=1e-9)
    assert motion.focal == pytest.approx(focal_from_fov(DEFAULT_FOV_DEG, (width, height)), rel=1e-9)


def test_bad_input_is_refused():
    estimator = CameraMotionEstimator()
    with pytest.raises(ValueError, match="no frames yet"):
        estimator.finish()
    with pytest.raises(ValueError, match=r"expected an RGB frame \(h, w, 3\) uint8 .* got float64 array \(40, 40, 3\)"):
        estimator.update(np.zeros((40, 40, 3)))
    with pytest.raises(ValueError, match=r"of at least 16 x 16 pixels, got uint8 array \(4, 40, 3\)"):
        estimator.update(np.zeros((4, 40, 3), np.uint8))
    estimator.update(np.zeros((90, 160, 3), np.uint8))
    with pytest.raises(ValueError, match="every frame must be 160 x 90 like the first, got 80 x 90"):
        estimator.update(np.zeros((90, 80, 3), np.uint8))
    with pytest.raises(ValueError, match="person boxes must be finite"):
        estimator.update(np.zeros((90, 160, 3), np.uint8), [(0, 0, np.nan, 5)])
    with pytest.raises(ValueError, match="focal must be positive pixels or None"):
        CameraMotionEstimator(-1.0)


@pytest.mark.data
@pytest.mark.slow
def test_mocap_walk_followed_by_the_camera():
    _, world, fps = mocap_walk(shared_file("h36m", "data_3d_h36m.npz").parents[1], seconds=3.0, start_s=4.0)
    footage = follow_walk(world, fps, fov_deg=65.0, distance=3.5, wobble_deg=1.0)
    motion = estimate(footage)
    assert motion.kind == "rotating"
    assert angle_between(motion.rotations, footage.rotations).max() < ROTATION_BOUND_DEG


@pytest.mark.data
def test_the_shared_fixed_camera_video_is_static():
    """The real two-person clip (1920 x 1080, fixed camera), its people left unmasked."""
    capture = cv2.VideoCapture(str(shared_file("video", "walk_apart_2persons.avi")))
    estimator = CameraMotionEstimator()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        estimator.update(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    motion = estimator.finish()
    assert len(motion) == 87
    assert motion.kind == "static", motion.note
    assert motion.turned_deg().max() < 0.5
