"""One person, one track: a person who steps out again from behind someone keeps their identity.

The tracker (:func:`gastnet.keypoints.tracks.link_detections`) keeps a person's track while they go
unseen for up to ``max_gap`` frames (half a second at 30 fps); someone hidden longer behind another
person comes back as a new track. :func:`join_hidden` joins such pieces after tracking, with the
whole clip in view, when all of these say it is the same person (keypoints carry no appearance, so
size, position and the occluder are the cues):

- **time**: the later piece starts after the earlier one ends, at most :data:`MAX_HIDDEN_S` seconds later;
- **size**: their standing heights (the tracker's estimate from the bones seen, robust to a half
  hidden body; median of the :data:`_ENDS` detections at the ends) differ by at most
  :data:`MAX_SIZE_CHANGE` (a person does not grow while hidden; walking towards the camera for two
  seconds at 1.4 m/s from 8 m changes the size by about 40%, so this also bounds the hidden time
  that can be bridged for a person coming nearer);
- **position**: the later piece starts within :data:`REACH` person heights, plus
  :data:`REACH_PER_S` heights per second hidden (walking pace is 0.8 heights a second), of where
  the earlier one was lost or of where its motion was heading;
- **hidden**: in at least half the frames between, another track's box (its keypoints' box,
  grown by a tenth of its height) covers where the person was lost: they went behind someone.
  Someone who leaves the picture and someone else who enters are not joined.

A join that is not clear (another candidate piece within :data:`AMBIGUITY` of its cost, either
way) is not made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tracks import PersonTrack, centres_and_heights

__all__ = ["join_hidden", "MAX_HIDDEN_S", "MAX_SIZE_CHANGE", "REACH", "REACH_PER_S", "AMBIGUITY"]

MAX_HIDDEN_S = 3.0
"""Longest time, seconds, a person may stay hidden behind someone and keep their identity."""
MAX_SIZE_CHANGE = 1.3
"""Largest ratio between the heights of the two pieces (either way)."""
REACH = 0.5
"""How far, in person heights, the later piece may start from where the earlier was lost, at once."""
REACH_PER_S = 1.0
"""How much farther per second hidden, in person heights (walking pace is about 0.8)."""
AMBIGUITY = 0.25
"""How much cheaper a join must be than its rivals to be made (costs are about 0 for a sure join, 2 at the gates)."""
_ENDS = 5  # detections at each end of a piece that its size and position are taken from
_COVERED = 0.5  # share of the hidden frames in which someone must cover the place the person was lost


@dataclass
class _Ends:
    """A piece's first and last frame, and its centre (2,), velocity (2,) per frame and height (pixels) at each end."""

    first: int
    last: int
    start: np.ndarray
    end: np.ndarray
    velocity: np.ndarray
    start_height: float
    end_height: float


def _ends(track: PersonTrack) -> _Ends | None:
    centres, heights = centres_and_heights(track.keypoints, track.scores)
    good = np.isfinite(heights)
    if good.sum() < 2:
        return None
    frames, centres, heights = track.frames[good], centres[good], heights[good]
    head, tail = slice(0, _ENDS), slice(-_ENDS, None)
    velocity = np.zeros(2)
    if len(frames) >= 2 * _ENDS:  # the mean motion over the last detections
        late, early = slice(-_ENDS, None), slice(-2 * _ENDS, -_ENDS)
        dt = np.median(frames[late]) - np.median(frames[early])
        velocity = (np.median(centres[late], 0) - np.median(centres[early], 0)) / max(dt, 1.0)
    return _Ends(int(track.frames[0]), int(track.frames[-1]), np.median(centres[head], 0), np.median(centres[tail], 0),
                 velocity, float(np.median(heights[head])), float(np.median(heights[tail])))


def _boxes(track: PersonTrack) -> dict[int, np.ndarray]:
    """Frame -> (x0, y0, x1, y1) pixels of the track's given keypoints, grown by a tenth of its height
    (frames with fewer than two given joints have none)."""
    given = np.isfinite(track.keypoints).all(-1) & (np.nan_to_num(track.scores) > 0)  # (T, J)
    ok = given.sum(1) >= 2
    points = np.where(given[ok][..., None], track.keypoints[ok], np.nan)  # (F, J, 2)
    low, high = np.nanmin(points, axis=1), np.nanmax(points, axis=1)
    grow = 0.1 * (high[:, 1:] - low[:, 1:])
    return dict(zip(track.frames[ok].tolist(), np.concatenate([low - grow, high + grow], axis=1)))


def _covered(point: np.ndarray, frames: range, boxes: list[dict[int, np.ndarray]]) -> float:
    """Share of ``frames`` in which some box holds ``point``."""
    if not len(frames):
        return 1.0
    hit = 0
    for f in frames:
        hit += any(f in b and b[f][0] <= point[0] <= b[f][2] and b[f][1] <= point[1] <= b[f][3] for b in boxes)
    return hit / len(frames)


def _cost(a: _Ends, b: _Ends, fps: float) -> float:
    """How unlike piece ``b`` is to a continuation of ``a`` (about 0: sure; inf: a gate forbids it)."""
    gap = b.first - a.last
    if gap < 1 or gap > MAX_HIDDEN_S * fps + 1:
        return np.inf
    size = abs(np.log(b.start_height / a.end_height))
    if size > np.log(MAX_SIZE_CHANGE):
        return np.inf
    height = (a.end_height + b.start_height) / 2
    heading = a.end + a.velocity * gap
    apart = min(np.linalg.norm(b.start - a.end), np.linalg.norm(b.start - heading)) / height
    reach = REACH + REACH_PER_S * gap / fps
    if apart > reach:
        return np.inf
    return float(apart / reach + size / np.log(MAX_SIZE_CHANGE))


def join_hidden(tracks: list[PersonTrack], fps: float) -> tuple[list[PersonTrack], list[str]]:
    """The tracks with the pieces of one person hidden behind someone joined (see the module), and a note per join.

    Args:
        tracks: Human3.6M-17 tracks, keypoints (T, 17, 2) pixels, scores (T, 17), in any order.
        fps: frames per second of the tracks (the gates are in seconds).

    A joined track keeps the earlier piece's id and holds both pieces' detections (the frames between
    are missing: :func:`~gastnet.keypoints.tracks.fill_gaps` fills them), in the place of the earlier piece.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    ends = [_ends(t) for t in tracks]
    boxes: dict[int, dict[int, np.ndarray]] = {}  # built only for the tracks an occluder is looked for among
    n = len(tracks)
    cost = np.full((n, n), np.inf)  # cost[a, b]: b continues a
    for i, a in enumerate(ends):
        for j, b in enumerate(ends):
            if a is None or b is None or i == j:
                continue
            c = _cost(a, b, fps)
            if np.isfinite(c):
                for k in set(range(n)) - {i, j} - set(boxes):
                    boxes[k] = _boxes(tracks[k])
                others = [boxes[k] for k in range(n) if k not in (i, j)]
                if _covered(a.end, range(a.last + 1, b.first), others) >= _COVERED:
                    cost[i, j] = c
    joined: dict[int, int] = {}  # later piece -> earlier piece
    notes = []
    for flat in np.argsort(cost, axis=None):
        i, j = divmod(int(flat), n)
        c = cost[i, j]
        if not np.isfinite(c):
            break
        if i in joined.values() or j in joined:
            continue
        rivals = np.concatenate([np.delete(cost[i], j), np.delete(cost[:, j], i)])
        if (rivals < c + AMBIGUITY).any():
            continue
        joined[j] = i
        a, b = ends[i], ends[j]
        assert a is not None and b is not None
        notes.append(f"track {tracks[j].track_id} joined to track {tracks[i].track_id}: one person, hidden behind "
                     f"someone for {b.first - a.last - 1} frames (same size within "
                     f"{100 * abs(b.start_height / a.end_height - 1):.0f}%, back where they were heading)")
    root = {}
    for j in range(n):
        k = j
        while k in joined:
            k = joined[k]
        root[j] = k
    out = []
    for i in sorted(set(root.values())):
        parts = sorted((k for k in range(n) if root[k] == i), key=lambda k: int(tracks[k].frames[0]))
        if len(parts) == 1:
            out.append(tracks[i])
            continue
        out.append(PersonTrack(tracks[i].track_id, np.concatenate([tracks[k].frames for k in parts]),
                               np.concatenate([tracks[k].keypoints for k in parts]),
                               np.concatenate([tracks[k].scores for k in parts])))
    return out, notes
