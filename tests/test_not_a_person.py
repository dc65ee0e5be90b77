"""What is not a person is not saved, and people doing unusual things are: mocap through a virtual camera.

People: Human3.6M subjects sitting down, sitting, waiting, boxing-like directions, walking (a child:
scaled to 1.1 m), a handstand and a person lying on the floor built from their poses, a cartwheel,
a person cut by the bottom of the frame. Things: a punching bag found as an upside-down skeleton
swinging at a boxer's side, a short second skeleton on the boxer, a person's reflection in a shiny
floor. Detector noise 1% of the height; the 3D checks' cases also 2% and a detector's joint
definitions (:func:`gastnet.data.augment.displace_joint_definitions`).
"""

import numpy as np
import pytest
import torch

import gastnet
from gastnet.data.augment import JointDefinitionRanges, displace_joint_definitions
from gastnet.keypoints.objects import RIGID_CHANGE, rigid_motion
from gastnet.keypoints.people import screen_tracks
from gastnet.keypoints.tracks import PersonTrack
from gastnet.pipeline.recording import DEFAULT_MODELS
from gastnet.pipeline.tracks_to_3d import lift_tracks
from gastnet.skeleton import standing_height
from gastnet.world.upside_down import OFF_FLOOR_M, upside_down
from helpers import shared_file

SIZE = (1280, 720)
FPS = 25.0
FRAMES = 75


@pytest.fixture(scope="module")
def h36m():
    from gastnet.data.mocap import load_mocap

    return load_mocap(str(shared_file("h36m", "data_3d_h36m.npz")), "h36m").positions


def clip(h36m, action: str, frames: int = FRAMES, start: int = 0, subject: str = "S9") -> np.ndarray:
    """(T, 17, 3) metres, z up, at 25 fps."""
    return np.asarray(h36m[subject][action][start : start + 2 * frames : 2], np.float64)


def at(world: np.ndarray, x: float, y: float = 0.0, lowest: float | None = 0.08) -> np.ndarray:
    """``world`` moved so that its first pelvis is over (x, y) and (with ``lowest``) its lowest joint at that height."""
    w = world.copy()
    w[..., :2] += np.array([x, y]) - w[0, 0, :2]
    if lowest is not None:
        w[..., 2] -= np.median(w[..., 2].min(1)) - lowest
    return w


def handstand(world: np.ndarray) -> np.ndarray:
    """The poses upside down, arms straight down to the floor (hands on it), swaying as the poses do."""
    w = world.copy()
    w[..., 2] = -w[..., 2]
    for shoulder, elbow, wrist in ((11, 12, 13), (14, 15, 16)):
        upper = np.linalg.norm(world[:, elbow] - world[:, shoulder], axis=-1, keepdims=True)
        fore = np.linalg.norm(world[:, wrist] - world[:, elbow], axis=-1, keepdims=True)
        w[:, elbow] = w[:, shoulder] - upper * np.array([0.0, 0.0, 1.0])
        w[:, wrist] = w[:, elbow] - fore * np.array([0.0, 0.0, 1.0])
    w[..., 2] -= w[:, [13, 16], 2].min(1, keepdims=True) - 0.05
    return w


def lying(world: np.ndarray) -> np.ndarray:
    """The poses turned to lie along x on the floor."""
    w = world - world.mean((0, 1))
    w = w @ np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]).T
    w[..., 2] -= w[..., 2].min() - 0.05
    return w


def cartwheel(h36m, frames: int = 40, limbs_deg: float = 5.0) -> np.ndarray:
    """A star (arms up, legs apart) wheeling once in the image plane over ``frames`` while moving sideways;
    the legs and arms open and close by ``limbs_deg`` either way twice a turn."""
    base = clip(h36m, "Directions 1", 1)[0]
    base = base - base[0]
    out = []
    for k in range(frames):
        p = base.copy()
        swing = np.radians(limbs_deg) * np.sin(4 * np.pi * k / frames)
        for a, b, c, side in ((1, 2, 3, -1), (4, 5, 6, 1)):
            d = np.array([side * np.sin(np.radians(30) + swing), 0.0, -np.cos(np.radians(30) + swing)])
            p[b], p[c] = p[a] + 0.45 * d, p[a] + 0.9 * d
        for a, b, c, side in ((14, 15, 16, -1), (11, 12, 13, 1)):
            d = np.array([side * np.sin(np.radians(150) - swing), 0.0, -np.cos(np.radians(150) - swing)])
            p[b], p[c] = p[a] + 0.3 * d, p[a] + 0.57 * d
        turn = 2 * np.pi * k / frames
        r = np.array([[np.cos(turn), 0.0, -np.sin(turn)], [0.0, 1.0, 0.0], [np.sin(turn), 0.0, np.cos(turn)]])
        out.append(p @ r.T + np.array([-1.0 + 2.0 * k / FPS, 0.0, 1.0]))
    return np.array(out)


def bag(h36m, frames: int = FRAMES, hook=(0.6, 0.0, 1.9), scale: float = 0.65) -> np.ndarray:
    """A punching bag found as a person: an upside-down small skeleton hanging from ``hook`` by its 'feet',
    swinging 15 degrees either way every 1.4 s in the image plane."""
    base = clip(h36m, "Directions 1", 1)[0]
    base = (base - base[0]) * scale * np.array([1.0, 1.0, -1.0])
    base -= base[[3, 6]].mean(0)
    out = []
    for t in range(frames):
        a = np.radians(15) * np.sin(2 * np.pi * t / FPS / 1.4)
        r = np.array([[np.cos(a), 0.0, -np.sin(a)], [0.0, 1.0, 0.0], [np.sin(a), 0.0, np.cos(a)]])
        out.append(base @ r.T + np.array(hook))
    return np.array(out)


def seen(track_id: int, world: np.ndarray, seed: int, pitch_deg: float = 5.0, eye=(0.0, -5.0, 1.4),
         noise: float = 0.01, confidence: float = 0.9) -> PersonTrack:
    """What a detector gives of ``world`` seen by a camera at ``eye`` looking along +y, pitched down
    ``pitch_deg`` (60 degrees across 1280 x 720): keypoints with noise (``noise`` of the height), joints
    outside the image missing (score 0, NaN), frames with fewer than 8 joints inside left out."""
    p = np.radians(pitch_deg)
    forward = np.array([0.0, np.cos(p), -np.sin(p)])
    rot = np.stack([[1.0, 0.0, 0.0], np.cross(forward, [1.0, 0.0, 0.0]), forward])
    cam = (world - np.array(eye)) @ rot.T
    focal = (SIZE[0] / 2) / np.tan(np.radians(30.0))
    pixels = cam[..., :2] / cam[..., 2:] * focal + np.array(SIZE) / 2
    rng = np.random.default_rng(seed)
    pixels = pixels + rng.normal(0, noise * np.ptp(pixels[..., 1], axis=-1).mean(), pixels.shape)
    outside = ((pixels < 0) | (pixels >= SIZE)).any(-1)
    scores = np.where(outside, 0.0, confidence)
    keep = (~outside).sum(-1) >= 8
    return PersonTrack(track_id, np.flatnonzero(keep), np.where(outside[..., None], np.nan, pixels)[keep], scores[keep])


PEOPLE = {
    "sitting down": lambda m: at(clip(m, "SittingDown 1", start=400), 0.0),
    "sitting still": lambda m: at(clip(m, "Sitting 1", start=400), 0.0),
    "waiting": lambda m: at(clip(m, "Waiting 1"), 0.0),
    "directions": lambda m: at(clip(m, "Directions 1"), 0.0),
    "a child walking (1.1 m)": lambda m: at(clip(m, "Walking 1") * 0.62, 0.5),
    "a handstand": lambda m: handstand(at(clip(m, "Directions 1"), 0.0, lowest=None)),
    "lying on the floor": lambda m: lying(at(clip(m, "Directions 1"), 0.0, lowest=None)),
    "a cartwheel": lambda m: cartwheel(m),
}


@pytest.mark.data
@pytest.mark.parametrize("noise", [0.005, 0.01, 0.02])
def test_people_doing_unusual_things_pass_the_checks(h36m, noise):
    tracks = [seen(i, make(h36m), i, noise=noise) for i, make in enumerate(PEOPLE.values())]
    # cut by the frame's bottom: the camera closer and pitched up, the legs below the image
    tracks.append(seen(len(tracks), at(clip(h36m, "Directions 1"), 0.0, -3.0), 9, pitch_deg=-8.0, noise=noise))
    assert np.isnan(tracks[-1].keypoints[:, 3]).all()  # the ankles are out of the picture
    kept, notes = screen_tracks(tracks, SIZE, FPS, num_frames=FRAMES)
    assert notes == []
    assert len(kept) == len(PEOPLE) + 1


@pytest.mark.data
def test_a_swinging_bag_is_rigid_and_a_cartwheel_is_not(h36m):
    for noise in (0.005, 0.01):
        change, turn = rigid_motion(seen(0, bag(h36m), 0, noise=noise))
        assert change < RIGID_CHANGE / 1.5 and turn > 25  # 15 degrees either way
        change, turn = rigid_motion(seen(1, cartwheel(h36m, limbs_deg=5.0), 1, noise=noise))
        assert change > 1.3 * RIGID_CHANGE and turn > 250
    still = seen(2, at(clip(h36m, "Sitting 1", start=400), 0.0), 2, noise=0.005)
    change, turn = rigid_motion(still)
    assert change < RIGID_CHANGE and turn < 5  # holding still: as rigid as a bag, but not turning


@pytest.mark.data
def test_a_punching_bag_and_a_second_skeleton_on_the_boxer_are_dropped(h36m):
    boxer = seen(0, at(clip(h36m, "Directions 1"), -0.3), 0)
    swinging = seen(1, bag(h36m), 1, confidence=0.7)
    on_him = seen(2, at(clip(h36m, "Directions 1", 12) * 0.5, -0.3, lowest=0.6), 2)  # 12 frames, on his torso
    on_him.frames += 30
    passer = seen(3, at(clip(h36m, "Walking 1", FRAMES), -3.0, 1.0), 3)  # a real person walking behind him
    kept, notes = screen_tracks([boxer, swinging, on_him, passer], SIZE, FPS, num_frames=FRAMES)
    assert [t.track_id for t in kept] == [0, 3]
    assert notes[0].startswith("dropped track 1: rigid: it turns")
    assert notes[1].startswith("dropped track 2: a second skeleton on track 0: inside its box in 100% of its 12 frames")
    # end to end: the bag is not lifted, the boxer is
    model = gastnet.create_model(DEFAULT_MODELS[False], pretrained=True)
    result = lift_tracks([boxer, swinging], SIZE, model, num_frames=FRAMES, fps=FPS)
    assert [p.track_id for p in result.people] == [0]


@pytest.mark.data
@pytest.mark.slow
def test_people_doing_unusual_things_are_lifted():
    """The same people through the whole lift (the checks after lifting too: a body explains their 2D)."""
    from gastnet.data.mocap import load_mocap

    h36m = load_mocap(str(shared_file("h36m", "data_3d_h36m.npz")), "h36m").positions
    tracks = [seen(i, make(h36m), i) for i, make in enumerate(PEOPLE.values())]
    tracks.append(seen(len(tracks), at(clip(h36m, "Directions 1"), 0.0, -3.0), 9, pitch_deg=-8.0))
    model = gastnet.create_model(DEFAULT_MODELS[False], pretrained=True)
    with pytest.warns(UserWarning, match="interpolated"):  # the legs of the person cut by the frame
        result = lift_tracks(tracks, SIZE, model, num_frames=FRAMES, fps=FPS, max_people=len(tracks))
    assert [p.track_id for p in result.people] == list(range(len(tracks)))


def detected(world: np.ndarray, seed: int) -> np.ndarray:
    """``world`` (T, 17, 3) metres with one detector's joint definitions (pelvis, hips, spine, neck, head
    and shoulders where a 2D detector puts them, :func:`displace_joint_definitions`)."""
    height = torch.tensor([float(np.median(standing_height(world)))], dtype=torch.float64)
    moved = displace_joint_definitions(torch.as_tensor(world)[None], height, JointDefinitionRanges(),
                                       torch.Generator().manual_seed(seed))
    return moved[0].numpy()


@pytest.fixture(scope="module")
def model():
    return gastnet.create_model(DEFAULT_MODELS[False], pretrained=True)


def boxer_and(h36m, other: np.ndarray, noise: float = 0.02, confidence: float = 0.9, **camera) -> list[PersonTrack]:
    """The boxer (Directions) and ``other`` (T, 17, 3) world metres, as a detector gives them (its joint
    definitions, ``noise`` of the height) to one camera (``camera``: :func:`seen`'s ``eye``, ``pitch_deg``)."""
    boxer = seen(0, detected(at(clip(h36m, "Directions 1"), -0.3), 0), 0, noise=noise, **camera)
    return [boxer, seen(1, detected(other, 1), 1, noise=noise, confidence=confidence, **camera)]


@pytest.mark.data
def test_a_bag_that_passes_the_2d_checks_is_dropped_in_3d(h36m, model):
    """Seen through 2% detector noise the swinging bag is not rigid enough for the 2D check; lifted, it
    hangs upside down with nothing on the boxer's floor, and is dropped before it is placed or saved."""
    tracks = boxer_and(h36m, bag(h36m), confidence=0.7)
    kept, notes = screen_tracks(tracks, SIZE, FPS, num_frames=FRAMES)
    assert len(kept) == 2 and notes == []
    result = lift_tracks(tracks, SIZE, model, num_frames=FRAMES, fps=FPS)
    assert [p.track_id for p in result.people] == [0]
    dropped = [n for n in result.notes if n.startswith("dropped track 1: upside down in 100% of its frames")]
    assert len(dropped) == 1 and " m above it" in dropped[0]
    feet = result.people[0].poses_world[:, [3, 6], 2].min(1)
    assert np.abs(np.median(feet)) < 0.03  # the boxer stands on the floor


@pytest.mark.data
def test_a_reflection_in_a_shiny_floor_is_dropped(h36m, model):
    """A person and their mirror image in the floor (a camera 2.5 m up, pitched 20 degrees down, sees
    both): the image is a body upside down under the floor the boxer and the person stand on."""
    camera = {"eye": (0.0, -6.0, 2.5), "pitch_deg": 20.0}
    person = at(clip(h36m, "Waiting 1"), 0.8)
    tracks = boxer_and(h36m, person, **camera)
    tracks.append(seen(2, detected(person * np.array([1.0, 1.0, -1.0]), 2), 2, noise=0.02, confidence=0.7, **camera))
    result = lift_tracks(tracks, SIZE, model, num_frames=FRAMES, fps=FPS)
    assert [p.track_id for p in result.people] == [0, 1]
    dropped = [n for n in result.notes if n.startswith("dropped track 2: upside down")]
    assert len(dropped) == 1 and " m under it" in dropped[0]


@pytest.mark.data
@pytest.mark.filterwarnings("ignore:track 1. interpolated")
@pytest.mark.parametrize("name", [name for name in PEOPLE if name != "directions"] + ["cut by the frame"])
def test_people_doing_unusual_things_beside_a_boxer_are_kept_in_3d(h36m, model, name):
    """Each person beside the boxer, lifted, fitted and placed on one floor, is kept; a handstand is
    upside down on that floor with its hands on it, not under or above it."""
    camera = {}
    if name == "cut by the frame":  # closer than the boxer, the camera level: the legs below the image
        other, camera = at(clip(h36m, "Directions 1"), 0.6, -3.0), {"pitch_deg": 0.0}
    else:
        other = PEOPLE[name](h36m) + np.array([1.2, 0.0, 0.0])
    tracks = boxer_and(h36m, other, **camera)
    result = lift_tracks(tracks, SIZE, model, num_frames=FRAMES, fps=FPS, max_people=2)
    assert [p.track_id for p in result.people] == [0, 1]
    assert not [n for n in result.notes if n.startswith("dropped")]
    if name == "a handstand":
        world = result.people[1].poses_world
        assert upside_down(world, np.array([0.0, 0.0, 1.0])).mean() > 0.8
        assert np.abs(np.median(world[:, [13, 16], 2].min(1))) < OFF_FLOOR_M / 3  # the hands on the floor
