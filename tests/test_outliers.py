"""Detections that jump for a frame or two are found in the 2D before lifting (gastnet.keypoints.outliers):
jumps of 10-40% of the stature, one or two frames, one joint or the whole body, at a track's start,
middle and end; and no real motion (a jab, a kick, a turn, walks, boxing and jogging in motion
capture) taken for one."""

import math

import numpy as np
import pytest

from gastnet.examples import synthetic_walk_3d
from gastnet.geometry.camera import project_to_2d
from gastnet.keypoints.outliers import JUMP_THRESHOLD, body_size, jitter, reject_jumps
from gastnet.keypoints.tracks import PersonTrack, fill_gaps
from helpers import shared_file

FOCAL, CENTRE = 1500.0, np.array([960.0, 540.0])
STATURE = 1.7  # metres, the synthetic walker's (ankle to head top 1.6 m, plus the ankle's height)


def to_pixels(local: np.ndarray, depth: float = 4.0, side: bool = False) -> np.ndarray:
    """Root-relative poses (T, 17, 3) metres, y up, facing -z, seen from the front (or the side) at ``depth`` m."""
    cam = local[..., [2, 1, 0]] if side else local.copy()
    cam[..., 1] *= -1  # camera y points down
    cam[..., 2] += depth
    return project_to_2d(cam, np.array([FOCAL, FOCAL]), CENTRE)


def walk(frames: int = 90, fps: float = 30.0, side: bool = True) -> tuple[np.ndarray, float]:
    """A walk cycle moving across the image at 1.3 m/s: pixels (T, 17, 2) and the stature in pixels."""
    local = synthetic_walk_3d(frames, fps)
    local[..., 0] += 1.3 * (np.arange(frames) / fps - frames / fps / 2)[:, None]
    return to_pixels(local, side=False) if not side else to_pixels(local), STATURE * FOCAL / 4.0


def jab(fps: float, out_s: float = 0.1, hold_s: float = 0.03, back_s: float = 0.15, reach: float = 0.5,
        phase: float = 0.0, frames: int = 45) -> np.ndarray:
    """A standing person whose right wrist punches ``reach`` m forward in ``out_s`` s, stays ``hold_s`` and comes
    back in ``back_s`` (minimum-jerk profiles): (T, 17, 3) metres, y up, facing -z; the elbow goes half as far."""
    def minimum_jerk(s: np.ndarray) -> np.ndarray:
        s = np.clip(s, 0.0, 1.0)
        return 10 * s**3 - 15 * s**4 + 6 * s**5

    t = (np.arange(frames) + phase) / fps - 0.5
    extension = reach * (minimum_jerk(t / out_s) - minimum_jerk((t - out_s - hold_s) / back_s))
    poses = np.repeat(synthetic_walk_3d(1)[:1], frames, 0)
    poses[:, 16, 2] -= extension
    poses[:, 15, 2] -= 0.5 * extension
    return poses


def kick(fps: float, frames: int = 45) -> np.ndarray:
    """A front kick: the right ankle swings 1 m forward and up in 0.15 s and back in 0.2 s (the knee half as far)."""
    t = np.arange(frames) / fps - 0.5
    swing = np.sin(np.pi / 2 * np.clip(t / 0.15, 0, 1)) - np.sin(np.pi / 2 * np.clip((t - 0.15) / 0.2, 0, 1))
    poses = np.repeat(synthetic_walk_3d(1)[:1], frames, 0)
    for joint, share in ((3, 1.0), (2, 0.5)):
        poses[:, joint, 2] -= 0.8 * share * swing
        poses[:, joint, 1] += 0.6 * share * swing
    return poses


def turn(fps: float, frames: int = 45) -> np.ndarray:
    """A person turning half round about the vertical in 0.4 s (pirouette speed)."""
    t = np.arange(frames) / fps - 0.5
    angle = np.pi * np.clip(t / 0.4, 0, 1)
    poses = np.repeat(synthetic_walk_3d(1)[:1], frames, 0)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, z = poses[..., 0].copy(), poses[..., 2].copy()
    poses[..., 0], poses[..., 2] = c * x + s * z, -s * x + c * z
    return poses


def rejected_of(pixels: np.ndarray, fps: float, **kwargs) -> np.ndarray:
    return reject_jumps(pixels, np.ones(pixels.shape[:2]), fps, **kwargs)[1]


def test_a_one_frame_jump_of_a_joint_is_rejected_and_its_score_set_to_zero():
    pixels, stature = walk()
    scores = np.random.default_rng(0).uniform(0.3, 1.0, pixels.shape[:2])
    assert not reject_jumps(pixels, scores, 30.0)[1].any()
    pixels[40, 13] += (0.2 * stature, 0.0)  # the left wrist 20% of the stature to the right for one frame
    new_scores, rejected = reject_jumps(pixels, scores, 30.0)
    assert np.argwhere(rejected).tolist() == [[40, 13]]
    assert new_scores[40, 13] == 0.0
    np.testing.assert_array_equal(np.delete(new_scores.ravel(), 40 * 17 + 13), np.delete(scores.ravel(), 40 * 17 + 13))


@pytest.mark.parametrize("where", ["start", "middle", "end"])
@pytest.mark.parametrize("length", [1, 2])
@pytest.mark.parametrize("whole", [False, True], ids=["joint", "body"])
def test_jumps_of_one_or_two_frames_are_found_wherever_they_are(where, length, whole):
    """10% and 40% of the stature, in 8 directions, each joint in turn: every position that jumped is
    rejected and nothing else."""
    clean, stature = walk()
    n = len(clean)
    first = {"start": 0, "middle": n // 2, "end": n - length}[where]
    for k, (fraction, angle) in enumerate([(f, a) for f in (0.1, 0.4) for a in np.arange(8) * math.pi / 4]):
        pixels = clean.copy()
        joints = slice(None) if whole else k % 17
        pixels[first:first + length, joints] += fraction * stature * np.array([math.cos(angle), math.sin(angle)])
        expected = np.zeros(pixels.shape[:2], bool)
        expected[first:first + length, joints] = True
        np.testing.assert_array_equal(rejected_of(pixels, 30.0), expected, err_msg=f"{fraction:.0%} at {angle:.2f} rad")


def test_a_frame_of_someone_else_is_rejected_whole():
    """The detector snaps to another person for a frame: a different pose 30% of the stature away. Some of
    the joints land near where the person's were; the frame is rejected whole all the same."""
    pixels, stature = walk()
    other = to_pixels(synthetic_walk_3d(90, 30.0)[::-1])  # another phase of the walk
    pixels[50] = other[50] + (0.3 * stature, 0.0)
    rejected = rejected_of(pixels, 30.0)
    assert rejected[50].all() and rejected.sum() == 17
    pixels, _ = walk()
    pixels[30, :9] += (0.0, 0.15 * stature)  # more than half the joints jump: the rest are not trusted either
    rejected = rejected_of(pixels, 30.0)
    assert rejected[30].all() and rejected.sum() == 17
    pixels, _ = walk()
    pixels[30, :4] += (0.0, 0.15 * stature)  # a few joints jump: only they are rejected
    assert np.argwhere(rejected_of(pixels, 30.0)).tolist() == [[30, j] for j in range(4)]


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_a_jab_a_kick_and_a_turn_are_not_jumps(fps):
    """A boxer's jab (the wrist 0.5 m out in 0.1 s, 9 m/s at its fastest, a brief hold, back in 0.15 s; also
    out in 0.08 s, 12 m/s, and back at once in 0.1 s), a front kick and a half turn in 0.4 s, seen from
    the front and the side at several phases of the frame clock: nothing is rejected. The same jab
    squeezed into two frames out and back is a jump."""
    for phase in np.linspace(0.0, 1.0, 5, endpoint=False):
        motions = [jab(fps, phase=phase), jab(fps, 0.08, 0.0, 0.1, phase=phase), jab(fps, 0.1, 0.0, 0.1, phase=phase),
                   kick(fps), turn(fps)]
        for i, motion in enumerate(motions):
            for side in (False, True):
                assert not rejected_of(to_pixels(motion, 3.0, side), fps).any(), f"motion {i}, side {side}"
    squeezed = jab(30.0, out_s=1 / 30, hold_s=1 / 30, back_s=1 / 30, phase=0.0)
    assert rejected_of(to_pixels(squeezed, 3.0, side=True), 30.0)[:, 16].any()


def test_detector_noise_is_not_a_jump_and_a_jump_stands_out_of_it():
    """Jitter of 1% of the stature per coordinate (6 px on a 640 px person) rejects nothing; a 15% jump
    in it is still found."""
    clean, stature = walk(300)
    noisy = clean + np.random.default_rng(1).normal(0.0, 0.01 * stature, clean.shape)
    assert not rejected_of(noisy, 30.0).any()
    noisy[150, 16] += (0.0, 0.15 * stature)
    assert np.argwhere(rejected_of(noisy, 30.0)).tolist() == [[150, 16]]


def test_missing_joints_are_not_judged_and_judge_nothing():
    """Score 0 or a NaN position marks a joint the detector did not give: wherever it lies it is not
    rejected, and the joints around it are judged without it."""
    pixels, stature = walk()
    scores = np.ones(pixels.shape[:2])
    pixels[[20, 21, 60], 5] = (-1.0, -1.0)  # readers mark missing joints with negative coordinates and score 0
    scores[[20, 21, 60], 5] = 0.0
    pixels[70, 6] = np.nan
    new_scores, rejected = reject_jumps(pixels, scores, 30.0)
    assert not rejected.any()
    np.testing.assert_array_equal(new_scores, scores)
    pixels[45, 5] += (0.2 * stature, 0.0)
    assert np.argwhere(reject_jumps(pixels, scores, 30.0)[1]).tolist() == [[45, 5]]


def test_frames_without_a_detection_keep_the_time_between_frames():
    """A track seen in frames 0-39 and 43-89 (``frames`` of a PersonTrack) is judged like the whole span
    with the missing frames' scores at 0; a jump right after the gap is found."""
    pixels, stature = walk()
    pixels[41, 3] += (0.0, 0.2 * stature)  # in the gap: never seen
    pixels[44, 3] += (0.0, 0.2 * stature)  # right after it
    frames = np.r_[0:40, 43:90]
    span_scores = np.ones(pixels.shape[:2])
    span_scores[40:43] = 0.0
    whole = reject_jumps(pixels, span_scores, 30.0)[1]
    seen = reject_jumps(pixels[frames], np.ones((len(frames), 17)), 30.0, frames=frames)[1]
    np.testing.assert_array_equal(seen, whole[frames])
    assert np.argwhere(whole).tolist() == [[44, 3]]


def test_rejected_positions_are_interpolated_by_fill_gaps():
    """What the lifting does with the verdict: score 0 makes the position missing, and fill_gaps puts it
    back on the joint's path (within 1% of the stature; it was 30% off)."""
    clean, stature = walk()
    pixels = clean.copy()
    pixels[70, 10] += (0.3 * stature, 0.0)
    pixels[71, 10] += (0.3 * stature, 0.0)
    track = PersonTrack(3, np.arange(100, 190), pixels, np.full(pixels.shape[:2], 0.9))
    scores, rejected = reject_jumps(track.keypoints, track.scores, 30.0, frames=track.frames)
    filled, report = fill_gaps(PersonTrack(3, track.frames, track.keypoints, scores))
    assert report.interpolated_joints == 2 and report.filled[[70, 71], 10].all()
    assert np.abs(filled.keypoints - clean).max() < 0.01 * stature


def test_the_threshold_follows_the_body_size_and_the_frame_rate():
    """The same 8% jump is rejected on a person near the camera and far from it (the size in pixels is
    taken from the keypoints); at 15 fps, where real limbs move 4 times farther from a straight line
    between frames, it is not."""
    local = synthetic_walk_3d(90, 30.0)
    for depth in (2.5, 10.0):
        pixels = to_pixels(local, depth)
        size = np.median(body_size(pixels, np.ones(pixels.shape[:2], bool), 30.0))
        pixels[45, 2] += (0.08 * size, 0.0)
        assert 0.08 > JUMP_THRESHOLD
        assert np.argwhere(rejected_of(pixels, 30.0)).tolist() == [[45, 2]]
        assert not rejected_of(pixels, 15.0).any()


def test_jitter_is_the_noise_of_each_joint_where_it_is():
    """The noise estimate follows noise that grows along a track, joint by joint."""
    rng = np.random.default_rng(2)
    points = np.zeros((600, 2, 2))
    points[:300, 0] = rng.normal(0.0, 1.0, (300, 2))
    points[300:, 0] = rng.normal(0.0, 4.0, (300, 2))
    noise = jitter(points, np.ones((600, 2), bool), block=60)
    assert noise[:200, 0] == pytest.approx(1.0, rel=0.3) and noise[400:, 0] == pytest.approx(4.0, rel=0.3)
    assert (noise[:, 1] == 0).all()


def test_bad_input_raises():
    pixels, _ = walk(10)
    scores = np.ones((10, 17))
    with pytest.raises(ValueError, match=r"keypoints must be \(T, J, 2\)"):
        reject_jumps(pixels[..., :1], scores, 30.0)
    with pytest.raises(ValueError, match=r"scores must be \(T, J\)"):
        reject_jumps(pixels, scores[:, :5], 30.0)
    with pytest.raises(ValueError, match="fps must be a positive"):
        reject_jumps(pixels, scores, 0.0)
    with pytest.raises(ValueError, match="threshold must be a positive"):
        reject_jumps(pixels, scores, 30.0, threshold=-1.0)
    with pytest.raises(ValueError, match="frames must be"):
        reject_jumps(pixels, scores, 30.0, frames=np.arange(10)[::-1])
    with pytest.raises(ValueError, match="frames must be"):
        reject_jumps(pixels, scores, 30.0, frames=np.arange(10.0))
    assert not reject_jumps(pixels[:2], scores[:2], 30.0)[1].any()  # too short to judge


# --- real motion capture projected to 2D ---------------------------------------------------------


def cmu_views() -> list[tuple[str, np.ndarray, float, np.ndarray]]:
    """CMU 131_01 and 131_02 at 30 fps seen across and along the walk: (name, pixels, fps, stature in pixels per frame)."""
    from gastnet.data.cmu import load_cmu_bvh
    from gastnet.geometry.camera import focal_from_fov
    from gastnet.world.placement import body_scale
    from helpers import place_camera

    views = []
    for name in ("131_01", "131_02"):
        world, fps = load_cmu_bvh(shared_file("cmu", f"{name}.bvh"), 30.0)
        world = world.astype(np.float64)
        for direction in ("across", "toward/away"):
            rot, eye = place_camera(world, direction, 65.0, 1.3, 6.0)
            cam = (world - eye) @ rot.T
            focal = focal_from_fov(65.0, (1920, 1080))
            stature = float(np.percentile(world[:, 10, 2], 95))  # the head top over the mocap's floor (z = 0)
            assert 1.0 / body_scale(cam - cam[:, :1], 1.0) == pytest.approx(stature, abs=0.03)
            pixels = project_to_2d(cam, np.array([focal, focal]), CENTRE)
            views.append((f"{name} {direction}", pixels, fps, stature * focal / cam[:, 0, 2]))
    return views


@pytest.mark.data
def test_cmu_walks_lose_nothing_and_every_injected_jump_is_found():
    """Real walks (with starts, stops and turns) projected to 2D: no position rejected. Then jumps, 14
    frames apart, at the first and last frames and everywhere between, each one joint (in turn) or the
    whole body, one or two frames long, 10-40% of the stature in a random direction (4 views x 4
    rounds, about 300 jumps): every jumped position is rejected, and at most one other position in
    a thousand."""
    rng = np.random.default_rng(7)
    found = injected = extra = others = 0
    for name, clean, fps, stature in cmu_views():
        assert not rejected_of(clean, fps).any(), name
        n = len(clean)
        for offset in range(4):
            pixels = clean.copy()
            truth = np.zeros(clean.shape[:2], bool)
            starts = [0] + list(range(7 + 3 * offset, n - 9, 14)) + [n - 2]
            for k, first in enumerate(starts):
                length = 2 if first == n - 2 else 1 + int(rng.integers(2))
                joints = slice(None) if rng.random() < 0.3 else (k + offset) % 17
                angle = rng.uniform(0.0, 2 * math.pi)
                jump = rng.uniform(0.1, 0.4) * stature[first] * np.array([math.cos(angle), math.sin(angle)])
                pixels[first:first + length, joints] += jump
                truth[first:first + length, joints] = True
            rejected = rejected_of(pixels, fps)
            injected += truth.sum()
            found += (rejected & truth).sum()
            extra += (rejected & ~truth).sum()
            others += (~truth).sum()
    assert injected > 1000 and found == injected
    assert extra <= 0.001 * others


@pytest.mark.data
def test_real_boxing_and_jogging_are_not_jumps():
    """HumanEva-I's ground-truth 2D of boxing, jogging, throwing and catching and gestures (3 subjects x
    2 sets x 3 cameras, 60 fps motion capture taken at 30 fps): no position rejected."""
    data = np.load(shared_file("humaneva", "data_2d_humaneva15_gt.npz"), allow_pickle=True)["positions_2d"].item()
    positions = 0
    for subject, actions in data.items():
        for action, views in actions.items():
            if action.split()[0] not in ("Box", "Jog", "ThrowCatch", "Gestures"):
                continue
            for camera, view in enumerate(views):
                pixels = view[::2].astype(np.float64)
                scores = np.isfinite(pixels).all(-1).astype(np.float64)
                rejected = reject_jumps(pixels, scores, 30.0)[1]
                assert not rejected.any(), f"{subject} {action} camera {camera}: {np.argwhere(rejected).tolist()}"
                positions += rejected.size
    assert positions > 100_000


@pytest.mark.slow
@pytest.mark.data
def test_human36m_test_subjects_lose_only_a_glitch_of_the_capture():
    """Every Human3.6M sequence of S9 and S11 through the four cameras at 50 fps (7.7 million positions):
    the one position rejected is a one-frame glitch of the capture itself (S11's right wrist in
    "Phoning 1" at frame 3006, out and back by 6.3% of the body), seen by the camera that sees it
    largest; the other cameras see it at 5.4-5.7%, under the threshold. (Smaller glitches of the
    capture, up to 5.2%, are kept too.)"""
    from gastnet.data.sources import load_dataset_mocap

    mocap = load_dataset_mocap("h36m", shared_file("h36m", "data_3d_h36m.npz").parent.parent)
    found = []
    for subject in ("S9", "S11"):
        for action, world in mocap.positions[subject].items():
            for camera in mocap.cameras(subject):
                pixels = camera.project(camera.world_to_camera(world.astype(np.float64)))
                rejected = rejected_of(pixels, 50.0)
                found += [(subject, action, camera.id, int(t), int(j)) for t, j in np.argwhere(rejected)]
    assert found == [("S11", "Phoning 1", "55011271", 3006, 16)]
