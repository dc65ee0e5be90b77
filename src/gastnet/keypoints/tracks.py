"""People over time: per-frame detections linked into tracks, and gaps filled.

A :class:`PersonTrack` holds one person's Human3.6M-17 keypoints for consecutive frames.
:func:`link_detections` follows people from frame to frame (one joint assignment per frame on
where each track's motion puts its person, their pose and their size; a detection that could be
either of two people goes to neither, so that no track passes from one person to another);
:func:`fill_gaps` fills what the detector did not give
(frames without the person, joints marked missing) by linear interpolation over time and joints
never given by a documented stand-in, keeps every position the detector did give however
uncertain, and says how much it filled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..skeleton import H36M_17

__all__ = ["DEFAULT_KEYPOINT_FPS", "PersonTrack", "link_detections", "fill_gaps", "FillReport", "centres_and_heights"]

DEFAULT_KEYPOINT_FPS = 30.0
"""Frames per second of keypoints whose source does not say (files, arrays, image folders) and of a
video or camera whose own rate is unusable."""


@dataclass
class PersonTrack:
    """One person: frame indices (T,), keypoints (T, 17, 2) pixels and scores (T, 17) in [0, 1]."""

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class FillReport:
    """What :func:`fill_gaps` changed in one track."""

    track_id: int
    frames: int
    missing_frames: int = 0  # frames without a detection inside the track's span
    interpolated_joints: int = 0  # joint positions interpolated over time
    stand_in_joints: list[str] = field(default_factory=list)  # joints never seen, replaced by the stand-in
    filled: np.ndarray | None = None  # (T, 17) bool: True where the position was made up (interpolated or stand-in)

    @property
    def filled_fraction(self) -> float:
        total = self.frames * H36M_17.num_joints
        stand_in = len(self.stand_in_joints) * self.frames
        return (self.interpolated_joints + stand_in) / max(total, 1)


CONFIDENT = 0.3
"""Joints scored above this count when detections are compared (all given joints if fewer than 3 are)."""
MIN_HITS = 3
"""Detections a track needs to be *confirmed*: confirmed tracks choose first, newer ones take what is left."""
HISTORY = 15
"""Latest detections of a track that its motion (constant velocity and growth) is fitted to."""
MAX_SHAPE = 0.3
"""Largest layout difference accepted: the mean joint distance between size-normalised keypoint layouts."""
MAX_SHAPE_CROWDED = 0.08
"""The same for a detection within the position gate of two tracks or more: people overlap there, and a
detector that sees one skeleton where two people overlap often mixes their joints."""
MIXED_MARGIN = 0.03
"""Where people overlap, a detection whose limbs lie nearer different people's expected limbs (each track's
median layout placed where its motion puts it), each by more than this many person heights (mean over the
limb's joints), mixes them: it goes to no track. Three times the detector's noise (about 1% of the
height); on the synthetic crossings of ``tests/test_tracking.py`` it leaves 2% of the mixtures in
tracks (21% without this test) for 4% of the people's own detections left out in crowded frames (3%
without; a frame left out is interpolated, a mixed one would be lifted). Only tracks seen within
``max_gap`` frames judge: a lost track's limbs are guesses."""
MAX_SIZE_RATIO = 1.6
"""Largest change of size accepted between a track's expected size and a detection's (either way)."""
GAP_GROWTH = 0.05
"""How fast the position and shape gates widen while a track goes unseen: by this fraction per frame missed."""
UNMATCHED_COST = 1.0
"""What leaving a track and a detection both unmatched costs: a pair that costs more is never matched."""
AMBIGUITY = 0.1
"""How much cheaper a match must be than its rivals (another track for its detection, another detection
for its track) to stand; otherwise it is ambiguous and neither is matched."""

_LAYOUTS = 5  # latest detections whose median layout a track is compared by
_MIN_FIT = 4  # detections a track needs before its motion is fitted (until then it is expected where it was)
_MAX_GROWTH_RATE = 0.03  # fastest change of size fitted, per frame (log): someone walking at a camera
_MAX_GROWTH = float(np.log(1.5))  # a coasting track's size is extrapolated by at most 50% either way
_TORSO = (0, 1, 4, 7, 8, 11, 14)  # Human3.6M-17 pelvis, hips, spine, thorax, shoulders
_LIMBS = ((0, 7, 8), (9, 10), (1, 2, 3), (4, 5, 6), (11, 12, 13), (14, 15, 16))  # Human3.6M-17 parts a detector mixes
# Human3.6M-17 segments and their typical lengths as fractions of a standing height (Human3.6M and CMU
# motion capture): pelvis to head top, thighs, shins, pelvis to thorax, upper arms, forearms, thorax to head top
_SEGMENTS = (((0, 10), 0.45), ((1, 2), 0.29), ((4, 5), 0.29), ((2, 3), 0.29), ((5, 6), 0.29), ((0, 8), 0.32),
             ((11, 12), 0.18), ((14, 15), 0.18), ((12, 13), 0.16), ((15, 16), 0.16), ((8, 10), 0.16))
_DIAGONAL_HEIGHTS = 1.15  # the diagonal of a walking person's keypoints, in heights
_PAIRS = [np.triu_indices(n, 1) for n in range(HISTORY + 1)]


def _median(values: np.ndarray) -> np.ndarray:
    """Median (K,) of ``values`` (N, K) over N (``np.median`` costs several times more on arrays this small)."""
    ordered = np.sort(values, axis=0)
    n = len(values)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def _centre_and_height(points: list[list[float]], seen: list[bool]) -> tuple[float, float, float]:
    """Centre (x, y) and height of one Human3.6M-17 person (pixels; plain Python: faster than numpy for one
    person). The centre is the mean of the torso joints seen (of all joints seen if fewer than 2 torso
    joints are); the height the 80th percentile over the segments seen (pelvis to head top and the bones)
    of their length over their typical share of a standing height: the segments least shortened by
    pointing at the camera; 0 if fewer than 3 are seen."""
    torso = [points[j] for j in _TORSO if seen[j]]
    if len(torso) < 2:
        torso = [p for p, s in zip(points, seen) if s]
    x = sum(p[0] for p in torso) / len(torso)
    y = sum(p[1] for p in torso) / len(torso)
    ratios = sorted(math.hypot(points[a][0] - points[b][0], points[a][1] - points[b][1]) / share
                    for (a, b), share in _SEGMENTS if seen[a] and seen[b])
    height = ratios[round(0.8 * (len(ratios) - 1))] if len(ratios) >= 3 else 0.0
    return x, y, height


def centres_and_heights(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a Human3.6M-17 person is and how tall they look, per frame, as the tracker measures them:
    centres (T, 2) and heights (T,) in pixels from keypoints (T, 17, 2) pixels and scores (T, 17).

    The joints used are those finite and scored above :data:`CONFIDENT` (else above 0, else all finite
    ones, whichever first gives 3); the centre is the mean of the torso joints, the height the standing
    height the bones seen imply (see :func:`_centre_and_height`: robust to a person cut by an edge or
    half hidden), NaN where fewer than 3 segments are seen.
    """
    kp, sc = np.asarray(keypoints, np.float64), np.nan_to_num(np.asarray(scores, np.float64))
    if kp.ndim != 3 or kp.shape[1:] != (17, 2) or sc.shape != kp.shape[:2]:
        raise ValueError(f"expected keypoints (T, 17, 2) and scores (T, 17), found {kp.shape} and {sc.shape}")
    centres, heights = np.full((len(kp), 2), np.nan), np.full(len(kp), np.nan)
    finite = np.isfinite(kp).all(-1)
    for t in range(len(kp)):
        seen = finite[t] & (sc[t] > CONFIDENT)
        for fallback in (finite[t] & (sc[t] > 0), finite[t]):
            if seen.sum() < 3:
                seen = fallback
        if not seen.any():
            continue
        x, y, height = _centre_and_height(kp[t].tolist(), seen.tolist())
        centres[t] = x, y
        heights[t] = height if height > 0 else np.nan
    return centres, heights


class _Frame:
    """The detections of one frame prepared for matching, (D, ...) arrays in pixels.

    ``mask`` (D, J): the joints compared (finite, scored above :data:`CONFIDENT`, else above 0,
    else all finite ones, whichever first gives 3); ``centre`` (D, 2) and ``size`` (D,), the
    person's height: see :func:`_centre_and_height` (for other layouts than Human3.6M-17: the mean
    of the joints and the diagonal of their box); ``layout`` (D, J, 2): (keypoints - centre) /
    size, 0 where not compared; ``usable`` (D,): has a joint to place it by.
    """

    def __init__(self, people: list[tuple[np.ndarray, np.ndarray]], frame: int) -> None:
        self.keypoints: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        for i, (kp, sc) in enumerate(people):
            kp, sc = np.asarray(kp, dtype=np.float64), np.asarray(sc, dtype=np.float64)
            if kp.ndim != 2 or kp.shape[1] != 2 or sc.shape != kp.shape[:1] or (self.keypoints and
                                                                                kp.shape != self.keypoints[0].shape):
                expected = f"{len(self.keypoints[0])} joints like the first person" if self.keypoints else "J joints"
                raise ValueError(f"frame {frame}, person {i}: expected keypoints (J, 2) and scores (J,) with {expected}, "
                                 f"found shapes {kp.shape} and {sc.shape}")
            self.keypoints.append(kp)
            self.scores.append(sc)
        if not people:
            return
        kp, sc = np.array(self.keypoints), np.array(self.scores)  # (D, J, 2), (D, J)
        mask = sc > CONFIDENT
        clean = bool(np.isfinite(kp).all() and np.isfinite(sc).all())
        if not clean or mask.sum(-1).min() < 3:  # rare: fall back row by row
            finite = np.isfinite(kp).all(-1) & np.isfinite(sc)
            mask &= finite
            given = finite & (sc > 0)
            mask = np.where((mask.sum(-1) >= 3)[:, None], mask, np.where((given.sum(-1) >= 3)[:, None], given, finite))
            kp = np.where(mask[..., None], kp, 0.0)
        self.mask, self.usable, self.points = mask, mask.any(-1), kp
        if kp.shape[1] == 17:
            points, seen = kp.tolist(), mask.tolist()
            found = [_centre_and_height(p, s) if any(s) else (0.0, 0.0, 0.0) for p, s in zip(points, seen)]
            self.centre = np.array([f[:2] for f in found])
            self.size = np.array([f[2] for f in found])
        else:
            self.centre = np.einsum("dj,djk->dk", mask / np.maximum(mask.sum(-1, keepdims=True), 1), kp)
            self.size = np.zeros(len(kp))
        if (self.size < 1.0).any():  # too few segments seen (or another layout): the diagonal of what is seen
            low, high = np.where(mask[..., None], kp, np.inf).min(1), np.where(mask[..., None], kp, -np.inf).max(1)
            diagonal = np.linalg.norm(np.where(self.usable[:, None], high - low, 0.0), axis=-1) / _DIAGONAL_HEIGHTS
            self.size = np.where(self.size < 1.0, diagonal, self.size)
        self.size = np.maximum(self.size, 1.0)
        self.layout = np.where(mask[..., None], (kp - self.centre[:, None]) / self.size[:, None, None], 0.0)

    def __len__(self) -> int:
        return len(self.keypoints)


class _Track:
    """A track being linked: its detections, and its motion and layout (refitted at each detection)."""

    def __init__(self, track_id: int, frame: int, dets: _Frame, d: int) -> None:
        self.track_id = track_id
        self.frames: list[int] = []
        self.keypoints: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        self.seen = -1  # the last frame with a usable detection
        self.heir_of: _Track | None = None  # the lost track this one most likely continues
        # the latest usable detections, in no particular order (rings): frames, centre x, y and log size
        # (HISTORY,), layouts (_LAYOUTS, J, 2) (inf where a joint was not compared), and their count
        joints = len(dets.keypoints[d])
        self._times, self._values = np.zeros(HISTORY), np.zeros((HISTORY, 3))
        self._layouts = np.full((_LAYOUTS, joints, 2), np.inf)
        self._count = 0
        self.mask, self.layout = np.zeros(joints, dtype=bool), np.zeros((joints, 2))  # the median layout and its joints
        self.add(frame, dets, d)

    def add(self, frame: int, dets: _Frame, d: int) -> None:
        self.frames.append(frame)
        self.keypoints.append(dets.keypoints[d])
        self.scores.append(dets.scores[d])
        if not dets.usable[d]:
            return
        self.seen = frame
        self._times[self._count % HISTORY] = frame
        self._values[self._count % HISTORY] = dets.centre[d, 0], dets.centre[d, 1], math.log(dets.size[d])
        self._layouts[self._count % _LAYOUTS] = np.where(dets.mask[d][:, None], dets.layout[d], np.inf)
        self._count += 1
        n, k = min(self._count, HISTORY), min(self._count, _LAYOUTS)
        # per joint, the median layout over the latest detections that compared it
        ordered = np.sort(self._layouts[:k], axis=0)  # not compared last
        if ordered[-1, :, 0].max() < np.inf:  # every joint compared every time: the middle rows
            self.mask, self.layout = np.ones(len(self.mask), dtype=bool), (ordered[(k - 1) // 2] + ordered[k // 2]) / 2
        else:
            count = (ordered[..., 0] < np.inf).sum(0)
            joints = np.arange(len(count))
            middle = ordered[np.maximum(count - 1, 0) // 2, joints] + ordered[np.minimum(count // 2, k - 1), joints]
            self.mask = count > 0
            self.layout = np.where(self.mask[:, None], middle / 2, 0.0)
        # Theil-Sen line: the median of the pairwise slopes, and the median level carried to this frame;
        # a wrong detection or two among the latest move neither
        times, values = self._times[:n], self._values[:n]
        if n < _MIN_FIT:  # too few to tell a motion from the detector's noise: standing still
            slope, level = np.zeros(3), _median(values)
        else:
            i, j = _PAIRS[n]
            slope = _median((values[j] - values[i]) / (times[j] - times[i])[:, None])
            slope[2] = min(max(slope[2], -_MAX_GROWTH_RATE), _MAX_GROWTH_RATE)
            level = _median(values + slope * (frame - times)[:, None])
        self._slope, self._level = slope.tolist(), level.tolist()

    def predict(self, frame: int) -> tuple[float, float, float]:
        """Centre x, y and size (pixels) expected at ``frame``: constant velocity and growth since the last detection."""
        ahead = frame - self.seen
        (x, y, size), (vx, vy, growth) = self._level, self._slope
        return x + vx * ahead, y + vy * ahead, math.exp(size + min(max(growth * ahead, -_MAX_GROWTH), _MAX_GROWTH))


def _mixtures(dets: _Frame, crowded: np.ndarray, within: np.ndarray, expected: np.ndarray, both: np.ndarray,
              sizes: np.ndarray) -> np.ndarray:
    """(D,) bool: the crowded detections whose limbs (:data:`_LIMBS`) lie nearer different tracks' expected
    limbs (``expected`` (T, J, 2) pixels, ``both`` (T, D, J) the joints compared; only the tracks
    ``within`` (T, D) count: not the lost ones), each by more than
    :data:`MIXED_MARGIN` of the track's height: one skeleton made of two people."""
    mixed = np.zeros(len(dets), dtype=bool)
    if dets.points.shape[1] != 17:
        return mixed
    for d in np.flatnonzero(crowded):
        near = np.flatnonzero(within[:, d])
        if len(near) < 2:  # one track: no second person to have lent it limbs
            continue
        apart = np.linalg.norm(dets.points[d][None] - expected[near], axis=-1) / sizes[near, None]  # (K, J)
        compared = both[near, d]  # (K, J)
        owners = set()
        for limb in _LIMBS:
            seen = compared[:, limb].all(0)  # the limb's joints compared with every near track
            if not seen.any():
                continue
            distance = apart[:, np.array(limb)[seen]].mean(-1)  # (K,)
            first, second = np.partition(distance, 1)[:2]
            if second - first > MIXED_MARGIN:
                owners.add(int(np.argmin(distance)))
        mixed[d] = len(owners) > 1
    return mixed


def _costs(tracks: list[_Track], dets: _Frame, frame: int, max_distance: float,
           max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost (T, D) of giving each detection to each track, :data:`UNMATCHED_COST` where a gate forbids it;
    the rivals (T, D): the same cost before the shape and size gates, inf outside the position gate; and
    the mixtures (D,) (:func:`_mixtures`), which no track may take. A detection within the position gate
    of two tracks is held to :data:`MAX_SHAPE_CROWDED`."""
    cost = np.full((len(tracks), len(dets)), UNMATCHED_COST)
    rivals = np.full(cost.shape, np.inf)
    mixed = np.zeros(len(dets), dtype=bool)
    live = [i for i, t in enumerate(tracks) if t.seen >= 0]
    if not live or not len(dets) or not dets.usable.any():
        return cost, rivals, mixed
    tr = [tracks[i] for i in live]
    predicted = np.array([t.predict(frame) for t in tr])
    centres, sizes = predicted[:, :2], predicted[:, 2]  # (T, 2), (T,)
    seen = np.array([t.seen for t in tr], dtype=np.float64)  # (T,) the frame each track was last seen in
    layouts = np.array([t.layout for t in tr])  # (T, J, 2) size-normalised
    slack = 1.0 + GAP_GROWTH * (frame - seen - 1.0)  # (T,)
    offset = dets.centre[None] - centres[:, None]
    position = np.sqrt(np.einsum("tdk,tdk->td", offset, offset)) / (sizes * slack)[:, None]
    both = np.array([t.mask for t in tr])[:, None] & dets.mask[None]  # (T, D, J)
    apart = layouts[:, None] - dets.layout[None]
    apart = np.sqrt(np.einsum("tdjk,tdjk->tdj", apart, apart))
    common = both.sum(-1)
    shape = np.where(common >= 3, (apart * both).sum(-1) / np.maximum(common, 1), np.inf) / slack[:, None]
    size = np.abs(np.log(dets.size[None] / sizes[:, None]))
    within = (position <= max_distance) & dets.usable[None]
    crowded = within.sum(0) >= 2  # (D,): where a detector mixes people up
    if crowded.any():  # only where people overlap can a detection mix them
        expected = centres[:, None] + layouts * sizes[:, None, None]  # (T, J, 2) pixels
        recent = frame - seen <= max_gap  # not the lost tracks: their limbs are guesses
        mixed = _mixtures(dets, crowded, within & recent[:, None], expected, both, sizes)
    allowed = within & (shape <= np.where(crowded, MAX_SHAPE_CROWDED, MAX_SHAPE)) & (size <= np.log(MAX_SIZE_RATIO))
    allowed &= ~mixed[None]
    total = position + shape + size
    cost[live] = np.where(allowed, np.minimum(total, UNMATCHED_COST), UNMATCHED_COST)
    rivals[live] = np.where(within, total, np.inf)
    return cost, rivals, mixed


def _assign(cost: np.ndarray, rivals: np.ndarray, ignores: np.ndarray,
            distinct: np.ndarray) -> tuple[list[tuple[int, int]], set[int]]:
    """The clear matches (track, detection) of the joint assignment, and the detections left out as ambiguous.

    The assignment minimises the total cost (Hungarian method); a pair costing
    :data:`UNMATCHED_COST` counts as no match, so that it is never worth matching wrong pairs to
    match more. A match stands only if no other track and no other detection of another person
    (``distinct[d, e]``: detection ``e`` is not a second skeleton of the same person as ``d``)
    comes within :data:`AMBIGUITY` of its cost, by ``rivals`` (costs where the shape and size gates
    do not apply: a detection that a gate keeps from its track is still a reason to doubt another;
    ``ignores[t, i]``: track ``t`` has no rival in track ``i``). A detection about as near two
    tracks (two people overlapping, or a skeleton that mixes both), or a track about as near two
    people, is left unmatched.
    """
    if cost.size == 0:
        return [], set()
    rows, cols = linear_sum_assignment(cost)
    table = rivals.tolist()  # small: plain Python from here
    matches, ambiguous = [], set()
    for t, d in zip(rows.tolist(), cols.tolist()):
        if cost[t, d] >= UNMATCHED_COST:
            continue
        c = table[t][d]
        rival_track = min((row[d] for i, row in enumerate(table) if i != t and not ignores[t, i]), default=np.inf)
        rival_detection = min((x for j, x in enumerate(table[t]) if j != d and distinct[d, j]), default=np.inf)
        if min(rival_track, rival_detection) < c + AMBIGUITY:
            ambiguous.add(d)
        else:
            matches.append((t, d))
    return matches, ambiguous


def link_detections(
    detections: list[list[tuple[np.ndarray, np.ndarray]]], max_gap: int = 15, max_distance: float = 0.5
) -> list[PersonTrack]:
    """Link per-frame people into tracks, so that no track ever passes from one person to another.

    Args:
        detections: for every frame, a list of (keypoints (J, 2) pixels, scores (J,) in [0, 1]),
            in any order; Human3.6M-17 (J = 17) is placed by its torso and sized by its bones,
            other layouts by all their joints.
        max_gap: frames a person may go unseen (hidden behind someone, missed by the detector)
            and keep their track.
        max_distance: the position gate: the largest distance between where a track expects its
            person and a detection's centre, in the person's heights, for a track seen in the
            previous frame; it widens by :data:`GAP_GROWTH` of itself per frame missed.

    The rules of each frame's assignment are :class:`_Linker`'s. Returns the tracks numbered in
    order of first appearance, each holding its detections as given (keypoints (T, J, 2), scores
    (T, J), float64). Costs about 0.5 ms per frame with two people, 1 ms with four, on one core of
    a busy 2-core machine.
    """
    if max_gap < 0:
        raise ValueError(f"max_gap must be 0 or more frames, got {max_gap}")
    if not max_distance > 0:
        raise ValueError(f"max_distance must be a positive fraction of the person's height, got {max_distance}")
    linker = _Linker(max_gap, max_distance)
    for frame, people in enumerate(detections):
        linker.step(frame, _Frame(people, frame))
    return [PersonTrack(t.track_id, np.array(t.frames), np.array(t.keypoints, dtype=np.float64),
                        np.array(t.scores, dtype=np.float64))
            for t in sorted(linker.finished + linker.alive, key=lambda t: t.track_id)]


class _Linker:
    """The tracks of :func:`link_detections` as the frames come, one :meth:`step` per frame.

    Each frame is one joint assignment (Hungarian method) of its detections to the tracks seen
    within ``max_gap`` frames, on a cost that adds, for each pair:

    - **position**: the distance between the detection's centre (mean of the torso joints) and
      where the track's motion puts the person now (constant velocity, fitted robustly to its
      last :data:`HISTORY` detections), in the person's heights, over the gate's widening:
      walkers who cross are told apart by where each is heading, and a person hidden for a few
      frames is looked for where they walked to;
    - **shape**: the mean distance between the joints of the size-normalised keypoint layouts
      ((keypoints - centre) / height; the track's is the median of its last five), so that a person
      facing left is not taken for one facing right, nor a skeleton mixing two people for either;
    - **size**: ``|log(detection height / expected height)|``, the expected height following
      the track's growth (people walking towards or away from the camera).

    A pair outside a gate (``max_distance``, :data:`MAX_SHAPE`, :data:`MAX_SIZE_RATIO`; where a
    detection is within the position gate of two tracks, people overlap and a detector mixes
    their joints, so the shape gate tightens to :data:`MAX_SHAPE_CROWDED`, and a detection whose
    limbs lie nearer the expected limbs of different tracks is a mixture of those people:
    :data:`MIXED_MARGIN`) is never matched. A
    match that is not clear (:data:`AMBIGUITY` against every other track, and every other
    detection that is not a second skeleton of the same person) is dropped: its track misses that
    frame rather than risk a swap. A track lost for more than ``max_gap`` frames stays a rival
    for ``max_gap`` frames more (of every track but the one that starts where it was lost), so
    that the track of someone it was crossing cannot take its person. Confirmed tracks
    (:data:`MIN_HITS` detections) choose first; newer tracks take what is left. A detection left
    over starts a new track, unless it was ambiguous, lies within the position gate of two
    confirmed tracks (someone between two tracked people is more likely the detector mixing
    them), is a mixture or is a second skeleton of someone already placed: such detections are in no track.

    """

    def __init__(self, max_gap: int, max_distance: float):
        self.max_gap, self.max_distance = max_gap, max_distance
        self.alive: list[_Track] = []  # seen within max_gap frames
        self.lost: list[_Track] = []  # confirmed tracks ended within the last max_gap frames: rivals, never matched
        self.finished: list[_Track] = []
        self.next_id = 0

    def step(self, frame: int, dets: _Frame) -> None:
        """Match frame ``frame``'s detections to the tracks, start new tracks, retire old ones."""
        self.lost = [t for t in self.lost if frame - t.frames[-1] <= 2 * self.max_gap]
        confirmed = [t for t in self.alive if len(t.frames) >= MIN_HITS]
        newer = [t for t in self.alive if len(t.frames) < MIN_HITS]
        rows = confirmed + self.lost + newer
        c, g = len(confirmed), len(self.lost)
        cost, rivals, mixed = _costs(rows, dets, frame, self.max_distance, self.max_gap)
        # two skeletons of one person (centres within a tenth of their height) are no rivals of each other
        apart = np.linalg.norm(dets.centre[:, None] - dets.centre[None], axis=-1) if len(dets) else np.zeros((0, 0))
        distinct = apart > 0.1 * np.maximum(dets.size[:, None], dets.size[None]) if len(dets) else apart > 0
        # a lost track is a rival of every track but the one that most likely continues it
        ignores = np.zeros((len(rows), len(rows)), dtype=bool)
        for t, track in enumerate(rows):
            if track.heir_of is not None and track.heir_of in self.lost:
                ignores[t, c + self.lost.index(track.heir_of)] = True
        # confirmed tracks choose first; lost ones take nothing but still make a detection ambiguous
        first = np.full(cost.shape, UNMATCHED_COST)
        first[:c] = cost[:c]
        matches, ambiguous = _assign(first, rivals, ignores, distinct)
        taken = {d for _, d in matches}
        # newer tracks take what is left, with every track and detection as rivals
        later: list[tuple[int, int]] = []
        doubtful: set[int] = set()
        if newer:
            second = np.full(cost.shape, UNMATCHED_COST)
            left = [d for d in range(len(dets)) if d not in taken and d not in ambiguous]
            second[c + g :, left] = cost[c + g :, left]
            later, doubtful = _assign(second, rivals, ignores, distinct)
        for t, d in matches + later:
            rows[t].add(frame, dets, d)
            taken.add(d)
        refused = ambiguous | doubtful | {d for d in range(len(dets)) if mixed[d]}
        self._start(frame, dets, taken, refused, rivals, c, distinct)
        self._retire(frame)

    def _start(self, frame: int, dets: _Frame, taken: set[int], refused: set[int], rivals: np.ndarray, c: int,
               distinct: np.ndarray) -> None:
        """Start a track with each detection left, unless it was ambiguous or a mixture (``refused``),
        lies between two confirmed tracks or is a second skeleton of someone already placed."""
        g = len(self.lost)
        between = np.isfinite(rivals[:c]).sum(0) >= 2
        for d in range(len(dets)):
            if d in taken or d in refused or between[d] or not distinct[d, list(taken)].all():
                continue
            taken.add(d)
            track = _Track(self.next_id, frame, dets, d)
            self.next_id += 1
            if g and np.isfinite(rivals[c : c + g, d]).any():
                track.heir_of = self.lost[int(np.argmin(rivals[c : c + g, d]))]
            self.alive.append(track)

    def _retire(self, frame: int) -> None:
        """Tracks unseen for more than ``max_gap`` frames end (confirmed ones stay rivals a while)."""
        still = []
        for track in self.alive:
            if frame - track.frames[-1] <= self.max_gap:
                still.append(track)
            else:
                self.finished.append(track)
                if len(track.frames) >= MIN_HITS:
                    self.lost.append(track)
        self.alive = still


def fill_gaps(track: PersonTrack, missing_below: float = 0.0) -> tuple[PersonTrack, FillReport]:
    """Every frame of the track's span with every joint filled; only what the detector did not give is made up.

    The rule (missing vs uncertain):

    - A joint is *missing* where its position is not finite or its score is at most
      ``missing_below`` (default 0: score 0 is how COCO (v = 0), OpenPose (0, 0, 0) and the
      readers here (negative coordinates) mark a joint that was not detected), and in frames
      without a detection inside the track's span. Missing positions are interpolated linearly in
      time between the nearest given positions of that joint (held constant beyond the first and
      last one); their score is 0 and ``report.filled`` marks them.
    - An *uncertain* joint (any score above ``missing_below``) keeps the detector's position and
      score. Scores are often visibility rather than position quality (MediaPipe's far-side elbow
      of a boxer has visibility 0.1 and the right position), and the network was trained with
      detector errors, so its own guess beats an interpolation across a punch. Users who want
      to discard uncertain joints have the scores in every output.
    - Joints never given in the whole track (a person cut off at the waist: the paper's
      upper-body case) get a stand-in: the leg hangs straight down below its hip, with thigh and
      shin each as long as the spine (pelvis to thorax), so the model sees a standing posture.
    """
    first, last = int(track.frames[0]), int(track.frames[-1])
    span = np.arange(first, last + 1)
    kp = np.full((len(span), 17, 2), np.nan)
    sc = np.zeros((len(span), 17))
    kp[track.frames - first] = track.keypoints
    sc[track.frames - first] = track.scores
    report = FillReport(track.track_id, len(span), missing_frames=len(span) - len(track.frames))
    given = (sc > missing_below) & np.isfinite(kp).all(-1)
    never = [j for j in range(17) if not given[:, j].any()]
    for j in range(17):
        if j in never:
            continue
        good = given[:, j]
        bad = ~good
        report.interpolated_joints += int(bad.sum())
        for axis in range(2):
            kp[bad, j, axis] = np.interp(span[bad], span[good], kp[good, j, axis])
    if never:
        if 0 in never or 8 in never:
            raise ValueError(f"track {track.track_id}: the pelvis or thorax is never detected; "
                             "the keypoints are too incomplete to lift")
        spine = np.linalg.norm(kp[:, 8] - kp[:, 0], axis=-1, keepdims=True)
        down = np.stack([np.zeros(len(span)), np.ones(len(span))], -1)  # image y grows downwards
        for hip, knee, ankle in H36M_17.legs():
            if hip in never:
                side = -1.0 if hip == 1 else 1.0  # right hip on the image left of a facing person
                kp[:, hip] = kp[:, 0] + side * 0.25 * spine * np.array([1.0, 0.0])
            if knee in never:
                kp[:, knee] = kp[:, hip] + spine * down
            if ankle in never:
                kp[:, ankle] = kp[:, knee] + spine * down
        for j in never:
            if not np.isfinite(kp[:, j]).all():  # other joints: the thorax stands in
                kp[:, j] = kp[:, 8]
        report.stand_in_joints = [H36M_17.joint_names[j] for j in never]
    report.filled = ~given
    sc = np.where(given, sc, 0.0)
    return PersonTrack(track.track_id, span, kp, sc), report
