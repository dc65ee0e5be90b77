"""Two signs, in the 2D over time, that a track is a thing and not a person (used by
:func:`gastnet.keypoints.people.screen_tracks`).

- **Rigid** (:func:`rigid_motion`): the keypoints turn and move as one piece. The keypoints are
  averaged over 5 frames (the detector's frame-to-frame noise is not a change of shape), then each
  frame's layout is aligned to the track's median layout by a similarity (shift, turn, scale: 2D
  Procrustes); what is left (the median over frames of the RMS joint distance, over the layout's
  height) is how much the shape itself changes. Under :data:`RIGID_CHANGE` (1%) while the layout
  turns by at least :data:`RIGID_TURN_DEG` (20 degrees, 5th to 95th percentile of its angle), the
  track is a thing. Measured on tracks built in ``tests/test_not_a_person.py`` (Human3.6M mocap
  through a virtual camera, detector noise 0.5-2% of the height): an upside-down skeleton swinging
  15 degrees either way (a punching bag found as a person) changes 0.3% (0.5% noise) to 1.2% (2%
  noise) and turns 28 degrees; a cartwheel whose legs and arms open and close by 5 degrees, 1.4-1.6%
  (by 15 degrees, 4.1%); sitting down 1.7-2.3%, a handstand's sway 2.2-2.5%; walking, waiting and
  boxing 2-6%. People who hold still (sitting: 0.4-1.3%) do not turn (1-8 degrees), nor does a
  fixed or panning camera turn them. The limit: a thing seen through heavy detector noise (2%)
  passes, and a cartwheel done as a perfectly stiff star (0.4-1.0%) would be dropped.
- **Inside someone** (:func:`inside_another`): a short track (under :data:`SHORT_S` seconds) whose
  keypoints lie inside another, longer track's box (grown by a tenth of its height) in at least
  :data:`INSIDE_SHARE` of its frames: a second skeleton found on someone (a limb or what they hold,
  such as a bag at a boxer's side), not someone else. A person glimpsed behind another for under
  a second is dropped too: too little to lift; one seen longer, or beside them, is kept.
"""

from __future__ import annotations

import numpy as np

from .tracks import PersonTrack

__all__ = ["rigid_motion", "inside_another", "RIGID_CHANGE", "RIGID_TURN_DEG", "SHORT_S", "INSIDE_SHARE"]

RIGID_CHANGE = 0.01
"""Largest change of shape (RMS joint distance after a similarity alignment, over the height) of a rigid track."""
RIGID_TURN_DEG = 20.0
"""Smallest turn of a rigid track's layout (5th to 95th percentile of its angle), degrees, for it to be a thing."""
SHORT_S = 1.0
"""Longest a track found inside someone may last (seconds) and still be taken for a second skeleton of them."""
_SMOOTH = 5  # frames averaged before the shape is compared
INSIDE_SHARE = 0.8
"""Share of its keypoints and frames inside another track's box that makes a short track part of them."""


def _given(track: PersonTrack) -> np.ndarray:
    return np.isfinite(track.keypoints).all(-1) & (np.nan_to_num(track.scores) > 0)


def rigid_motion(track: PersonTrack) -> tuple[float, float]:
    """How much a track's shape changes (RMS joint distance after aligning each frame's layout to the
    median one by shift, turn and scale, over the layout's height: median over frames) and how far its
    layout turns (degrees, 5th to 95th percentile of the angle); (inf, 0) with under 6 joints given
    in every frame or under 2 frames."""
    joints = _given(track).all(0)
    if joints.sum() < 6 or len(track) < 2:
        return float("inf"), 0.0
    kp = track.keypoints[:, joints]
    if len(kp) >= _SMOOTH:  # a running mean over _SMOOTH frames: the detector's noise, frame to frame, is not shape
        kernel = np.ones(_SMOOTH) / _SMOOTH
        kp = np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="valid"), 0, kp)
    z = kp[..., 0] + 1j * kp[..., 1]
    z = z - z.mean(-1, keepdims=True)  # (T, J) centred
    template = z[len(z) // 2]
    for _ in range(2):  # align to a frame, then to the median of the aligned layouts
        a = (np.conj(z) * template).sum(-1) / np.maximum((np.abs(z) ** 2).sum(-1), 1e-12)  # (T,) similarity
        aligned = a[:, None] * z
        template = np.median(aligned.real, 0) + 1j * np.median(aligned.imag, 0)
    a = (np.conj(z) * template).sum(-1) / np.maximum((np.abs(z) ** 2).sum(-1), 1e-12)
    residual = np.sqrt((np.abs(a[:, None] * z - template) ** 2).mean(-1))
    height = max(float(np.ptp(template.imag)), 1e-6)
    angle = np.degrees(np.unwrap(np.angle(a)))
    low, high = np.percentile(angle, [5, 95])
    return float(np.median(residual) / height), float(high - low)


def _box(points: np.ndarray) -> np.ndarray:
    low, high = points.min(0), points.max(0)
    grow = 0.1 * (high[1] - low[1])
    return np.concatenate([low - grow, high + grow])


def inside_another(track: PersonTrack, others: list[PersonTrack]) -> tuple[float, int | None]:
    """The largest share of ``track``'s frames in which at least :data:`INSIDE_SHARE` of its given keypoints lie
    inside one longer track's box (its given keypoints' box grown by a tenth of its height), and that track's id."""
    given = _given(track)
    best, who = 0.0, None
    for other in others:
        if other is track or len(other) <= len(track):
            continue
        frames, mine, theirs = np.intersect1d(track.frames, other.frames, return_indices=True)
        if not len(frames):
            continue
        inside = 0
        their_given = _given(other)
        for i, j in zip(mine, theirs):
            if their_given[j].sum() < 2 or not given[i].any():
                continue
            x0, y0, x1, y1 = _box(other.keypoints[j][their_given[j]])
            p = track.keypoints[i][given[i]]
            share = np.mean((p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1))
            inside += share >= INSIDE_SHARE
        if inside / len(track) > best:
            best, who = inside / len(track), int(other.track_id)
    return best, who
