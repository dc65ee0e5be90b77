"""The focal length from a scene's straight lines (gastnet.video.lines), against scenes with known lenses.

The scenes (``synthetic_footage.room_walk``) are rendered here: a tiled ground and two walls with
windows and doors seen through a pinhole camera at many lenses, turns and tilts, then through an
imperfect lens (the principal point off the centre, radial distortion) as a phone's would be. The
truth is the virtual camera's focal length, never the code under test's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet import create_model
from gastnet.keypoints.tracks import PersonTrack
from gastnet.pipeline.options import DEFAULT_MODELS
from gastnet.pipeline.tracks_to_3d import lift_tracks
from gastnet.video.lines import LineFocal, combine_line_focals, detect_segments, focal_from_segments
from gastnet.video.motion import CameraMotionEstimator

cv2 = pytest.importorskip("cv2", reason="line segments need the video extra (OpenCV)")
from synthetic_footage import follow_walk, imperfect_lens, room_walk, straight_walk, truck_walk  # noqa: E402

SIZE = (640, 360)


def radiating(point: tuple[float, float], count: int, rng: np.random.Generator, length: float = 80.0) -> list[list[float]]:
    """``count`` segments (pixels) inside the 640 x 360 image on lines through ``point`` (pixels)."""
    out = []
    while len(out) < count:
        start = rng.uniform([20, 20], [620, 340])
        d = np.asarray(point) - start
        d /= np.linalg.norm(d)
        end = start + length * d
        if 0 <= end[0] < 640 and 0 <= end[1] < 360:
            out.append([*start, *end])
    return out


def test_two_orthogonal_vanishing_points_give_the_focal_length():
    """f^2 = -(v1 - c) . (v2 - c): points 600 px right and 1000 px left of the centre give sqrt(600000) px."""
    rng = np.random.default_rng(0)
    c = np.array(SIZE) / 2
    segs = np.array(radiating(tuple(c + [600, 0]), 30, rng) + radiating(tuple(c + [-1000, 0]), 30, rng))
    found = focal_from_segments(segs, SIZE)
    assert found is not None and found.focal == pytest.approx(math.sqrt(600 * 1000), rel=1e-3)
    assert len(found.points) == 2 and found.segments == 60
    assert np.allclose(found.points[:, :2] / found.points[:, 2:], [c + [600, 0], c + [-1000, 0]], atol=0.5) or \
        np.allclose(found.points[::-1, :2] / found.points[::-1, 2:], [c + [600, 0], c + [-1000, 0]], atol=0.5)
    # noise in the segments' ends widens the stated spread, and the truth stays inside two sigma
    noisy = segs + rng.normal(0, 0.7, segs.shape)
    rough = focal_from_segments(noisy, SIZE)
    assert rough is not None and rough.sigma_log > found.sigma_log
    assert abs(math.log(rough.focal / math.sqrt(600000))) < 2 * rough.sigma_log


def test_directions_that_cannot_be_orthogonal_tell_nothing():
    """Both vanishing points on one side of the centre ((v1 - c) . (v2 - c) > 0): no focal length makes
    their directions orthogonal. Edges parallel in the image (points at infinity): no focal length either."""
    rng = np.random.default_rng(1)
    c = np.array(SIZE) / 2
    same_side = np.array(radiating(tuple(c + [700, 0]), 30, rng) + radiating(tuple(c + [400, 300]), 30, rng))
    assert focal_from_segments(same_side, SIZE) is None
    x, y = rng.uniform(20, 500, 40), rng.uniform(20, 260, 40)
    square = np.array([[a, b, a + 100, b] for a, b in zip(x, y)] + [[a, b, a, b + 90] for a, b in zip(x, y)])
    assert focal_from_segments(square, SIZE) is None
    assert focal_from_segments(np.zeros((0, 4)), SIZE) is None
    with pytest.raises(ValueError, match="segments must be finite"):
        focal_from_segments(np.full((3, 4), np.nan), SIZE)


def test_scenes_without_straight_edges_give_no_focal_length():
    """The generated textures of the camera-motion tests (blobs and short strokes at random angles) line up
    by chance into weak vanishing points; none is taken for a lens."""
    walk = straight_walk(1.0)
    for footage in (follow_walk(walk, 25.0, size=SIZE, seed=0), follow_walk(walk, 25.0, size=SIZE, fov_deg=85, seed=2),
                    truck_walk(walk, 25.0, size=SIZE, seed=3)):
        grey = cv2.cvtColor(footage.frame(0), cv2.COLOR_RGB2GRAY)
        segments = detect_segments(grey, np.array(footage.boxes(0)))
        assert len(segments) > 80  # plenty of segments, no scene lines
        assert focal_from_segments(segments, SIZE) is None


def test_segments_on_people_are_left_out():
    grey = np.zeros((100, 200), np.uint8)
    grey[40:60, 10:190] = 255  # one bright bar across the image: two long edges
    everything = detect_segments(grey)
    assert len(everything) >= 2
    assert len(detect_segments(grey, np.array([[80.0, 0.0, 120.0, 100.0]]))) == 0  # the box cuts every edge
    with pytest.raises(ValueError, match=r"expected a grey image \(h, w\) uint8"):
        detect_segments(np.zeros((10, 10, 3), np.uint8))


def test_frames_are_combined_by_their_median():
    a, b, c = (LineFocal(f, s, np.zeros((2, 3)), 40) for f, s in ((800.0, 0.03), (1000.0, 0.05), (900.0, 0.04)))
    both = combine_line_focals([a, b, c])
    assert both is not None and both.focal == pytest.approx(900.0) and both.sigma_log == pytest.approx(0.04)
    assert both.frames == 3 and combine_line_focals([]) is None


@pytest.mark.slow
def test_the_stated_spread_is_calibrated_over_scenes():
    """Thirty scenes, 40-100 degree lenses, turned +-45 degrees and tilted 0-15 degrees, through imperfect
    lenses: the focal length is within 10% in nearly every scene with an estimate, and the stated 1-sigma
    range holds the truth in about two scenes of three (neither overconfident nor uselessly wide)."""
    rng = np.random.default_rng(7)
    errors, sigmas = [], []
    for i in range(30):
        footage = room_walk(straight_walk(1.0), 25.0, size=SIZE, fov_deg=rng.uniform(40, 100),
                            yaw_deg=rng.uniform(-45, 45), pitch_deg=rng.uniform(0, 15), seed=i % 3)
        image = imperfect_lens(footage.frame(0), float(footage.focal[0]), tuple(rng.normal(0, 6.4, 2)),
                               rng.uniform(-0.06, 0.03))
        found = focal_from_segments(detect_segments(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY),
                                                    np.array(footage.boxes(0))), SIZE)
        if found is not None:
            errors.append(math.log(found.focal / footage.focal[0]))
            sigmas.append(found.sigma_log)
    errors_arr, sigmas_arr = np.abs(errors), np.array(sigmas)
    assert len(errors) >= 24  # most scenes tell (not those square to a wall and level)
    assert (errors_arr < math.log(1.1)).mean() >= 0.8
    coverage = (errors_arr <= sigmas_arr).mean()
    assert 0.55 <= coverage <= 0.9, coverage
    assert (errors_arr <= 3 * sigmas_arr).mean() >= 0.9


@pytest.fixture(scope="module")
def model():
    return create_model(DEFAULT_MODELS[False], pretrained=True)


@pytest.mark.slow
@pytest.mark.parametrize("fov", [50.0, 90.0])
def test_lifting_in_a_scene_with_lines_finds_the_lens(model, fov):
    """End to end, as ``gastnet lift`` on a video without a focal length: the camera-motion estimator
    measures the rendered frames' lines, the people's estimate comes from the lifted poses, and the
    focal length chosen is within 10% of the truth (the people alone leave the 65-degree default:
    +57% off at 90 degrees, -27% at 50), with the lines named as what decided."""
    footage = room_walk(straight_walk(1.2), 25.0, size=SIZE, fov_deg=fov, yaw_deg=25.0, pitch_deg=8.0)
    estimator = CameraMotionEstimator()
    for t in range(len(footage)):
        estimator.update(footage.frame(t), footage.boxes(t))
    motion = estimator.finish()
    assert motion.kind == "static" and motion.line_focal is not None
    track = PersonTrack(0, np.arange(len(footage)), footage.keypoints, np.ones((len(footage), 17)))
    result = lift_tracks([track], footage.size, model, len(footage), footage.fps, camera_motion=motion)
    truth = float(footage.focal[0])
    assert result.camera.focal_length_px == pytest.approx(truth, rel=0.10)
    assert "scene lines" in result.camera.focal_source, result.camera.focal_source
    sigma = result.camera.focal_length_sigma_log
    assert abs(math.log(result.camera.focal_length_px / truth)) < 3 * sigma
