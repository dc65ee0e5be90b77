"""Detections that jump for a frame or two and come back: outliers of a track, not motion.

A detector sometimes puts a joint (or, snapping to someone else, the whole body) somewhere else
for one or two frames. Lifted as given, such a frame becomes a pose that flails and a root that
leaps metres in a frame. :func:`reject_jumps` finds those positions so that they can be marked
missing (score 0) and interpolated by :func:`~gastnet.keypoints.tracks.fill_gaps` like any joint
the detector did not give; :func:`gastnet.world.placement.root_jumps` runs the same test on
the root's path.

The test (:func:`jump_residuals`): every run of one or two frames of a joint is predicted from the
frames around it, by a straight line through the two frames before the run, one through the two
after it and the straight interpolation between the run's two neighbours (and, for one frame,
lines through the two frames beyond its neighbours, so that a frame next to a jump is not judged
through it); and again by the parabolas through the three frames on either side with the
interpolation, which a steady acceleration does not miss. Real motion, however fast, is hit by one
of a set or missed in different directions: a jab that shoots out and back is a straight line up
to its tip from one side and from the other after it; a foot that brakes is missed forwards by the
lines from the sides and backwards by the interpolation across it. A run that jumped off the path
and came back is missed the same way by every prediction of both sets, by about as much as it
jumped. The first and last frames of a track have predictions from one side only (the line and the
parabola): they tell a jump from a steady acceleration but not from a sudden one, so a motion that
starts with a jerk in a track's first or last frame can be taken for a jump there (the position is
then held at its neighbour's, which costs one frame of motion).

What counts as a jump (:func:`reject_jumps`): every prediction misses by more than
:data:`JUMP_THRESHOLD` of the body's size (:func:`body_size`, about the stature for a standing
person) at 30 frames per second or more (at lower rates the threshold grows with the square of the
time between frames, like the misses of real motion), and by more than :data:`NOISE_FACTOR` times
the noise it carries from the joint's jitter (:func:`jitter`). On real motion capture projected to
2D, real motion misses by at most 3.7% of the size (HumanEva-I boxing and jogging at 30 fps; CMU
walks, 1.4%); a joint or a body displaced by 10% of the stature misses by 8.5-10%.
"""

from __future__ import annotations

import numpy as np

from ..geometry.shapes import check_shape

__all__ = ["JUMP_THRESHOLD", "NOISE_FACTOR", "REFERENCE_FPS", "WHOLE_BODY_FRACTION", "body_size", "find_jumps",
           "jitter", "jump_residuals", "reject_jumps"]

JUMP_THRESHOLD = 0.06
"""Smallest miss of a rejected position, as a fraction of the body's size (:func:`body_size`), at
:data:`REFERENCE_FPS` or more frames per second."""

REFERENCE_FPS = 30.0
"""Below this rate the threshold grows with ``(REFERENCE_FPS / fps) ** 2`` (at 25 fps to 0.086, at
15 fps to 0.24): the misses of real motion grow with the square of the time between frames."""

NOISE_FACTOR = 5.0
"""Each prediction must also miss by this many times the noise it carries (the joint's jitter,
:func:`jitter`, times the prediction's gain on white noise: 1.2 for an interpolation, 2.4 for a
line extended by a frame, 4.5 for a parabola): the noise of a detector on a small or blurred person
is not a jump. With noise of 1% of the stature per coordinate (6 px on a 640 px person), about 2 in
100,000 positions of the CMU and HumanEva-I motions are rejected."""

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


def jitter(points: np.ndarray, valid: np.ndarray, block: int | None = None) -> np.ndarray:
    """Each joint's frame-to-frame noise (T, J), in the units of ``points`` (T, J, D); ``valid`` (T, J) bool.

    The standard deviation of the white noise whose second differences would have the joint's
    median absolute second difference, over the D axes and the valid frame triples of the whole
    track (``block`` None) or, to follow noise that changes along a track (a person walking away
    from the camera), of the frames of each ``block`` of frames and the blocks on either side (the
    whole track where those have fewer than 3 triples). 0 for a joint never in a valid triple.
    Motion adds to the second differences, which only raises it.

    >>> noise = np.random.default_rng(0).normal(0.0, 2.0, (4000, 1, 2))
    >>> round(float(jitter(noise, np.ones((4000, 1), bool))[0, 0]), 1)
    2.0
    """
    n, joints = valid.shape
    result = np.zeros((n, joints))
    if n < 3:
        return result
    triple = np.zeros(valid.shape, bool)
    triple[1:-1] = valid[:-2] & valid[1:-1] & valid[2:]  # frame t: the triple t - 1, t, t + 1
    second = np.zeros(points.shape)
    second[1:-1] = np.abs(points[:-2] - 2 * points[1:-1] + points[2:])
    scale = 1.4826 / np.sqrt(6.0)  # median |x| = 0.6745 sigma; a second difference has sqrt(6) sigma
    block = n if block is None else max(1, block)
    for j in range(joints):
        if not triple[:, j].any():
            continue
        for start in range(0, n, block):
            around = slice(max(0, start - block), start + 2 * block)  # the block and its neighbours
            ok = triple[around, j]
            source = second[around, j][ok] if ok.sum() >= 3 else second[triple[:, j], j]
            result[start:start + block, j] = scale * np.median(source)
    return result


def _line(near: np.ndarray, far: np.ndarray, steps: float) -> tuple[np.ndarray, float]:
    """The straight line through ``far`` and ``near`` (one frame apart) ``steps`` frames past ``near``,
    and how much it multiplies white noise (the root of the sum of its squared weights, with the
    predicted position's own)."""
    return near + steps * (near - far), float(np.sqrt(1 + (1 + steps) ** 2 + steps**2))


def _parabola(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, steps: float) -> tuple[np.ndarray, float]:
    """The parabola through ``p3``, ``p2``, ``p1`` (consecutive frames) ``steps`` frames past ``p1``, and its noise gain."""
    w1, w2, w3 = (steps + 1) * (steps + 2) / 2, -steps * (steps + 2), steps * (steps + 1) / 2
    return w1 * p1 + w2 * p2 + w3 * p3, float(np.sqrt(1 + w1**2 + w2**2 + w3**2))


def _agreement(here: np.ndarray, predictions: list[tuple[np.ndarray, float, np.ndarray]], bound: np.ndarray,
               variance: np.ndarray) -> np.ndarray:
    """By how much every available prediction (guess (N, J, D), noise gain, available (N, J)) misses ``here``
    (N, J, D) the same way beyond its allowance (the larger of ``bound`` (N, J) and NOISE_FACTOR times
    its gain times the noise along the misses' mean direction, from ``variance`` (N, J, D)); -inf where
    fewer than two are available."""
    misses = [(here - guess, gain, ok) for guess, gain, ok in predictions]
    total = sum(np.where(ok[..., None], miss, 0.0) for miss, _, ok in misses)
    direction = total / np.linalg.norm(total, axis=-1, keepdims=True).clip(1e-12)
    spread = np.sqrt((direction**2 * variance).sum(-1))  # the noise along that direction
    along = np.min([np.where(ok, (miss * direction).sum(-1) - np.maximum(bound, NOISE_FACTOR * gain * spread), np.inf)
                    for miss, gain, ok in misses], axis=0)
    return np.where(np.sum([ok for _, _, ok in misses], axis=0) >= 2, along, -np.inf)


def jump_residuals(points: np.ndarray, valid: np.ndarray, anchors: np.ndarray | None = None,
                   limit: np.ndarray | float = 0.0, noise: np.ndarray | float = 0.0) -> np.ndarray:
    """By how much each position stands off its path as a jump of one or two frames (T, J), in the units of ``points``.

    Args:
        points: (T, J, D) of consecutive frames (pixels, or metres for a root).
        valid: (T, J) bool: the positions to judge.
        anchors: (T, J) bool: the positions that predictions may use (default ``valid``; leave
            out jumps already found).
        limit: (T, J) or a number: the miss that every prediction must exceed.
        noise: (T, J, D), (T, J) or a number: the standard deviation of each position's noise (per
            axis, or the same on every axis; :func:`jitter`); every prediction must also miss by more than
            :data:`NOISE_FACTOR` times the noise it carries (a line extended by one frame carries
            2.4 times the noise of a single position, a parabola extended by two, 10.5 times).

    Each run of one or two frames is predicted from the frames around it (see the module's
    description). A frame's miss is the smallest over its available predictions (at least two are
    needed) of the component of the prediction's miss along the mean direction of them all, less
    the prediction's allowance (the larger of ``limit`` and the noise term); a prediction missed
    the other way makes it negative. The residual of a position is the largest over the runs that
    hold it of the smallest miss of the run's frames; NaN where the position is not valid or no
    run can be judged. A position with a positive residual jumped.

    >>> path = np.arange(8.0)[:, None, None] * [1.0, 0.5]  # a joint moving at constant velocity
    >>> path[4] += (0.0, 3.0)  # and off it by 3 in frame 4
    >>> ok = np.ones((8, 1), bool)
    >>> jump_residuals(path, ok)[:, 0].round(6).tolist()
    [0.0, 0.0, 1.0, 1.0, 3.0, 1.5, 3.0, 3.0]
    >>> jump_residuals(path, ok, anchors=path[..., 1] < 2.5)[:, 0].round(6).tolist()
    [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, nan, nan]

    The frames around frame 4 are judged by predictions through it (the last two by the frames
    before them only); without it they are not, and the last two cannot be judged at all:
    :func:`find_jumps` judges again without the jumps it found.
    """
    n, joints = valid.shape
    anchors = valid if anchors is None else anchors & valid
    limit = np.broadcast_to(np.asarray(limit, np.float64), valid.shape)
    noise = np.asarray(noise, np.float64)
    noise = noise[..., None] if noise.ndim == 2 else noise
    variance = np.broadcast_to(np.square(noise), points.shape)
    pad = 3
    p = np.concatenate([np.zeros((pad,) + points.shape[1:]), points, np.zeros((pad,) + points.shape[1:])])
    none = np.zeros((pad, joints), bool)
    seen, judged = np.concatenate([none, anchors, none]), np.concatenate([none, valid, none])
    bound = np.concatenate([np.zeros((pad, joints)), limit, np.zeros((pad, joints))])
    var = np.concatenate([np.zeros((pad,) + points.shape[1:]), variance, np.zeros((pad,) + points.shape[1:])])
    residual = np.full(valid.shape, -np.inf)
    for length in (1, 2):
        first = np.arange(pad, pad + n - length + 1)  # each run: padded frames first .. first + length - 1
        last = first + length - 1
        left2, right2 = seen[first - 1] & seen[first - 2], seen[last + 1] & seen[last + 2]
        across = seen[first - 1] & seen[last + 1]
        left3, right3 = left2 & seen[first - 3], right2 & seen[last + 3]
        l1, l2, l3 = p[first - 1], p[first - 2], p[first - 3]
        r1, r2, r3 = p[last + 1], p[last + 2], p[last + 3]
        run = np.full((len(first), joints), np.inf)
        for k in range(length):
            here = p[first + k]
            a, b = k + 1.0, length - k + 0.0  # frames past the run's left neighbour, before its right one
            w = a / (length + 1)
            line_l, line_r = _line(l1, l2, a), _line(r1, r2, b)
            curve_l, curve_r = _parabola(l1, l2, l3, a), _parabola(r1, r2, r3, b)
            between = ((1 - w) * l1 + w * r1, float(np.sqrt(1 + (1 - w) ** 2 + w**2)))
            lines = [(*line_l, left2), (*line_r, right2), (*between, across),
                     (*curve_l, left3 & ~right2 & ~across), (*curve_r, right3 & ~left2 & ~across)]
            if length == 1:  # over the neighbour: a frame next to a jump is not taken for one through it
                lines += [(*_line(l2, l3, 2.0), left2 & seen[first - 3]), (*_line(r2, r3, 2.0), right2 & seen[last + 3])]
            curves = [(*curve_l, left3), (*curve_r, right3), (*between, across)]  # steady accelerations cancel
            along = np.maximum(*[_agreement(here, family, bound[first + k], var[first + k]) for family in (lines, curves)])
            run = np.minimum(run, np.where(judged[first + k], along, -np.inf))
        for k in range(length):
            residual[first + k - pad] = np.maximum(residual[first + k - pad], run)
    return np.where(np.isfinite(residual), residual, np.nan)


def find_jumps(points: np.ndarray | tuple[np.ndarray, ...], valid: np.ndarray, limit: np.ndarray | float,
               noise: np.ndarray | float | tuple[np.ndarray | float, ...] = 0.0) -> np.ndarray:
    """Positions (T, J) bool of ``points`` (T, J, D) that jumped: a positive :func:`jump_residuals` for
    ``limit`` and ``noise`` (see there).

    ``points`` may also be a tuple of views of the same positions judged apart, each (T, J, D_i)
    with its own ``noise`` in a tuple (a root's direction and its far noisier depth): a position
    jumped if it did in any view. Judged up to four times: each time again with predictions that
    leave out the jumps found the time before (in every view), so that a position is not taken
    for a jump because its predictions went through one (a position that can no longer be judged
    then did not jump). ``valid`` (T, J) bool: the positions to judge and to judge by.

    >>> path = np.zeros((10, 1, 1))
    >>> path[[3, 9]] = 5.0  # off by 5 in frame 3 and in the last frame
    >>> np.flatnonzero(find_jumps(path, np.ones((10, 1), bool), 1.0)).tolist()
    [3, 9]
    """
    views = points if isinstance(points, tuple) else (points,)
    noises = noise if isinstance(noise, tuple) else (noise,) * len(views)
    if len(noises) != len(views):
        raise ValueError(f"one noise per view of the points was expected: {len(views)} views, {len(noises)} noises")
    jumped = np.zeros(valid.shape, bool)
    for _ in range(_PASSES):
        again = np.zeros(valid.shape, bool)
        for view, sigma in zip(views, noises):
            residual = jump_residuals(view, valid, valid & ~jumped, limit, sigma)
            with np.errstate(invalid="ignore"):
                again |= residual > 0  # NaN (cannot be judged without the jumps found): no jump
        if (again == jumped).all():
            break
        jumped = again
    return jumped


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
    check_shape(scores, "T J", "scores", check_shape(keypoints, "T J 2", "keypoints"))
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
    limit = size[:, None] * threshold * max(1.0, (REFERENCE_FPS / fps) ** 2)  # (T, 1) pixels
    jumped = find_jumps(points, valid, limit, jitter(points, valid, max(3, round(fps))))
    jumped = jumped[index] & given
    whole = jumped.sum(1) >= np.maximum(3, WHOLE_BODY_FRACTION * given.sum(1))
    rejected = jumped | (whole[:, None] & given)
    return np.where(rejected, 0.0, scores), rejected
