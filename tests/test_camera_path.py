"""The camera's path through space from the floor it sees (gastnet.video.camera_path), against rendered footage.

The footage (``synthetic_footage``) knows the camera's true path; the estimator tracks the rendered
frames' background, and the floor (its normal and the camera's height) is the truth's here, so that
what is tested is the path alone (``tests/test_moving_camera.py`` takes the floor from the people).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet.video.camera_path import CameraPath, recover_camera_path
from gastnet.video.motion import CameraMotionEstimator

cv2 = pytest.importorskip("cv2", reason="camera motion needs the video extra (OpenCV)")
from synthetic_footage import straight_walk, truck_walk  # noqa: E402


def test_points_go_into_the_first_frames_camera():
    """A camera 1 m to the right of the first and turned 90 degrees left sees the first camera's (1, 0, 2) at (-2, 0, 0)."""
    turn = np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]])  # frame-0 coordinates -> frame-1 (a 90-degree turn)
    centre = np.array([1.0, 0.0, 0.0])
    path = CameraPath(np.stack([np.eye(3), turn]), np.stack([np.zeros(3), -turn @ centre]), np.ones(2, bool))
    assert np.allclose(path.centres, [[0, 0, 0], [1, 0, 0]])
    seen = turn @ (np.array([1.0, 0, 2]) - centre)
    assert np.allclose(seen, [2.0, 0.0, 0.0])
    assert np.allclose(path.to_reference_frame(np.array([[0.0, 0, 0], seen]), np.array([0, 1])), [[0, 0, 0], [1, 0, 2]])
    assert path.length_m == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"expected points \(N, \.\.\., 3\) with N frame numbers"):
        path.to_reference_frame(np.zeros((2, 3)), np.array([0]))


@pytest.mark.slow
def test_a_truck_past_a_wall_is_recovered_in_metres():
    """The camera slides 3.9 m beside a walker past a wall that fills much of the image below the horizon:
    the path comes out in metres, within 5% of its length, from the floor's homographies alone."""
    footage = truck_walk(straight_walk(3.0), 25.0, size=(640, 360))
    estimator = CameraMotionEstimator(float(footage.focal[0]))
    for t in range(len(footage)):
        estimator.update(footage.frame(t), footage.boxes(t))
    motion = estimator.finish()
    first = footage.world_to_camera[0]
    down, height = first @ np.array([0.0, 0.0, -1.0]), float(footage.eyes[0, 2])
    path = recover_camera_path(motion, float(footage.focal[0]), down, height)
    truth = (footage.eyes - footage.eyes[0]) @ first.T  # the camera centres in the first frame's camera
    length = float(np.linalg.norm(np.diff(truth, axis=0), axis=-1).sum())
    assert length > 3.5
    assert path.measured.mean() > 0.6
    assert np.linalg.norm(path.centres - truth, axis=-1).mean() < 0.05 * length
    assert path.length_m == pytest.approx(length, rel=0.1)
    # twice the height: twice the path (the scale is the floor's)
    double = recover_camera_path(motion, float(footage.focal[0]), down, 2 * height)
    assert np.allclose(double.centres, 2 * path.centres, atol=1e-6)
    with pytest.raises(ValueError, match="expected a positive height"):
        recover_camera_path(motion, float(footage.focal[0]), down, -1.0)
    with pytest.raises(ValueError, match="floor_normal must be"):
        recover_camera_path(motion, float(footage.focal[0]), np.zeros(3), height)
    assert not math.isnan(path.length_m)
