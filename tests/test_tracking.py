"""Identities through crossings: two walkers seen by one camera, detected the way a find-hide-look-again
detector sees them (shuffled, noisy, the hidden one missing, sometimes one skeleton mixing both), are
linked into tracks that never pass from one person to the other."""

import math
import time

import numpy as np
import pytest

from gastnet.examples import synthetic_walk_2d
from gastnet.geometry.camera import focal_from_fov, project_to_2d
from gastnet.keypoints.tracks import link_detections
from helpers import SHARED_DATA, shared_file, walking_world

SIZE = (1920, 1080)
FOCAL = focal_from_fov(65.0, SIZE)
EYE = np.array([0.0, 0.0, 1.6])  # a camera 1.6 m high at the origin, looking along +y, 5 degrees down
_PITCH = math.radians(5.0)
_FORWARD = np.array([0.0, math.cos(_PITCH), -math.sin(_PITCH)])
WORLD_TO_CAMERA = np.stack([[1.0, 0.0, 0.0], np.cross(_FORWARD, [1.0, 0.0, 0.0]), _FORWARD])  # rows: x right, y down, z ahead
LIMBS = [[0, 7, 8], [9, 10], [1, 2, 3], [4, 5, 6], [11, 12, 13], [14, 15, 16]]  # Human3.6M-17 groups a detector mixes


def synthetic_walker(frames: int, speed: float, phase: float = 0.0) -> np.ndarray:
    """The synthetic walk cycle (50 fps) at 25 fps, moving forwards at ``speed`` m/s: (T, 17, 3) metres, z up."""
    world = walking_world(2 * frames, phase)[::2].astype(np.float64)
    world[..., 1] -= speed * np.arange(frames)[:, None] / 25.0  # the walk faces -y
    return world


def heading_through(walk: np.ndarray, heading_deg: float, point: tuple[float, float], frame: int) -> np.ndarray:
    """``walk`` turned about the vertical so that it travels along ``heading_deg`` (0: +x, 90: away from the
    camera) and moved so that its pelvis is over ``point`` at ``frame``."""
    travel = walk[-1, 0, :2] - walk[0, 0, :2]
    turn = math.radians(heading_deg) - math.atan2(travel[1], travel[0])
    c, s = math.cos(turn), math.sin(turn)
    out = walk @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    out[..., :2] += np.asarray(point) - out[frame, 0, :2]
    return out


def crossing(walk_a: np.ndarray, walk_b: np.ndarray, angle: float, behind: float, towards: bool) -> np.ndarray:
    """Camera-frame joints (2, T, 17, 3) of two walkers whose paths cross at ``angle`` degrees 6 m ahead:
    halfway through, B is ``behind`` metres further along the line of sight than A (negative: in front),
    so that one passes in front of the other; both walk away from the camera, or ``towards`` it."""
    n = min(len(walk_a), len(walk_b))
    turn = 180.0 if towards else 0.0
    a = heading_through(walk_a[:n], 90 - angle / 2 + turn, (0.0, 6.0), n // 2)
    b = heading_through(walk_b[:n], 90 + angle / 2 + turn, (0.0, 6.0 + behind), n // 2)
    return np.stack([(w - EYE) @ WORLD_TO_CAMERA.T for w in (a, b)])


def _box(kp: np.ndarray) -> np.ndarray:
    return np.concatenate([kp.min(0), kp.max(0)])


def _overlap(near: np.ndarray, far: np.ndarray) -> tuple[float, float]:
    """Area shared by two boxes as a fraction of the far one's, and of the smaller one's."""
    w = max(0.0, min(near[2], far[2]) - max(near[0], far[0]))
    h = max(0.0, min(near[3], far[3]) - max(near[1], far[1]))
    area = [(b[2] - b[0]) * (b[3] - b[1]) for b in (near, far)]
    return w * h / area[1], w * h / min(area)


def detected(camera: np.ndarray, seed: int, mixed_rate: float = 0.35):
    """Per-frame detections [(keypoints (17, 2), scores (17,))] and who each one is (0, 1; -1: a mixture).

    Like a one-person detector run find, hide, look again: each frame's people in random order,
    2.5 px of noise; the farther person is missing while the nearer covers half of them or more,
    and their covered joints are unsure while partly covered; while the two overlap, a third of the
    frames give one skeleton instead: the nearer person with some limbs of the other.
    """
    rng = np.random.default_rng(seed)
    pixels = project_to_2d(camera, np.array([FOCAL, FOCAL]), np.array(SIZE) / 2.0)  # (2, T, 17, 2)
    frames, truth = [], []
    for t in range(pixels.shape[1]):
        kp = [pixels[p, t] + rng.normal(0.0, 2.5, (17, 2)) for p in range(2)]
        sc = [rng.uniform(0.7, 1.0, 17) for _ in range(2)]
        near, far = (0, 1) if camera[0, t, 0, 2] < camera[1, t, 0, 2] else (1, 0)
        near_box = _box(pixels[near, t])
        hidden, shared = _overlap(near_box, _box(pixels[far, t]))
        if shared > 0.2 and rng.random() < mixed_rate:
            mixed = kp[near].copy()
            for limb in rng.permutation(len(LIMBS))[: rng.integers(2, 5)]:
                mixed[LIMBS[limb]] = kp[far][LIMBS[limb]]
            people = [(mixed, sc[near], -1)]
        else:
            people = [(kp[near], sc[near], near)]
            if hidden < 0.5:
                covered = (kp[far] >= near_box[:2]).all(-1) & (kp[far] <= near_box[2:]).all(-1)
                sc[far][covered] = rng.uniform(0.05, 0.3, covered.sum())
                people.append((kp[far], sc[far], far))
        order = rng.permutation(len(people))
        frames.append([people[i][:2] for i in order])
        truth.append([people[i][2] for i in order])
    return frames, truth


def identities(tracks, frames, truth):
    """(identity switches, number of tracks holding each person, the largest share of each person's
    detections in one track, mixtures in tracks): a switch is a track's next true person differing from
    its previous one (mixtures skipped)."""
    who = {(f, kp.tobytes()): truth[f][i] for f, people in enumerate(frames) for i, (kp, _) in enumerate(people)}
    switches, mixtures = 0, 0
    holders: list[dict[int, int]] = [{}, {}]
    for track in tracks:
        people = [who[(int(f), kp.tobytes())] for f, kp in zip(track.frames, track.keypoints)]
        mixtures += people.count(-1)
        pure = [p for p in people if p >= 0]
        switches += sum(a != b for a, b in zip(pure, pure[1:]))
        for p in pure:
            holders[p][track.track_id] = holders[p].get(track.track_id, 0) + 1
    return (switches, [len(h) for h in holders], [max(h.values()) / sum(h.values()) for h in holders], mixtures)


def check_crossing(walk_a, walk_b, angle, behind, towards, seed):
    """Link a crossing; assert no switch, each person in few tracks; return what was measured."""
    camera = crossing(walk_a, walk_b, angle, behind, towards)
    frames, truth = detected(camera, seed)
    flat = [p for people in truth for p in people]
    assert -1 in flat and min(len(p) for p in truth) == 1  # the scene has mixtures and hidden people
    tracks = link_detections(frames)
    ids = [t.track_id for t in tracks]
    assert ids == sorted(ids) and [int(t.frames[0]) for t in tracks] == sorted(int(t.frames[0]) for t in tracks)
    switches, holders, shares, mixtures = identities(tracks, frames, truth)
    assert switches == 0, (angle, behind, towards, seed, holders, shares)
    return holders, shares, mixtures, sum(p == -1 for p in flat)


@pytest.mark.parametrize("angle", [30, 90, 150, 180])
def test_synthetic_walkers_crossing_are_never_swapped(angle):
    """Two synthetic walkers (different speeds and phases) cross at ``angle`` degrees, either in
    front, walking away from the camera or towards it, with two noise draws each."""
    walk_a, walk_b = synthetic_walker(75, 1.3), synthetic_walker(75, 1.1, phase=13)
    for behind in (1.0, -1.0):
        for towards in (False, True):
            for seed in (0, 1):
                holders, shares, _, _ = check_crossing(walk_a, walk_b, angle, behind, towards, seed)
                if angle >= 90:  # a short overlap: each person is picked up again by their own track
                    assert max(holders) <= 2 and min(shares) > 0.9, (behind, towards, seed, holders, shares)
                else:  # walking side by side for longer than max_gap: split at most once, never merged
                    assert max(holders) <= 3 and min(shares) >= 0.4, (behind, towards, seed, holders, shares)


def test_a_skeleton_mixing_two_standing_people_goes_to_neither():
    """Two people stand 90 px apart (300 px tall); every third frame the detector gives one skeleton with
    the legs of one and the rest of the other. Neither track takes it, and it starts no track."""
    rng = np.random.default_rng(3)
    base = np.stack([0.2 * (np.arange(17) % 3 - 1), np.linspace(0.0, 1.0, 17)], -1) * 300.0
    frames = []
    for t in range(60):
        a = base + [600.0, 300.0] + rng.normal(0, 1.5, (17, 2))
        b = base + [690.0, 300.0] + rng.normal(0, 1.5, (17, 2))
        if t % 3 == 2:
            mixed = a.copy()
            mixed[[1, 2, 3, 4, 5, 6]] = b[[1, 2, 3, 4, 5, 6]]
            frames.append([(mixed, np.full(17, 0.9))])
        else:
            frames.append([(a, np.full(17, 0.9)), (b, np.full(17, 0.9))][:: 1 if t % 2 else -1])
    tracks = link_detections(frames)
    assert len(tracks) == 2 and [len(t) for t in tracks] == [40, 40]
    for track in tracks:  # each track stays on one person (joint 0 at x - 60 px)
        x = track.keypoints[0, 0, 0]
        assert min(abs(x - 540.0), abs(x - 630.0)) < 6.0
        np.testing.assert_allclose(track.keypoints[:, 0, 0], x, atol=10.0)


def test_a_walker_hidden_behind_someone_is_picked_up_again():
    """A walker (200 px tall, 8 px per frame) passes behind someone standing nearer the camera (240 px
    tall) and is not detected for 11 frames. The walker's track coasts past the stander, whose own
    track it never takes, and picks the walker up on the other side."""
    base = np.stack([0.2 * (np.arange(17) % 3 - 1), np.linspace(0.0, 1.0, 17)], -1)
    frames = []
    for t in range(50):
        walker = (base * 200.0 + [300.0 + 8.0 * t, 400.0], np.full(17, 0.9))
        stander = (base * 240.0 + [460.0, 380.0], np.full(17, 0.9))
        frames.append([walker, stander] if abs(8.0 * t - 160.0) >= 48.0 else [stander])
    tracks = link_detections(frames, max_gap=15)
    assert [(int(t.frames[0]), int(t.frames[-1]), len(t)) for t in tracks] == [(0, 49, 39), (0, 49, 50)]
    np.testing.assert_allclose(np.diff(tracks[0].keypoints[:, 0, 0]) / np.diff(tracks[0].frames), 8.0)
    np.testing.assert_allclose(tracks[1].keypoints[:, 0, 0], 460.0 - 48.0)


def test_one_person_moving_fast_or_detected_twice_keeps_one_track():
    """A boxer's wrists jump a third of their height between frames and the detector sometimes returns
    the same person twice: still one track with every frame (a duplicate may start its own)."""
    rng = np.random.default_rng(4)
    base = np.stack([0.2 * (np.arange(17) % 3 - 1), np.linspace(0.0, 1.0, 17)], -1) * 400.0
    frames = []
    for t in range(90):
        kp = base + [500.0 + 2.0 * t, 300.0] + rng.normal(0, 2.0, (17, 2))
        kp[[13, 16]] += rng.choice([0.0, 130.0], size=(2, 1)) * [1.0, 0.0]  # punches
        people = [(kp, np.full(17, 0.9))]
        if t % 7 == 3:
            people.append((kp + rng.normal(0, 3.0, kp.shape), np.full(17, 0.8)))
        frames.append(people[:: -1 if t % 2 else 1])
    tracks = link_detections(frames)
    assert len(tracks[0]) == 90 and tracks[0].frames.tolist() == list(range(90))


def test_bad_detections_say_what_was_expected():
    good = (np.zeros((17, 2)), np.ones(17))
    with pytest.raises(ValueError, match=r"frame 1, person 0: expected keypoints \(J, 2\) and scores \(J,\).*\(17, 3\)"):
        link_detections([[good], [(np.zeros((17, 3)), np.ones(17))]])
    with pytest.raises(ValueError, match=r"frame 0, person 1: .*17 joints like the first person.*\(15, 2\)"):
        link_detections([[good, (np.zeros((15, 2)), np.ones(15))]])
    with pytest.raises(ValueError, match="max_gap must be 0 or more frames, got -1"):
        link_detections([[good]], max_gap=-1)
    with pytest.raises(ValueError, match="max_distance must be a positive"):
        link_detections([[good]], max_distance=0.0)
    # joints marked missing (NaN, score 0) are not compared; a detection with none given matches nothing
    nan = np.full((17, 2), np.nan)
    tracks = link_detections([[good], [(nan, np.zeros(17))], [good]])
    assert [t.frames.tolist() for t in tracks] == [[0, 2], [1]]


def test_linking_stays_cheap():
    """Four walkers over 300 frames: the linker costs well under a millisecond per frame (measured
    0.5 ms on the 2-core development machine; this bound only catches a gross slowdown)."""
    rng = np.random.default_rng(5)
    base = np.stack([0.2 * (np.arange(17) % 3 - 1), np.linspace(0.0, 1.0, 17)], -1) * 250.0
    frames = [[(base + [200.0 + 400 * p + 1.5 * t, 300.0 + 20 * p] + rng.normal(0, 2, (17, 2)), np.full(17, 0.9))
               for p in rng.permutation(4)] for t in range(300)]
    start = time.perf_counter()
    tracks = link_detections(frames)
    per_frame = (time.perf_counter() - start) / 300
    assert len(tracks) == 4 and all(len(t) == 300 for t in tracks)
    assert per_frame < 0.01, f"{1000 * per_frame:.2f} ms per frame"


# --- the gates: one scene each that goes wrong without it ------------------------------------------

_STANDING = synthetic_walk_2d(1, (1000, 1000))[0].astype(np.float64)
_STANDING = (_STANDING - [_STANDING[0, 0], _STANDING[:, 1].max()]) / np.ptp(_STANDING[:, 1])  # 1 tall, feet at 0


def stander(x: float, feet: float, tall: float, rng: np.random.Generator, arms_up: bool = False) -> np.ndarray:
    """A person standing (Human3.6M-17, pixels) ``tall`` px high, pelvis at x, feet at y = ``feet``, 1.5 px
    of noise; with ``arms_up`` the elbows and wrists straight above the shoulders."""
    pose = _STANDING.copy()
    if arms_up:
        for shoulder, elbow, wrist in ((11, 12, 13), (14, 15, 16)):
            pose[elbow] = pose[shoulder] - [0.0, 0.17]
            pose[wrist] = pose[shoulder] - [0.0, 0.33]
    return pose * tall + [x, feet] + rng.normal(0.0, 1.5, (17, 2))


def _sure(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return kp, np.full(17, 0.9)


def test_crowded_gate_a_skeleton_blending_two_people_goes_to_neither():
    """Two people stand under half a height apart; from frame 10, every third frame the detector gives one
    skeleton instead: the front one's body with head and arms halfway to the other's (a blend, not a swap
    of limbs). Its shape is off by less than the shape gate but more than the crowded gate's: no track
    takes it, nor does it start one."""
    rng = np.random.default_rng(1)
    frames, blends = [], 0
    for t in range(60):
        a, b = stander(600.0, 700.0, 300.0, rng), stander(740.0, 700.0, 300.0, rng)
        if t >= 10 and t % 3 == 2:
            blend = a.copy()
            blend[9:] = (a[9:] + b[9:]) / 2  # head, neck, shoulders, arms
            frames.append([_sure(blend)])
            blends += 1
        else:
            frames.append([_sure(a), _sure(b)][:: 1 if t % 2 else -1])
    tracks = link_detections(frames)
    assert [len(t) for t in tracks] == [60 - blends] * 2
    for track in tracks:  # the wrists never halfway between the two people
        assert np.ptp(track.keypoints[:, 13, 0]) < 30.0


def test_pose_layout_cost_tells_apart_people_side_by_side():
    """Two people of one size stand 15% of a height apart, swaying 8 px either way: where they are alone
    often leaves it unclear who is who (so neither would be matched); one has the arms up, and their
    poses tell them apart. Each track keeps every frame of its person."""
    rng = np.random.default_rng(2)
    frames = []
    for _ in range(60):
        sway = rng.normal(0.0, 8.0, 2)
        people = [_sure(stander(600.0 + sway[0], 700.0, 300.0, rng, arms_up=True)),
                  _sure(stander(645.0 + sway[1], 700.0, 300.0, rng))]
        frames.append(people[:: 1 if rng.random() < 0.5 else -1])
    tracks = link_detections(frames)
    assert len(tracks) == 2 and [len(t) for t in tracks] == [60, 60]
    for track in tracks:
        up = track.keypoints[:, 13, 1] < track.keypoints[:, 11, 1]  # wrist above the shoulder
        assert up.all() or not up.any()


def test_size_gate_a_child_is_not_taken_for_a_hidden_adult():
    """An adult (400 px) is missed for 15 frames; meanwhile a child (180 px) stands where the adult was
    expected. The adult's track does not take the child: the child gets a track of their own."""
    rng = np.random.default_rng(3)
    frames = []
    for t in range(60):
        people = []
        if not 30 <= t < 45:
            people.append(_sure(stander(600.0, 800.0, 400.0, rng)))
        if t >= 32:
            people.append(_sure(stander(630.0, 700.0, 180.0, rng)))
        frames.append(people)
    tracks = link_detections(frames)
    assert len(tracks) == 2
    adult, child = tracks
    assert len(adult) == 45 and len(child) == 28
    np.testing.assert_allclose(np.ptp(adult.keypoints[..., 1], axis=-1), 400.0, rtol=0.05)
    np.testing.assert_allclose(np.ptp(child.keypoints[..., 1], axis=-1), 180.0, rtol=0.08)


def test_lost_tracks_stay_rivals_of_the_person_they_lost():
    """A walker (4 px per frame) is hidden behind a pillar for 25 frames, long enough for their track to be
    lost, and comes out near someone standing just as the detector misses the stander for 3 frames. The
    stander's track does not take the walker: the walker's lost track is still a rival there."""
    rng = np.random.default_rng(4)
    frames = []
    for t in range(70):
        x = 200.0 + 4.0 * t
        people = []
        if not 330.0 <= x < 430.0:
            people.append(_sure(stander(x, 700.0, 300.0, rng)))
        if not 58 <= t < 61:
            people.append(_sure(stander(500.0, 700.0, 300.0, rng)))
        frames.append(people[:: 1 if t % 2 else -1])
    tracks = link_detections(frames)
    for track in tracks:
        still = np.abs(track.keypoints[:, 0, 0] - 500.0) < 8.0  # the stander's detections
        assert still.all() or not still.any(), (track.track_id, track.frames[~still][:3])
    assert len(tracks[0]) > 60 and tracks[0].frames[0] == 0  # the stander's track, up to the walker's return


@pytest.mark.slow
def test_mixed_skeletons_are_left_out_of_tracks():
    """Over synthetic crossings (30, 90 and 150 degrees, either walker in front, both directions, two noise
    draws) where a third of the frames with the two overlapping give one skeleton mixing their limbs, at
    most 3% of those mixtures end up in a track (measured: 8 of 374; 78 without the limb test), and at
    most 5% of the people's own detections are left out (measured 3.9%; 2.6% without the limb test)."""
    walk_a, walk_b = synthetic_walker(75, 1.3), synthetic_walker(75, 1.1, phase=13)
    kept = mixed = lost = real = 0
    for angle in (30, 90, 150):
        for behind in (1.0, -1.0, 0.6, -0.6):
            for towards in (False, True):
                for seed in (0, 1):
                    frames, truth = detected(crossing(walk_a, walk_b, angle, behind, towards), seed)
                    tracks = link_detections(frames)
                    switches, _, _, in_tracks = identities(tracks, frames, truth)
                    assert switches == 0
                    held = {(int(f), kp.tobytes()) for t in tracks for f, kp in zip(t.frames, t.keypoints)}
                    for f, people in enumerate(frames):
                        for i, (kp, _) in enumerate(people):
                            if truth[f][i] >= 0:
                                real, lost = real + 1, lost + ((f, kp.tobytes()) not in held)
                    kept, mixed = kept + in_tracks, mixed + sum(p == -1 for people in truth for p in people)
    assert mixed > 300 and kept <= 0.03 * mixed, (kept, mixed)
    assert lost <= 0.05 * real, (lost, real)


# --- real motion capture ------------------------------------------------------------------------


def assert_never_swapped(walk_a: np.ndarray, walk_b: np.ndarray, angles: tuple[int, ...], seed: int) -> None:
    """Every crossing of the two walks (each angle, either walker behind, towards the camera or not)
    keeps each track on one walker: at most 3 holders per walker's frames and no share below 40%."""
    for angle in angles:
        for behind in (1.0, -1.0):
            for towards in (False, True):
                holders, shares, _, _ = check_crossing(walk_a, walk_b, angle, behind, towards, seed=seed)
                assert max(holders) <= 3 and min(shares) >= 0.4


@pytest.mark.data
@pytest.mark.parametrize("angle", [30, 90, 150, 180])
def test_cmu_walkers_crossing_are_never_swapped(angle):
    """Subject 131's walk (CMU, 30 fps) twice, 10 frames apart: two people of one body, the hardest
    to tell apart by size and pose."""
    from gastnet.data.cmu import load_cmu_bvh

    world, _ = load_cmu_bvh(shared_file("cmu", "131_01.bvh"), 30.0)
    walk_a, walk_b = world[125:190].astype(np.float64), world[135:200].astype(np.float64)
    assert_never_swapped(walk_a, walk_b, (angle,), seed=0)


@pytest.mark.data
@pytest.mark.slow
def test_human36m_walkers_crossing_are_never_swapped():
    """Two Human3.6M subjects' walks (S1 Walking 1, S5 Walking 2; 25 fps) crossing at 30-180 degrees
    (about 5 s to load the motion capture)."""
    from gastnet.data.sources import load_dataset_mocap

    mocap = load_dataset_mocap("h36m", shared_file("h36m", "data_3d_h36m.npz").parent.parent)
    walk_a = mocap.positions["S1"]["Walking 1"][::2][225:300].astype(np.float64)  # straight stretches
    walk_b = mocap.positions["S5"]["Walking 2"][::2][790:865].astype(np.float64)
    assert_never_swapped(walk_a, walk_b, (30, 90, 150, 180), seed=1)


@pytest.mark.data
@pytest.mark.slow
def test_the_shared_video_gives_the_same_two_tracks():
    """MediaPipe Pose on the shared two-person video: the man from frame 0 to 86 walking from
    x = 908 to 173 px, the second person from frame 40 (the first search that finds her) to 86, from
    x = 1127 to 1425 px: as the greedy linker gave before (about 10 s). (The default detector,
    BlazePose under LiteRT, finds the second man from frame 0: tests/test_blazepose.py.)"""
    pytest.importorskip("mediapipe", reason="video detection needs the video extra (MediaPipe)")
    from gastnet.video.backends import make_detector
    from gastnet.video.detect import detect_video

    found, _ = detect_video(shared_file("video", "walk_apart_2persons.avi"), detector=make_detector("mediapipe", 4))
    spans = [(int(t.frames[0]), int(t.frames[-1]), len(t)) for t in found.tracks]
    assert spans == [(0, 86, 87), (40, 86, 47)]
    for track, (first, last) in zip(found.tracks, [(908.0, 173.0), (1127.0, 1425.0)]):
        np.testing.assert_allclose(track.keypoints[[0, -1], 0, 0], [first, last], atol=15.0)
        steps = np.linalg.norm(np.diff(track.keypoints[:, 0], axis=0), axis=-1)
        height = np.ptp(track.keypoints[..., 1], axis=-1)
        assert (steps < 0.1 * height[1:]).all()  # the pelvis never jumps to the other person (about 1 m away)


# --- the numbers of the report: python tests/test_tracking.py [--linker OTHER_tracks.py] [--video] ---------


def _sweep(link, seeds=(0, 1, 2)) -> None:
    """Identity switches, extra tracks per person and mixtures kept over every crossing (and the time per
    frame) for the linker ``link``; with the shared data, the CMU and Human3.6M walkers too."""
    pairs = {"synthetic": (synthetic_walker(75, 1.3), synthetic_walker(75, 1.1, phase=13))}
    cmu_file, h36m_file = SHARED_DATA / "cmu" / "131_01.bvh", SHARED_DATA / "h36m" / "data_3d_h36m.npz"
    if cmu_file.is_file():
        from gastnet.data.cmu import load_cmu_bvh

        world, _ = load_cmu_bvh(cmu_file, 30.0)
        pairs["CMU 131 twice"] = (world[125:190].astype(np.float64), world[135:200].astype(np.float64))
    if h36m_file.is_file():
        from gastnet.data.sources import load_dataset_mocap

        mocap = load_dataset_mocap("h36m", SHARED_DATA)
        pairs["Human3.6M S1 + S5"] = (mocap.positions["S1"]["Walking 1"][::2][225:300].astype(np.float64),
                                      mocap.positions["S5"]["Walking 2"][::2][790:865].astype(np.float64))
    for name, (walk_a, walk_b) in pairs.items():
        for angle in (30, 90, 150, 180):
            runs = switches = extra = mixtures = mixed = frames_linked = 0
            spent = 0.0
            for behind in (1.0, -1.0, 0.6, -0.6, 2.0, -2.0):
                for towards in (False, True):
                    for seed in seeds:
                        frames, truth = detected(crossing(walk_a, walk_b, angle, behind, towards), seed)
                        start = time.perf_counter()
                        tracks = link(frames)
                        spent += time.perf_counter() - start
                        s, holders, _, m = identities(tracks, frames, truth)
                        runs, switches, extra, mixtures = runs + 1, switches + s, extra + sum(holders) - 2, mixtures + m
                        mixed += sum(p == -1 for people in truth for p in people)
                        frames_linked += len(frames)
            print(f"{name:18s} {angle:3d} deg: {runs} crossings, {switches:3d} identity switches, {extra:3d} extra "
                  f"tracks (splits), {mixtures}/{mixed} mixed skeletons in tracks, "
                  f"{1000 * spent / frames_linked:.2f} ms per frame")


def _video(link) -> None:
    """The real detector (MediaPipe, 4 people) on the shared video once; its tracks by this linker."""
    from gastnet.keypoints.convert import coco_to_h36m
    from gastnet.video import reader
    from gastnet.video.detectors import MultiPersonDetector

    detector, frames = MultiPersonDetector(4), []
    with reader.open_source(SHARED_DATA / "video" / "walk_apart_2persons.avi") as video:
        for image in video:
            frames.append([coco_to_h36m(p.keypoints, p.scores) for p in detector.detect(image)])
    detector.close()
    both = []
    for name, linker in (("this linker", link_detections), ("the other", link)):
        start = time.perf_counter()
        both.append(linker(frames))
        spent = (time.perf_counter() - start) / len(frames)
        print(f"{name}: " + "; ".join(f"track {t.track_id} frames {t.frames[0]}-{t.frames[-1]} ({len(t)}), pelvis x "
                                      f"{t.keypoints[0, 0, 0]:.0f} -> {t.keypoints[-1, 0, 0]:.0f} px" for t in both[-1])
              + f"; {1000 * spent:.2f} ms per frame")
    same = len(both[0]) == len(both[1]) and all(
        a.track_id == b.track_id and np.array_equal(a.frames, b.frames) and np.array_equal(a.keypoints, b.keypoints)
        for a, b in zip(*both))
    print(f"every detection in the same track by both: {same}")


if __name__ == "__main__":
    import argparse
    import importlib.util
    import sys

    parser = argparse.ArgumentParser(description="identity switches on synthetic crossings, per linker")
    parser.add_argument("--linker", help="another tracks.py (e.g. an earlier version) whose link_detections to measure")
    parser.add_argument("--video", action="store_true", help="also the shared video's tracks (runs MediaPipe)")
    args = parser.parse_args()
    link = link_detections
    if args.linker:
        spec = importlib.util.spec_from_file_location("gastnet.keypoints.other_tracks", args.linker)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
        link = module.link_detections
    _sweep(link)
    if args.video:
        _video(link)
