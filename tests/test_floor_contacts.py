"""The floor under people who do not stand on their feet (a handstand, someone lying), and walks as before.

Motion capture (Human3.6M, CMU) in a virtual camera's frame, placed by
:func:`gastnet.world.placement.place_in_world` without a lifter: what is tested is the floor's own logic
(which joint rests on the floor, which way is up), against the mocap's true floor and camera.
"""

import math

import numpy as np
import pytest

from gastnet.world.placement import RESTING_BELOW_ANKLE_M, place_in_world, resting_joint
from gastnet.world.upside_down import upside_down
from helpers import shared_file
from test_not_a_person import at, clip, handstand, lying
from test_placement import camera, to_camera

FPS = 25.0
ANKLES, WRISTS = [3, 6], [13, 16]
UP = np.array([0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def h36m():
    """Human3.6M's mocap positions by subject and action (metres, z up, 50 fps)."""
    from gastnet.data.mocap import load_mocap

    return load_mocap(str(shared_file("h36m", "data_3d_h36m.npz")), "h36m").positions


def lower_ankle(world: np.ndarray) -> np.ndarray:
    """Per frame (T,) the lower of the two ankles (z up)."""
    return np.array(ANKLES)[np.argmin(world[:, ANKLES, 2], axis=1)]


@pytest.mark.data
def test_a_walk_rests_on_its_lower_ankle_and_a_handstand_on_its_hands(h36m):
    from gastnet.data.cmu import load_cmu_bvh

    cmu, _ = load_cmu_bvh(shared_file("cmu", "131_01.bvh"), 30.0)
    for walk in (clip(h36m, "Walking 1"), clip(h36m, "Walking 1", subject="S11"), cmu.astype(np.float64)):
        np.testing.assert_array_equal(resting_joint(walk[..., 2]), lower_ankle(walk))
    # the CMU walk's trailing knee dips below its ankles in a few frames: not by the margin
    low = cmu[..., 2].min(1) < cmu[:, ANKLES, 2].min(1)
    assert low.sum() >= 5 and (cmu[:, ANKLES, 2].min(1) - cmu[..., 2].min(1)).max() < RESTING_BELOW_ANKLE_M
    assert np.isin(resting_joint(handstand(clip(h36m, "Directions 1"))[..., 2]), WRISTS).all()


def placed(h36m, others: list[np.ndarray]):
    """A walker (S9 Walking) and ``others`` (world poses, z up, floor z = 0) seen from 1.5 m up, 5 m back:
    their placement, the camera's rotation, the walker's standing ankle height (z = 0 of the placement)."""
    walker = at(clip(h36m, "Walking 1"), -1.5)
    rot, eye = camera([0.0, -5.0, 1.5], [0.0, 0.0, 0.8])
    world = place_in_world([to_camera(w, rot, eye) for w in [walker, *others]], FPS)
    return world, rot, float(np.median(walker[:, ANKLES, 2].min(1)))


@pytest.mark.data
@pytest.mark.parametrize("pose", ["a handstand", "lying on the floor"])
def test_someone_upside_down_or_lying_beside_a_walker_leaves_the_floor_level(h36m, pose):
    """The floor is the walker's, exactly as when they are alone; before, it came from everybody's lower
    ankle and up from everybody's mean torso: a handstand beside the walker tilted it by 90 degrees,
    someone lying by 45."""
    base = at(clip(h36m, "Directions 1"), 0.0, lowest=None)
    other = handstand(base) if pose == "a handstand" else lying(base)
    other[..., 2] -= other[..., 2].min(1, keepdims=True) - 0.05  # every frame resting on the floor
    other = other + np.array([1.2, 0.0, 0.0])
    world, rot, ankle = placed(h36m, [other])
    alone, _, _ = placed(h36m, [])
    tilt = math.degrees(math.acos(np.clip(world.rotation[2] @ rot[:, 2], -1.0, 1.0)))
    assert tilt < 2.0  # the walker's contacts lie along a line: 1.4 degrees
    assert world.camera_height == pytest.approx(1.5 - ankle, abs=0.02)
    np.testing.assert_allclose(world.rotation, alone.rotation, atol=1e-9)
    np.testing.assert_allclose(world.poses_world[0], alone.poses_world[0], atol=1e-9)
    resting = world.poses_world[1][np.arange(len(other)), resting_joint(world.poses_world[1][..., 2]), 2]
    assert np.median(np.abs(resting)) < 0.03 and np.abs(resting).max() < 0.1  # the hands, or the back, on the floor


@pytest.mark.data
def test_a_handstand_alone_is_placed_upside_down_on_its_hands(h36m):
    """Alone, the handstand's torso says which way is up only once turned into the camera's upper half
    (a camera is not held upside down): the world comes out the right way up, the hands on the floor."""
    truth = handstand(at(clip(h36m, "Directions 1"), 0.0, lowest=None))
    rot, eye = camera([0.0, -5.0, 1.5], [0.0, 0.0, 0.8])
    world = place_in_world([to_camera(truth, rot, eye)], FPS)
    poses = world.poses_world[0]
    assert upside_down(poses, UP).all()
    hands = poses[:, WRISTS, 2].min(1)
    assert np.abs(hands[world.contacts[0]]).max() < 0.03
    pelvis = truth[:, 0, 2] - truth[:, WRISTS, 2].min(1)  # over the hands
    np.testing.assert_allclose(poses[:, 0, 2] - hands, pelvis, atol=0.05)
