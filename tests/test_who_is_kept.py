"""Who is kept: in every frame the people who matter most there, and one identity for a person hidden a while."""

import numpy as np
import pytest

from gastnet.examples import synthetic_walk_2d
from gastnet.keypoints.people import most_prominent
from gastnet.keypoints.rejoin import join_hidden
from gastnet.keypoints.tracks import PersonTrack, link_detections

SIZE = (1280, 720)
FPS = 30.0
FRAMES = 100
_WALK = synthetic_walk_2d(FRAMES, (SIZE[1], SIZE[1])).astype(np.float64)  # about 347 px tall, pelvis at (360, 360)


def walker_2d(tall: float, x0: float, speed: float, feet_y: float, seed: int) -> np.ndarray:
    """A walker (T, 17, 2) pixels, ``tall`` px high, pelvis starting at x0 and moving ``speed`` px per frame,
    feet at ``feet_y``, with detector-like noise (1% of the height)."""
    rng = np.random.default_rng(seed)
    kp = (_WALK - [360.0, _WALK[..., 1].max()]) * (tall / 347.0)
    kp = kp + np.stack([x0 + speed * np.arange(FRAMES), np.full(FRAMES, feet_y)], -1)[:, None]
    return kp + rng.normal(0, 0.01 * tall, kp.shape)


def track(track_id: int, kp: np.ndarray, frames: range, confidence: float = 0.9) -> PersonTrack:
    return PersonTrack(track_id, np.array(frames), kp[np.array(frames)], np.full((len(frames), 17), confidence))


def test_a_foreground_person_who_comes_late_is_kept_over_small_people_there_all_along():
    """The issue's street clip: two small people in the background all along, and a woman at 45% of the
    image height in the last 20 frames only. With --people 2 she is kept from her first frame, the smaller
    background person is cut where she comes, and no frame holds more than 2 people."""
    far = [track(0, walker_2d(80.0, 150.0, 1.0, 300.0, 0), range(FRAMES)),
           track(1, walker_2d(70.0, 1100.0, -1.0, 290.0, 1), range(FRAMES))]
    woman = track(2, walker_2d(0.45 * SIZE[1], 500.0, 3.0, 700.0, 2), range(80, FRAMES))
    kept, notes = most_prominent([*far, woman], 2, SIZE, FRAMES)
    assert [t.track_id for t in kept] == [0, 1, 2]
    assert kept[2] is woman and kept[0] is far[0]
    np.testing.assert_array_equal(kept[1].frames, np.arange(80))  # the smaller one gives way where she comes
    count = np.zeros(FRAMES, int)
    for t in kept:
        count[t.frames] += 1
    assert count.max() == 2 and (count == 2).all()
    assert notes == [notes[0]] and notes[0].startswith("track 1: kept in frames 0-79 only, its other 20 frames dropped")
    assert "more prominent there: tracks 0, 2" in notes[0]
    # one person allowed: the woman from frame 80, the larger background person before her
    kept, notes = most_prominent([*far, woman], 1, SIZE, FRAMES)
    assert [(t.track_id, int(t.frames[0]), int(t.frames[-1])) for t in kept] == [(0, 0, 79), (2, 80, 99)]
    assert notes[1].startswith("dropped track 1: only the 1 most prominent person is kept in any frame (--people 1), "
                               "and it is among them in 0 of its 100 frames")


def test_a_moment_of_being_half_hidden_does_not_swap_who_is_kept():
    """Two people of about the same size; one is half hidden (its box half as tall) for 6 frames: the running
    median keeps the same two people in every frame, rather than cutting either of them."""
    a = track(0, walker_2d(300.0, 300.0, 0.0, 650.0, 0), range(FRAMES))
    b = track(1, walker_2d(280.0, 900.0, 0.0, 650.0, 1), range(FRAMES))
    c = track(2, walker_2d(200.0, 600.0, 0.0, 600.0, 2), range(FRAMES))
    b.keypoints[40:46, :, 1] = np.minimum(b.keypoints[40:46, :, 1], b.keypoints[40:46, 0:1, 1])  # legs hidden
    kept, notes = most_prominent([a, b, c], 2, SIZE, FRAMES)
    assert [t.track_id for t in kept] == [0, 1] and kept[1] is b
    assert notes[0].startswith("dropped track 2")


def occluded_scene() -> tuple[list[list[tuple[np.ndarray, np.ndarray]]], range]:
    """Per-frame detections (as a detector gives them, in varying order) of a large person standing in front
    at x = 640, a woman walking behind them from left to right (hidden while her pelvis is behind their
    box, about a second) and a small person far away; and the frames the woman is hidden in."""
    front = walker_2d(420.0, 640.0, 0.0, 710.0, 0)
    woman = walker_2d(0.45 * SIZE[1], 380.0, 4.0, 640.0, 1)
    far = walker_2d(90.0, 1100.0, -0.5, 330.0, 2)
    low, high = front[..., 0].min(1), front[..., 0].max(1)
    hidden = (woman[:, 0, 0] > low - 20) & (woman[:, 0, 0] < high + 20)
    frames = []
    order = np.random.default_rng(3)
    for t in range(FRAMES):
        people = [(front[t], np.full(17, 0.95)), (far[t], np.full(17, 0.8))]
        if not hidden[t]:
            people.append((woman[t], np.full(17, 0.9)))
        frames.append([people[i] for i in order.permutation(len(people))])
    gone = np.flatnonzero(hidden)
    return frames, range(int(gone[0]), int(gone[-1]) + 1)


def test_a_person_who_steps_out_from_behind_someone_keeps_one_identity():
    detections, gone = occluded_scene()
    assert len(gone) > 15  # longer than the tracker coasts: it gives her two tracks
    tracks = link_detections(detections)
    assert len(tracks) == 4
    joined, notes = join_hidden(tracks, FPS)
    assert len(joined) == 3
    (woman,) = [t for t in joined if int(t.frames[0]) == 0 and len(t) == FRAMES - len(gone)]  # both pieces
    assert int(woman.frames[-1]) == FRAMES - 1 and not np.isin(woman.frames, gone).any()
    assert len(notes) == 1 and f"hidden behind someone for {len(gone)} frames" in notes[0]
    # with --people 2 she is kept after stepping out, one person throughout
    kept, _ = most_prominent(joined, 2, SIZE, FRAMES)
    assert woman.track_id in [t.track_id for t in kept]


def test_pieces_are_not_joined_without_an_occluder_a_like_size_or_a_near_place():
    detections, gone = occluded_scene()
    tracks = link_detections(detections)
    later = max(tracks, key=lambda t: int(t.frames[0]))
    (earlier,) = [t for t in tracks if int(t.frames[-1]) == gone[0] - 1]
    # nobody in front: she left the picture, and someone else came in
    assert len(join_hidden([earlier, later], FPS)[0]) == 2
    others = [t for t in tracks if t is not later and t is not earlier]
    grown = PersonTrack(later.track_id, later.frames, (later.keypoints - later.keypoints[:, :1]) * 1.5 + later.keypoints[:, :1],
                        later.scores)
    assert len(join_hidden([*others, earlier, grown], FPS)[0]) == 4  # half as tall again: someone else
    far = PersonTrack(later.track_id, later.frames, later.keypoints + [0.0, -600.0], later.scores)
    assert len(join_hidden([*others, earlier, far], FPS)[0]) == 4  # 600 px (1.9 heights) away after a second
    late = PersonTrack(later.track_id, later.frames + 100, later.keypoints, later.scores)
    assert len(join_hidden([*others, earlier, late], FPS)[0]) == 4  # over 3 s hidden
    with pytest.raises(ValueError, match="fps must be positive"):
        join_hidden(tracks, 0.0)
