"""Lifting footage from a camera that turns or moves: the world stays fixed, and what cannot be known is said.

A walker is seen by a virtual camera over a generated background (``synthetic_footage``); the
camera's motion is measured on the rendered frames by :class:`gastnet.video.motion.CameraMotionEstimator`
(not given), the 2D is the walker's projection, and :func:`gastnet.inference.lift.lift_tracks`
lifts it with the shipped default model as ``gastnet lift`` would.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gastnet import create_model
from gastnet.inference.lift import lift_tracks
from gastnet.inference.options import DEFAULT_MODELS
from gastnet.keypoints.tracks import PersonTrack
from gastnet.video.motion import CameraMotionEstimator
from synthetic_footage import dolly_walk, follow_walk, straight_walk, truck_walk

PELVIS, THORAX = 0, 8


@pytest.fixture(scope="module")
def model():
    return create_model(DEFAULT_MODELS[False], pretrained=True)


def _lift(footage, model, motion: bool):
    estimator = CameraMotionEstimator()
    for t in range(len(footage)):
        estimator.update(footage.frame(t), footage.boxes(t))
    track = PersonTrack(0, np.arange(len(footage)), footage.keypoints, np.ones((len(footage), 17)))
    return lift_tracks([track], footage.size, model, len(footage), footage.fps, fov=65.0,
                       camera_motion=estimator.finish() if motion else None)


def _floor_error_deg(result, footage) -> float:
    """Angle between the placed world's up and the true up, both in the first frame's camera."""
    placed_up = np.asarray(result.camera["camera_to_world_rotation"])[2]  # world z in frame-0 camera coordinates
    true_up = footage.world_to_camera[0] @ np.array([0.0, 0.0, 1.0])
    return math.degrees(math.acos(np.clip(placed_up @ true_up, -1.0, 1.0)))


def _path_error(result, footage) -> float:
    """Mean horizontal error of the placed pelvis path after aligning its start with the truth's (metres),
    as a fraction of the distance walked."""
    placed = result.people[0].poses_world[:, PELVIS, :2]
    truth = footage.world[:, PELVIS, :2]
    # the placed world's x axis is the first camera's horizontal axis: turn the truth into that frame
    right = footage.world_to_camera[0][0]
    angle = math.atan2(right[1], right[0])
    turn = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    truth = (truth - truth[0]) @ turn.T
    placed = placed - placed[0]
    walked = np.linalg.norm(np.diff(footage.world[:, PELVIS, :2], axis=0), axis=-1).sum()
    return float(np.linalg.norm(placed - truth, axis=-1).mean() / walked)


@pytest.mark.slow
def test_a_panning_camera_keeps_the_world_still(model):
    """Turning 60 degrees to follow a walker: with the measured motion the floor is level and the path
    right; taken as a fixed camera the path is not (41% of the distance walked off against 1.4%)."""
    footage = follow_walk(straight_walk(4.0), 25.0, size=(640, 360), fov_deg=65.0, wobble_deg=2.0)
    assert footage.kind == "rotating"
    compensated, fixed = _lift(footage, model, True), _lift(footage, model, False)
    assert compensated.camera["motion"] == "rotating"
    assert len(compensated.camera["rotations"]) == len(footage)
    assert any("panning" in n for n in compensated.notes), compensated.notes
    floor_ok = _floor_error_deg(compensated, footage)
    path_ok, path_bad = _path_error(compensated, footage), _path_error(fixed, footage)
    assert floor_ok < 2.0 and path_ok < 0.06, (floor_ok, path_ok)
    assert path_bad > 3 * path_ok, (path_ok, path_bad)


@pytest.mark.slow
def test_a_camera_sliding_beside_the_walker_keeps_the_camera_frame_path_and_says_so(model):
    """A camera sliding beside the walker, keeping them centred: its motion is not recovered, so the
    path is the one seen from the camera (short: the camera went along) and the notes say so."""
    footage = truck_walk(straight_walk(3.0), 25.0, size=(640, 360))
    result = _lift(footage, model, True)
    assert result.camera["motion"] == "translating/zooming"
    assert any("not recovered" in n and "off by the camera's own path" in n for n in result.notes), result.notes
    root = result.people[0].poses_world[:, PELVIS, :2]
    seen = result.people[0].poses_camera_absolute[:, PELVIS]
    # the world path is the camera-frame path (the camera kept the walker centred: ~0.3 m of sway, not 3.9 m)
    assert np.ptp(root, axis=0).max() == pytest.approx(np.ptp(seen[:, [0, 2]], axis=0).max(), rel=0.15)
    # the body stays upright on the floor: its lean from the world vertical is that of a walker
    spine = result.people[0].poses_world[:, THORAX] - result.people[0].poses_world[:, PELVIS]
    lean = np.degrees(np.arccos(spine[:, 2] / np.linalg.norm(spine, axis=-1)))
    assert np.median(lean) < 12.0


@pytest.mark.slow
def test_walking_toward_a_camera_that_drifts_forward_keeps_the_path(model):
    """The walker comes 2.4 m toward a camera that drifts 0.6 m toward them (the background grows ~5%,
    the walker from ~136 to ~288 px tall): the background looks zoomed, and the world path must still
    cover about the distance walked (it was pinned at 0.0 m), within what the camera's drift explains."""
    footage = dolly_walk(straight_walk(2.0, speed=1.2), 25.0, size=(640, 360), drift_m=0.6)
    heights = np.ptp(footage.keypoints[:, :, 1], axis=1)
    assert heights[-1] > 2 * heights[0]
    result = _lift(footage, model, True)
    assert result.camera["motion"] == "translating/zooming"
    assert any("the camera zoomed" in n for n in result.notes), result.notes
    assert len(result.camera["zoom"]) == len(footage) and 1.03 < max(result.camera["zoom"]) < 1.08
    placed = result.people[0].poses_world[:, PELVIS, :2]
    walked = float(np.linalg.norm(footage.world[-1, PELVIS, :2] - footage.world[0, PELVIS, :2]))  # 2.4 m
    moved = float(np.linalg.norm(placed[-5:].mean(0) - placed[:5].mean(0)))
    truth = float(np.linalg.norm(footage.world[-5:, PELVIS, :2].mean(0) - footage.world[:5, PELVIS, :2].mean(0)))
    assert walked > 2.0
    assert abs(moved - truth) < 0.6 + 0.15 * truth, (moved, truth)  # the 0.6 m drift, and the lifter's own error
