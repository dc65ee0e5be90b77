"""Detections that jump for a frame or two and come back: outliers of a track, not motion.

A detector sometimes puts a joint (or, snapping to someone else, the whole body) somewhere else
for one or two frames. Lifted as given, such a frame becomes a pose that flails and a root that
leaps metres in a frame. :func:`reject_jumps` finds those positions so that they can be marked
missing (score 0) and interpolated by :func:`~gastnet.keypoints.tracks.fill_gaps` like any joint
the detector did not give.

The test (:func:`jump_residuals`): every run of one or two frames of a joint is predicted from the
frames around it, by a straight line through the two frames before the run, one through the two
frames after it, and the straight interpolation between the run's two neighbours. Real motion,
however fast, is hit by at least one of them or missed in different directions: a jab that
shoots out and back is a straight line up to its tip from one side and a straight line from the
other after it; a foot that brakes is missed forwards by the lines from the sides and backwards
by the interpolation across it. A run that jumped off the path and came back is missed the same
way by all three, by about as much as it jumped. The first and last frames of a track have
predictions from one side only: the straight line and the parabola through the three frames
before (or after) them judge them, which tells a jump from a steady acceleration but not from a
sudden one, so a real motion that starts with a jerk in a track's first or last frame can be
taken for a jump there (it is then held at its neighbour's position, which costs one frame of
motion).

What counts as a jump (:func:`reject_jumps`): a miss larger than :data:`JUMP_THRESHOLD` of the
body's size (:func:`body_size`, about the stature for a standing person) at 30 frames per second
or more; at lower rates the threshold grows with the square of the time between frames, like the
misses of real motion. Measured on real motion capture projected to 2D at 30 fps (CMU walks,
HumanEva-I boxing, jogging, throwing and walking; Human3.6M at 50 fps), real motion misses by at
most 4.5% of the size; a joint or a body displaced by 10% of the stature for one or two frames by
about 8.5-10%. A joint whose detections jitter more is judged against :data:`NOISE_FACTOR` times
its jitter instead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["JUMP_THRESHOLD", "NOISE_FACTOR", "REFERENCE_FPS", "WHOLE_BODY_FRACTION", "body_size",
           "jump_residuals", "reject_jumps"]

JUMP_THRESHOLD = 0.06
"""Smallest miss of a rejected position, as a fraction of the body's size (:func:`body_size`), at
:data:`REFERENCE_FPS` or more frames per second."""

REFERENCE_FPS = 30.0
"""Below this rate the threshold grows with ``(REFERENCE_FPS / fps) ** 2`` (at 25 fps to 0.086, at
15 fps to 0.24): the misses of real motion grow with the square of the time between frames."""

NOISE_FACTOR = 8.0
"""A joint is judged against this many times its jitter (:func:`jitter`) where that is more than
the threshold: the noise of a detector on a small or blurred person is not a jump."""

WHOLE_BODY_FRACTION = 0.5
"""A frame in which at least this fraction of the given joints (and at least 3) jumped is rejected
whole: the detector took someone or something else for the person."""


_PASSES = 4  # most judgements of a track: the first with every position, each next without the jumps found


def _running_median(values: np.ndarray, half: int) -> np.ndarray:
    """Median (T,) of the finite ``values`` (T,) within ``half`` frames of each frame; NaN where none is finite."""
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)  # (T, 2 * half + 1)
    some = np.isfinite(windows).any(1)
    result = np.full(len(values), np.nan)
    result[some] = np.nanmedian(windows[some], axis=1)
    return result


def body_size(keypoints: np.ndarray, valid: np.ndarray, fps: float) -> np.ndarray:
    """Body size (T,) pixels: the diagonal of the box around each frame's valid joints, as a running median over a second.

    ``keypoints`` (T, J, 2) pixels, ``valid`` (T, J) bool. For a standing person with hanging arms
    the diagonal is about the stature in pixels (a little more with arms spread, less when
    sitting); the running median follows a person who comes closer, but not a single frame whose
    box one stray joint stretched. Frames with fewer than 2 valid joints take the size of the
    nearest frames that have them; all NaN when no frame has.

    >>> pose = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 40.0]])
    >>> body_size(np.stack([pose, 2 * pose, pose]), np.ones((3, 3), bool), 30.0).tolist()
    [50.0, 50.0, 50.0]
    """
    enough = valid.sum(1) >= 2
    diagonal = np.full(len(keypoints), np.nan)
    if enough.any():
        inside = np.where(valid[enough][..., None], keypoints[enough], np.nan)
        diagonal[enough] = np.linalg.norm(np.nanmax(inside, axis=1) - np.nanmin(inside, axis=1), axis=-1)
    size = _running_median(diagonal, max(1, round(0.5 * fps)))
    known = np.flatnonzero(np.isfinite(size))
    if 0 < len(known) < len(size):
        size = np.interp(np.arange(len(size)), known, size[known])
    return size


def jitter(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each joint's frame-to-frame noise (J,), in the units of ``points`` (T, J, D), ``valid`` (T, J) bool.

    The standard deviation that white noise would have whose second differences had the joint's
    median absolute second difference (over valid frame triples and the D axes; 0 where the joint
    has none). Motion adds to the second differences, which only raises it.

    >>> noise = np.random.default_rng(0).normal(0.0, 2.0, (4000, 1, 2))
    >>> round(float(jitter(noise, np.ones((4000, 1), bool))[0]), 1)
    2.0
    """
    triple = valid[:-2] & valid[1:-1] & valid[2:]  # (T - 2, J)
    second = np.abs(points[:-2] - 2 * points[1:-1] + points[2:])  # (T - 2, J, D)
    result = np.zeros(valid.shape[1])
    for j in range(valid.shape[1]):
        if triple[:, j].any():
            result[j] = 1.4826 * np.median(second[triple[:, j], j]) / np.sqrt(6.0)
    return result


def _consistent_miss(misses: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The smallest component of the available misses along their mean direction; -inf where fewer than 2 are available.

    ``misses``: (position minus prediction (N, J, D), available (N, J) bool) per prediction."""
    total = sum(np.where(ok[..., None], miss, 0.0) for miss, ok in misses)
    direction = total / np.linalg.norm(total, axis=-1, keepdims=True).clip(1e-12)
    along = np.min([np.where(ok, (miss * direction).sum(-1), np.inf) for miss, ok in misses], axis=0)
    count = np.sum([ok for _, ok in misses], axis=0)
    return np.where(count >= 2, along, -np.inf)


def jump_residuals(points: np.ndarray, valid: np.ndarray, anchors: np.ndarray | None = None) -> np.ndarray:
    """How far each position stands off its path as a jump of one or two frames (T, J), in the units of ``points``.

    ``points`` (T, J, D) of consecutive frames (pixels, or metres for a root), ``valid`` (T, J)
    bool: the positions to judge; ``anchors`` (T, J) bool: the positions that predictions may use
    (default ``valid``; leave out jumps already found). Each run of one or two frames is predicted
    from the frames around it (see the module's description); the miss of a frame is the smallest
    component, along the mean direction of all the misses, of the misses of its available
    predictions (at least two are needed; a prediction missed the other way makes it negative).
    The residual of a position is the largest over the runs that hold it of the smallest miss of
    the run's frames, at least 0; NaN where the position is not valid or no run can be judged.

    >>> path = np.arange(8.0)[:, None, None] * [1.0, 0.5]  # a joint moving at constant velocity
    >>> path[4] += (0.0, 3.0)  # and off it by 3 in frame 4
    >>> ok = np.ones((8, 1), bool)
    >>> jump_residuals(path, ok)[:, 0].round(6).tolist()
    [0.0, 0.0, 0.0, 0.0, 3.0, 1.0, 3.0, 3.0]
    >>> jump_residuals(path, ok, anchors=path[..., 1] < 2.5)[:, 0].round(6).tolist()
    [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, nan, nan]

    Frames 5-7 are judged by predictions through frame 4 (the last two by the frames before them
    only); without it, frame 5 is judged with frame 4 as a run of two, and the last two cannot be
    judged. :func:`reject_jumps` judges again without the jumps it found.
    """
    n, joints = valid.shape
    anchors = valid if anchors is None else anchors & valid
    pad = 3
    empty = np.zeros((pad,) + points.shape[1:])
    p = np.concatenate([empty, points, empty])
    none = np.zeros((pad, joints), bool)
    seen, judged = np.concatenate([none, anchors, none]), np.concatenate([none, valid, none])
    residual = np.full(valid.shape, -np.inf)
    for length in (1, 2):
        first = np.arange(pad, pad + n - length + 1)  # each run: padded frames first .. first + length - 1
        last = first + length - 1
        left2, right2 = seen[first - 1] & seen[first - 2], seen[last + 1] & seen[last + 2]
        left3 = left2 & seen[first - 3] & ~right2  # parabolas only where the other side is missing
        right3 = right2 & seen[last + 3] & ~left2
        across = seen[first - 1] & seen[last + 1]
        l1, l2, l3 = p[first - 1], p[first - 2], p[first - 3]
        r1, r2, r3 = p[last + 1], p[last + 2], p[last + 3]
        run = np.full((len(first), joints), np.inf)
        for k in range(length):
            here = p[first + k]
            a, b = k + 1.0, length - k + 0.0  # frames past the run's left neighbour, before its right one
            misses = [
                (here - (l1 + a * (l1 - l2)), left2),
                (here - (r1 + b * (r1 - r2)), right2),
                (here - (l1 + (r1 - l1) * a / (length + 1)), across),
                (here - ((a + 1) * (a + 2) / 2 * l1 - a * (a + 2) * l2 + a * (a + 1) / 2 * l3), left3),
                (here - ((b + 1) * (b + 2) / 2 * r1 - b * (b + 2) * r2 + b * (b + 1) / 2 * r3), right3),
            ]
            run = np.minimum(run, np.where(judged[first + k], _consistent_miss(misses), -np.inf))
        for k in range(length):
            residual[first + k - pad] = np.maximum(residual[first + k - pad], run)
    return np.where(np.isfinite(residual), np.maximum(residual, 0.0), np.nan)


def reject_jumps(keypoints: np.ndarray, scores: np.ndarray, fps: float, frames: np.ndarray | None = None,
                 threshold: float = JUMP_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Set to 0 the scores of detections that jump off a joint's path for a frame or two.

    Args:
        keypoints: (T, J, 2) pixels of one person (a track).
        scores: (T, J) detector confidences; 0 (or a position that is not finite) marks a joint
            the detector did not give, which is neither judged nor used to judge others.
        fps: frames per second of the recording.
        frames: (T,) increasing frame numbers of the rows, when frames without a detection were
            left out (a :class:`~gastnet.keypoints.tracks.PersonTrack`'s ``frames``); None:
            consecutive frames.
        threshold: the smallest miss of a rejected position at 30 fps or more, as a fraction of
            the body's size (:func:`body_size`; see the module's description).

    Returns:
        (scores (T, J) with the rejected positions' set to 0, rejected (T, J) bool). A frame in
        which at least :data:`WHOLE_BODY_FRACTION` of the given joints jumped is rejected whole.

    A one-frame 80 px drop of a joint of a body 400 px tall (20%) is rejected; the smooth motion
    around it is not:

    >>> t = np.arange(12.0)
    >>> kp = np.stack([np.stack([10 * t, 500 + 0 * t], -1), np.stack([10 * t, 100 + 0 * t], -1)], 1)
    >>> kp[7, 1] += (0.0, 80.0)
    >>> scores, rejected = reject_jumps(kp, np.ones((12, 2)), 30.0)
    >>> np.argwhere(rejected).tolist(), scores[7].tolist()
    ([[7, 1]], [1.0, 0.0])
    """
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.asarray(scores, np.float64)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints must be (T, J, 2) pixels, got shape {keypoints.shape}")
    if scores.shape != keypoints.shape[:2]:
        raise ValueError(f"scores must be (T, J) = {keypoints.shape[:2]} like the keypoints, got {scores.shape}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps}")
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive fraction of the body's size, got {threshold}")
    n = len(keypoints)
    if frames is None:
        index = np.arange(n)
    else:
        index = np.asarray(frames)
        if (index.shape != (n,) or not np.issubdtype(index.dtype, np.integer)
                or (n > 1 and (np.diff(index) <= 0).any())):
            raise ValueError(f"frames must be ({n},) increasing integer frame numbers, got {index.dtype} "
                             f"{index.shape}" + (" not increasing" if index.shape == (n,) else ""))
        index = index - index[0] if n else index
    if n < 3:
        return scores.copy(), np.zeros(scores.shape, bool)
    span = int(index[-1]) + 1  # frames without a detection are in the span, not valid
    given = (scores > 0) & np.isfinite(keypoints).all(-1)
    points = np.zeros((span,) + keypoints.shape[1:])
    valid = np.zeros((span, keypoints.shape[1]), bool)
    points[index] = np.where(given[..., None], keypoints, 0.0)
    valid[index] = given
    size = body_size(points, valid, fps)
    if not np.isfinite(size).any():  # no frame with two joints: nothing to judge by
        return scores.copy(), np.zeros(scores.shape, bool)
    limit = size[:, None] * np.maximum(threshold * max(1.0, (REFERENCE_FPS / fps) ** 2),
                                       NOISE_FACTOR * jitter(points, valid) / np.nanmedian(size))  # (T, J) pixels
    jumped = np.zeros(valid.shape, bool)
    with np.errstate(invalid="ignore"):  # NaN: not judged
        for _ in range(_PASSES):  # judge again with predictions that leave out what jumped
            again = jump_residuals(points, valid, valid & ~jumped) > limit
            if (again == jumped).all():
                break
            jumped = again
    jumped = jumped[index] & given
    whole = jumped.sum(1) >= np.maximum(3, WHOLE_BODY_FRACTION * given.sum(1))
    rejected = jumped | (whole[:, None] & given)
    return np.where(rejected, 0.0, scores), rejected
