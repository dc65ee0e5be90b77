"""People placed together: one scale per person, so that everybody stands on one floor and people who
touch in the image touch in 3D.

A person's camera-frame poses can be multiplied by any factor about the camera's centre without
changing their image: one camera cannot tell a small person near from a tall one far away. The
lifter gives every body its training subjects' size and the placement puts each root where that
size projects onto the 2D, so each person alone is placed at the distance their assumed size
implies. A child beside an adult comes out too far, and two people who shake hands come out up to a
metre apart. Three things tie the people's scales together (logarithms, solved by least squares):

- **the floor**: everybody stands on one floor, so each person's lowest joint (an ankle, or the
  hands in a handstand) over their steadier half of the frames, where the detector saw it, lies the
  same distance below the camera along the common up direction (the mean pelvis -> thorax
  direction): ``ln s_i + ln b_i = ln h`` for the camera's height ``h`` (one unknown for everybody),
  with an uncertainty that grows as ``b_i`` shrinks (a camera at foot height sees no floor in the
  feet); a person far off everybody's floor (:data:`MAX_FLOOR_SIGMAS`: on a step or a bed) is left
  to the other cues;
- **contacts**: a hand within :data:`TOUCH_FRACTION` of the smaller person's image height from a
  hand, elbow or shoulder of another person, in at least :data:`MIN_TOUCH_FRAMES` frames where the
  detector is sure of both, is taken to touch it: both joints are at one depth, ``ln s_i +
  ln |X_i| = ln s_j + ln |X_j|``. A hand that only passes in front of someone (one person behind
  the other) lies more than :data:`MAX_TOUCH_GAP_M` from the joint it overlaps once the people are
  scaled by the floor and sizes alone, by more than the floor's uncertainty allows, and is not used;
- **sizes**: each scale stays near 1 with the spread of adult statures (:data:`SIZE_SIGMA_LOG`),
  which decides whatever the floor and contacts leave open (the scene's overall scale among them).

:func:`scale_together` returns the scales and what decided them; the pipeline multiplies each
person's camera-frame poses (and fitted skeleton) by their scale before the floor is fitted.

One scale per person moves a whole body along the camera's rays; it cannot move a reaching arm that
the lifter put too far forward or back. :func:`contact_targets` gives, for the frames of each touch
used, where the two joints should be (:data:`TOUCH_GAP_M` apart about their midpoint), for the
kinematic fit (:func:`gastnet.world.fit.fit_person`'s ``targets``) to pose both people to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from ..skeleton import H36M_17
from .placement import body_up

__all__ = ["MAX_TOUCH_GAP_M", "MAX_TOUCH_SIGMAS", "MIN_TOUCH_FRAMES", "SIZE_SIGMA_LOG", "TOUCH_FRACTION", "TOUCH_GAP_M",
           "Contact", "Together", "contact_targets", "find_contacts", "scale_together"]

SIZE_SIGMA_LOG = 0.15
"""Spread (1 sigma of ln) of people's sizes around the lifted size: adults' statures (1.55-1.90 m)
lie within about +-10% of 1.72 m, and a child of 8 is about 0.75 of that; the floor and the
contacts, when they say anything, say it more precisely than this."""

FLOOR_SIGMA_LOG = 0.04
"""Uncertainty (1 sigma of ln) of one person's distance below the camera, as a fraction of it, when
the camera is well above the feet (lifted posture, ankle height); :func:`scale_together` adds
:data:`FLOOR_SIGMA_M` metres of absolute uncertainty on top, which dominates for a low camera."""

FLOOR_SIGMA_M = 0.05
"""Absolute uncertainty (metres) of a person's ankles' distance below the camera."""

CONTACT_SIGMA_LOG = 0.06
"""Uncertainty (1 sigma of ln depth) of a contact: two touching joints' centres are a few
centimetres apart along the view, at a few metres."""

TOUCH_FRACTION = 0.08
"""Two joints of different people closer than this fraction of the smaller one's image height touch:
clasped wrists' centres lie about 5% of the height apart, and a detector's noise (2-3% of the height per
frame, less after :data:`TOUCH_SMOOTH_FRAMES`) spreads them. With a detector's 2D the meeting hands of
``benchmarks/bench_together.py --detector-2d --ratios 0.92 1.0`` end within 0.15 m of the truth's gap in 21
of 30 scenes at 6%, 25 at 7% and 28 at 8% (before :data:`HAND_PREFERENCE`)."""

MIN_TOUCH_FRAMES = 3
"""Frames (where the detector is sure of both joints, confidence >= :data:`MIN_TOUCH_SCORE`) that a
contact must be seen in."""

MIN_TOUCH_SCORE = 0.5

HAND_PREFERENCE = 0.5
"""A hand near both another person's hand and their elbow or shoulder in the image touches the hand
when it is within twice the other's distance (the distances are multiplied by this before the
nearest is taken): seen from the side, a handshake's forearms overlap, and the other's elbow can
project nearer the hand than the hand it holds."""

TOUCH_SMOOTH_FRAMES = 5
"""Frames of the running median the 2D is smoothed with before touches are looked for."""

MAX_FLOOR_SIGMAS = 3.0
"""A person whose lowest joint lies further from everybody's floor than this many of its standard
deviations (after the first solution) is not on that floor (a step, a bed, a table) and is left to
the other cues."""

MAX_TOUCH_GAP_M = 0.4
"""Two joints that overlap in the image but lie further apart than this (metres) with the people
scaled by the floor and sizes alone, a gap the floor is sure of (:data:`MAX_TOUCH_SIGMAS`), are a
hand in front of or behind someone, not a touch."""

MAX_TOUCH_SIGMAS = 3.0
"""A touch is refused only where the floor and sizes put the two joints' depths this many standard
deviations (of their own uncertainty and the touch's) apart; where they cannot tell (a camera at
foot height, one person's feet unseen), the touch decides."""

TOUCH_GAP_M = 0.08
"""Distance (metres) between two touching joints' centres: a wrist's or elbow's centre lies 3-5 cm
inside the skin, so two clasped wrists' centres are about 8 cm apart."""

_HANDS = [H36M_17.index(n) for n in ("left_wrist", "right_wrist")]
_TOUCHABLE = [H36M_17.index(n) for n in ("left_wrist", "right_wrist", "left_elbow", "right_elbow",
                                          "left_shoulder", "right_shoulder")]


@dataclass(frozen=True)
class Contact:
    """A touch between person ``a``'s joint ``joint_a`` and person ``b``'s ``joint_b`` (indices into the
    people and Human3.6M-17), seen where ``index_a`` (F,) of a's frames meet ``index_b`` (F,) of
    b's; ``log_ratio`` = ln(|X_b| / |X_a|), the ratio of their camera-frame distances as lifted
    (median over the frames)."""

    a: int
    b: int
    joint_a: int
    joint_b: int
    index_a: np.ndarray
    index_b: np.ndarray
    log_ratio: float

    @property
    def frames(self) -> int:
        return len(self.index_a)

    def gap_m(self, poses: list[np.ndarray], scales: np.ndarray) -> float:
        """Median 3D distance (metres) of the two joints with the people scaled by ``scales`` (P,)."""
        xa = scales[self.a] * poses[self.a][self.index_a, self.joint_a]
        xb = scales[self.b] * poses[self.b][self.index_b, self.joint_b]
        return float(np.median(np.linalg.norm(xa - xb, axis=-1)))


@dataclass(frozen=True)
class Together:
    """One scale per person (``scales`` (P,)), the contacts used and those set aside, and notes."""

    scales: np.ndarray
    contacts: list[Contact] = field(default_factory=list)
    rejected: list[Contact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_contacts(poses: list[np.ndarray], frames: list[np.ndarray], keypoints: list[np.ndarray],
                  scores: list[np.ndarray]) -> list[Contact]:
    """Where people may touch in the image: per pair of people and pair of joints (a hand of one, a
    hand, elbow or shoulder of the other), the frames where both are sure, their 2D lie within
    :data:`TOUCH_FRACTION` of the smaller person's image height, and the hand's nearest touchable joint
    of the other person is that one, when there are at least :data:`MIN_TOUCH_FRAMES` of them (whether
    they touch in 3D is :func:`scale_together`'s to judge). The 2D is first smoothed by a running
    median over :data:`TOUCH_SMOOTH_FRAMES` frames: a detector's frame-to-frame noise (2-3% of the
    height) is as large as the margin between a touch and a near miss.

    ``poses`` (T_i, 17, 3) camera-frame metres, ``frames`` (T_i,) input frame indices, ``keypoints``
    (T_i, 17, 2) pixels, ``scores`` (T_i, 17), per person."""
    found = []
    smooth = [median_filter(np.asarray(k, np.float64), size=(TOUCH_SMOOTH_FRAMES, 1, 1), mode="nearest")
              for k in keypoints]
    touchable = np.array(_TOUCHABLE)
    hand_rows = np.isin(touchable, _HANDS)
    for a in range(len(poses)):
        for b in range(a + 1, len(poses)):
            common, ia, ib = np.intersect1d(frames[a], frames[b], return_indices=True)
            if len(common) < MIN_TOUCH_FRAMES:
                continue
            ka, kb = smooth[a][ia][:, touchable], smooth[b][ib][:, touchable]
            height = np.minimum(np.ptp(keypoints[a][ia][..., 1], axis=1), np.ptp(keypoints[b][ib][..., 1], axis=1))
            distance = np.linalg.norm(ka[:, :, None] - kb[:, None], axis=-1)  # (F, a's joint, b's joint)
            # a hand's nearest joint of the other person (either way round), the other's hand counting as
            # HAND_PREFERENCE times as near: where an arm overlaps an arm, hands meet hands
            ranked = distance * np.where(hand_rows[:, None] & hand_rows[None, :], HAND_PREFERENCE, 1.0)
            nearest = np.zeros(distance.shape, bool)
            nearest |= hand_rows[None, :, None] & (ranked == ranked.min(2, keepdims=True))
            nearest |= hand_rows[None, None, :] & (ranked == ranked.min(1, keepdims=True))
            sure = ((scores[a][ia][:, touchable] >= MIN_TOUCH_SCORE)[:, :, None]
                    & (scores[b][ib][:, touchable] >= MIN_TOUCH_SCORE)[:, None])
            close = nearest & sure & (distance < TOUCH_FRACTION * height[:, None, None])
            for ra, rb in zip(*np.nonzero(close.sum(0) >= MIN_TOUCH_FRAMES)):
                near = close[:, ra, rb]
                ja, jb = int(touchable[ra]), int(touchable[rb])
                xa, xb = poses[a][ia[near], ja], poses[b][ib[near], jb]
                ratio = np.log(np.linalg.norm(xb, axis=-1) / np.maximum(np.linalg.norm(xa, axis=-1), 1e-6))
                found.append(Contact(a, b, ja, jb, ia[near], ib[near], float(np.median(ratio))))
    return found


def _below_camera(people: list[np.ndarray], scores: list[np.ndarray], up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person the median distance (metres) of their lowest joint below the camera along ``up`` (an
    ankle when standing, walking or sitting; the hands in a handstand) over the steadier half of the
    frames where the detector saw that joint (confidence >= :data:`MIN_TOUCH_SCORE`), and its
    uncertainty in ln (infinite: too few such frames, or the joint not below the camera)."""
    below, sigma = [], []
    for poses, confidence in zip(people, scores):
        heights = poses @ up  # (T, 17): along up, the camera at 0
        lower = np.argmin(heights, axis=1)
        seen = confidence[np.arange(len(poses)), lower] >= MIN_TOUCH_SCORE
        level = heights.min(1)
        if len(level) >= 4:
            speed = np.abs(np.gradient(level))
            seen &= speed <= np.median(speed)
        b = -float(np.median(level[seen])) if seen.sum() >= MIN_TOUCH_FRAMES else 0.0
        below.append(b)
        sigma.append(math.hypot(FLOOR_SIGMA_LOG, FLOOR_SIGMA_M / b) if b > 0 else math.inf)
    return np.array(below), np.array(sigma)


def _solve(count: int, rows: list[tuple[dict[int, float], float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares for ``count`` unknowns from rows (coefficients by index, target, sigma):
    the solution (count,) and its covariance (count, count)."""
    a = np.zeros((len(rows), count))
    y = np.zeros(len(rows))
    for r, (coefficients, target, sigma) in enumerate(rows):
        for index, value in coefficients.items():
            a[r, index] = value / sigma
        y[r] = target / sigma
    return np.linalg.lstsq(a, y, rcond=None)[0], np.linalg.pinv(a.T @ a)


def scale_together(poses: list[np.ndarray], frames: list[np.ndarray], keypoints: list[np.ndarray],
                   scores: list[np.ndarray], names: list[str] | None = None) -> Together:
    """One scale per person so that everybody stands on one floor and touching people touch (see the module).

    ``poses`` (T_i, 17, 3) camera-frame metres (for a turning camera, in one reference camera),
    ``frames`` (T_i,) their input frames, ``keypoints`` (T_i, 17, 2) pixels and ``scores`` (T_i, 17),
    per person; ``names`` name them in the notes (default "person 1", ...). One person (or none)
    keeps scale 1."""
    count = len(poses)
    if count < 2:
        return Together(np.ones(count))
    up = body_up(poses)
    below, floor_sigma = _below_camera(poses, scores, up)
    rows: list[tuple[dict[int, float], float, float]] = [({i: 1.0}, 0.0, SIZE_SIGMA_LOG) for i in range(count)]
    height = count  # the unknown ln of the camera's height above the floor
    rows += [({i: 1.0, height: -1.0}, -math.log(b), s) for i, (b, s) in enumerate(zip(below, floor_sigma))
             if math.isfinite(s)]
    if all(not math.isfinite(s) for s in floor_sigma):
        rows.append(({height: 1.0}, 0.0, 1e3))  # no floor: the height is free, so pin it loosely
    first, covariance = _solve(count + 1, rows)
    off_floor = [i for i, (b, s) in enumerate(zip(below, floor_sigma))
                 if math.isfinite(s) and abs(first[i] + math.log(b) - first[height]) > MAX_FLOOR_SIGMAS * s]
    if off_floor and len(off_floor) < count:  # on a step, a table, a bed: not on everybody's floor
        rows = [r for r in rows if not (height in r[0] and set(r[0]) & set(off_floor))]
        first, covariance = _solve(count + 1, rows)
    used, rejected = [], []
    for contact in find_contacts(poses, frames, keypoints, scores):
        pair = np.zeros(count + 1)
        pair[contact.a], pair[contact.b] = 1.0, -1.0
        spread = math.sqrt(pair @ covariance @ pair + CONTACT_SIGMA_LOG**2)  # of ln s_a - ln s_b before the touch
        if (contact.gap_m(poses, np.exp(first[:count])) > MAX_TOUCH_GAP_M
                and abs(pair @ first - contact.log_ratio) > MAX_TOUCH_SIGMAS * spread):
            rejected.append(contact)
            continue
        used.append(contact)
        rows.append(({contact.a: 1.0, contact.b: -1.0}, contact.log_ratio, CONTACT_SIGMA_LOG))
    scales = np.exp(_solve(count + 1, rows)[0][:count])
    who = names if names is not None else [f"person {i + 1}" for i in range(count)]
    return Together(scales, used, rejected, _notes(scales, used, rejected, who))


def contact_targets(poses: list[np.ndarray], contacts: list[Contact]) -> list[np.ndarray | None]:
    """Where touching joints should be, per person: (T_i, 17, 3) metres, NaN where no touch (None for a
    person who touches nobody).

    ``poses`` (T_i, 17, 3) are the people's camera-frame poses, scaled as :func:`scale_together` found;
    ``contacts`` the touches it used. In each frame of a touch both joints are pulled towards their
    midpoint until :data:`TOUCH_GAP_M` apart (a pair already that close keeps its place); a joint in
    several touches at once gets the mean of its targets.

    >>> a = np.zeros((1, 17, 3)); b = np.zeros((1, 17, 3)); b[0, 16] = (0.0, 0.0, 0.5)
    >>> touch = Contact(0, 1, 13, 16, np.array([0]), np.array([0]), 0.0)
    >>> ta, tb = contact_targets([a, b], [touch])
    >>> ta[0, 13].round(3).tolist(), tb[0, 16].round(3).tolist(), bool(np.isnan(ta[0, 12]).all())
    ([0.0, 0.0, 0.21], [0.0, 0.0, 0.29], True)
    """
    sums = [np.zeros(p.shape) for p in poses]
    counts = [np.zeros(p.shape[:2]) for p in poses]
    for c in contacts:
        xa, xb = poses[c.a][c.index_a, c.joint_a], poses[c.b][c.index_b, c.joint_b]  # (F, 3)
        middle = (xa + xb) / 2
        half = np.linalg.norm(xa - middle, axis=-1, keepdims=True)
        keep = np.minimum(1.0, TOUCH_GAP_M / 2 / np.maximum(half, 1e-9))
        for person, index, joint, x in ((c.a, c.index_a, c.joint_a, xa), (c.b, c.index_b, c.joint_b, xb)):
            sums[person][index, joint] += middle + keep * (x - middle)  # a touch's frames are distinct
            counts[person][index, joint] += 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return [s / n[..., None] if n.any() else None for s, n in zip(sums, counts)]


def _notes(scales: np.ndarray, used: list[Contact], rejected: list[Contact], who: list[str]) -> list[str]:
    """One line on the scales, and one per pair of people whose joints meet in the image."""
    joint = H36M_17.joint_names
    text = ", ".join(f"{name} x{s:.2f}" for name, s in zip(who, scales))
    notes = [f"people placed together (one floor for everybody, sizes near the lifted ones"
             f"{', touching people touching' if used else ''}): scaled {text}"]
    for a, b in sorted({(c.a, c.b) for c in used + rejected}):
        touch = [f"{joint[c.joint_a]}-{joint[c.joint_b]} ({c.frames} frames)" for c in used if (c.a, c.b) == (a, b)]
        apart = [c for c in rejected if (c.a, c.b) == (a, b)]
        if touch:
            notes.append(f"{who[a]} and {who[b]} touch, placed at one depth there: {', '.join(touch)}")
        if apart:
            notes.append(f"{who[a]} and {who[b]} overlap in the image at {len(apart)} pairs of joints that stand more "
                         f"than {MAX_TOUCH_GAP_M:g} m apart in 3D: not taken as touches")
    return notes
