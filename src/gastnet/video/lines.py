"""The focal length from the straight lines of a scene: vanishing points of orthogonal directions.

Streets and rooms are full of straight edges along three directions square to each other (kerbs,
floor tiles, walls, window and door frames: a "Manhattan" scene). Parallel edges in the world meet
in the image at a vanishing point ``v``, the image of their direction: with the principal point at
the image centre ``c`` and focal length ``f`` (pixels), the direction is ``(v_x - c_x, v_y - c_y,
f)``. Two orthogonal directions therefore give ``f^2 = -(v_1 - c) . (v_2 - c)``, and a third
orthogonal one checks the first two (all three pairs give the same ``f``).

How: line segments are found on the grey frame (OpenCV's fast line detector from ``ximgproc``,
else its line segment detector), with segments on people left out; vanishing points are found one
after another by RANSAC (two segments propose their crossing; the segments that point at it within
:data:`ANGLE_TOL_DEG` vote with their length) and refined by least squares, and those with
:data:`MIN_SUPPORT` are kept. Three of them that are orthogonal at one focal length check each
other and are used when found; else the pair with the most support. Each pair's focal length is
weighted by the inverse of its variance. The uncertainty adds in quadrature: a bootstrap over the
segments (each vanishing point refitted from a resample of its segments), how far the estimate
moves if the lens had an uncorrected radial distortion of :data:`DISTORTION_K1` (a vanishing point
far outside the image, of nearly parallel edges, moves most), :data:`SYSTEMATIC_SIGMA_LOG`, and
:data:`PAIR_SIGMA_LOG` when only two directions were seen.

Limits. A camera square to a wall and level sees that wall's horizontal and vertical edges
parallel in the image (vanishing points at infinity): they tell nothing about the focal length,
and only the lines along the view (floor joints, kerbs running away) and a tilt help; the
bootstrap then says so with a wide spread or no estimate. Scenes without straight edges
(a park, a beach) give none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..world.focal import FocalLengthEstimate
from .reader import require_cv2

__all__ = ["ANGLE_TOL_DEG", "MIN_SUPPORT", "SYSTEMATIC_SIGMA_LOG", "LineFocal", "combine_line_focals", "detect_segments",
           "focal_from_segments"]

ANGLE_TOL_DEG = 1.5
"""A segment points at a vanishing point when the line from its middle to the point is within this
many degrees of the segment."""

SYSTEMATIC_SIGMA_LOG = 0.03
"""Added in quadrature to the bootstrap's spread (1 sigma of ln focal)."""

DISTORTION_K1 = 0.03
"""The radial distortion (``x_d = x (1 + k1 |x|^2)``, normalised coordinates) a lens may have that
nobody corrected: the focal length's uncertainty includes how far it moves when the segments are
undistorted by this much either way (a vanishing point far outside the image, of nearly parallel
edges, moves most; of the sets of vanishing points that could be used, the one it moves least is)."""

PAIR_SIGMA_LOG = 0.12
"""Added in quadrature (1 sigma of ln focal) when only two vanishing points are found: nothing checks
that their directions are orthogonal (two walls at an angle, a street that bends) or that lens
distortion did not move the farther one."""

MAX_SIGMA_LOG = 0.3
"""Estimates less certain than this (1 sigma of ln focal) are not returned."""

_FOCAL_RANGE = (0.15, 4.0)  # focal lengths accepted, in units of the image's long side (146 to 14 degrees)
_MIN_SEGMENTS = 8  # a vanishing point needs this many segments to be looked at
MIN_SUPPORT = 1.5
"""A vanishing point is used when the segments that point at it are, together, at least this many
times as long as the image's long side (the short edges of a cluttered or random texture line up by
chance into weaker ones: about 1.1 on the generated textures of the tests, 1.8 and more on their
tiled floors and facades)."""
_MAX_POINTS = 4  # vanishing points looked for
_ORTHOGONAL_DEG = 4.0  # a third vanishing point confirms a pair when it is this close to their cross product
_BOOTSTRAP = 60


@dataclass(frozen=True)
class LineFocal:
    """A focal length (pixels) from the vanishing points of a scene's lines.

    ``sigma_log``: one standard deviation of ``ln(focal)``; ``points`` (K, 3) the vanishing points
    used (homogeneous, full-size pixels, K = 2 or 3); ``segments``: how many segments point at
    them; ``frames``: how many frames were measured (see :func:`combine_line_focals`).
    """

    focal: float
    sigma_log: float
    points: np.ndarray
    segments: int
    frames: int = 1

    @property
    def note(self) -> str:
        """One line: what the estimate rests on."""
        kind = "three orthogonal directions" if len(self.points) == 3 else "two orthogonal directions"
        frames = f" over {self.frames} frames" if self.frames > 1 else ""
        return f"the scene's straight lines: {self.segments} segments along {kind}{frames}"

    def estimate(self, image_size: tuple[int, int]) -> FocalLengthEstimate:
        """This estimate as the lens estimates are combined (:func:`gastnet.world.focal.combine_focal`):
        method "scene lines", of an image ``image_size`` (w, h) pixels."""
        return FocalLengthEstimate(self.focal, self.sigma_log, image_size, "scene lines", self.note)


def detect_segments(grey: np.ndarray, boxes: np.ndarray | None = None, min_length: float = 20.0) -> np.ndarray:
    """Line segments (N, 4) pixels ``(x0, y0, x1, y1)`` of a grey image (h, w) uint8, at least
    ``min_length`` pixels long, none touching the boxes (M, 4) ``(x0, y0, x1, y1)`` (people)."""
    cv2 = require_cv2()
    if not isinstance(grey, np.ndarray) or grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected a grey image (h, w) uint8, got {getattr(grey, 'shape', type(grey).__name__)}")
    if hasattr(cv2, "ximgproc"):
        found = cv2.ximgproc.createFastLineDetector(int(min_length)).detect(grey)
    else:  # pragma: no cover - OpenCV without the contrib modules
        found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(grey)[0]
    if found is None:
        return np.zeros((0, 4))
    segments = np.asarray(found, np.float64).reshape(-1, 4)
    segments = segments[np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]) >= min_length]
    if boxes is not None and len(boxes):
        keep = np.ones(len(segments), bool)
        for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
            for s in (0.0, 0.5, 1.0):  # the ends and the middle
                x = segments[:, 0] + s * (segments[:, 2] - segments[:, 0])
                y = segments[:, 1] + s * (segments[:, 3] - segments[:, 1])
                keep &= ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        segments = segments[keep]
    return segments


def _lines(seg: np.ndarray) -> np.ndarray:
    """Homogeneous lines (N, 3) through segments (N, 4), scaled so that ``l . (x, y, 1)`` is a distance."""
    ones = np.ones(len(seg))
    lines = np.cross(np.stack([seg[:, 0], seg[:, 1], ones], 1), np.stack([seg[:, 2], seg[:, 3], ones], 1))
    return lines / np.hypot(lines[:, 0], lines[:, 1]).clip(1e-12)[:, None]


def _pointing(seg: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Sine (P, N) of the angle between each segment (N, 4) and the line from its middle to each
    homogeneous point (P, 3) (0: the segment points at it)."""
    d = seg[:, 2:] - seg[:, :2]
    d = d / np.linalg.norm(d, axis=1, keepdims=True).clip(1e-12)
    mid = (seg[:, :2] + seg[:, 2:]) / 2
    to = points[:, None, :2] - mid[None] * points[:, None, 2:]
    norm = np.linalg.norm(to, axis=-1).clip(1e-12)
    return np.abs(d[None, :, 0] * to[..., 1] - d[None, :, 1] * to[..., 0]) / norm


def _refit(lines: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The point (3,) nearest (weighted least squares, unit norm) to homogeneous lines (N, 3)."""
    return np.linalg.eigh((lines * weights[:, None]).T @ lines)[1][:, 0]


def _vanishing_points(seg: np.ndarray, rng: np.random.Generator, iterations: int = 400
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Up to :data:`_MAX_POINTS` (point (3,), segment indices) found one after another by RANSAC."""
    lines, length = _lines(seg), np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    tol = math.sin(math.radians(ANGLE_TOL_DEG))
    free = np.ones(len(seg), bool)
    found = []
    for _ in range(_MAX_POINTS):
        idx = np.flatnonzero(free)
        if len(idx) < _MIN_SEGMENTS:
            break
        p = length[idx] / length[idx].sum()
        pairs = rng.choice(idx, size=(iterations, 2), p=p)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        a, b = lines[pairs[:, 0]], lines[pairs[:, 1]]
        candidates = np.cross(a, b)
        norm = np.linalg.norm(candidates, axis=1)
        # collinear segments (one edge found in pieces) propose nothing
        useful = norm > 1e-9 * np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        if not useful.any():
            break
        candidates = candidates[useful] / norm[useful, None]
        votes = (_pointing(seg[idx], candidates) < tol) * length[idx]
        best = candidates[int(np.argmax(votes.sum(1)))]
        members = idx
        for _ in range(2):  # refit to the segments that point at it, twice
            members = idx[_pointing(seg[idx], best[None])[0] < tol]
            if len(members) < 2:
                break
            best = _refit(lines[members], length[members])
        if len(members) < _MIN_SEGMENTS:
            break
        found.append((best, members))
        free[members] = False
    return found


def _pair_focal(a: np.ndarray, b: np.ndarray) -> float:
    """The focal length (pixels) that makes the directions of centred homogeneous points a and b (3,)
    orthogonal, NaN if none does (``f^2 = -(a_xy . b_xy) / (a_w b_w)`` must be positive)."""
    square = -(a[0] * b[0] + a[1] * b[1]) / (a[2] * b[2]) if abs(a[2] * b[2]) > 1e-15 else -1.0
    return math.sqrt(square) if square > 0 else math.nan


def _direction(point: np.ndarray, focal: float) -> np.ndarray:
    d = np.array([point[0], point[1], point[2] * focal])
    return d / np.linalg.norm(d).clip(1e-15)


def _candidates(points: list[np.ndarray], support: list[float]) -> list[tuple[float, list[int]]]:
    """Sets of vanishing points (indices) whose directions can be orthogonal, with their support (their
    segments' length), most support first: every pair with a focal length in :data:`_FOCAL_RANGE`,
    joined by a third point orthogonal to both at that focal length (within :data:`_ORTHOGONAL_DEG`)."""
    out: list[tuple[float, list[int]]] = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            f = _pair_focal(points[i], points[j])
            if not _FOCAL_RANGE[0] <= f <= _FOCAL_RANGE[1]:
                continue
            chosen, score = [i, j], support[i] + support[j]
            normal = np.cross(_direction(points[i], f), _direction(points[j], f))
            for k in range(len(points)):
                if k not in (i, j) and abs(_direction(points[k], f) @ normal) > math.cos(math.radians(_ORTHOGONAL_DEG)):
                    chosen, score = sorted([i, j, k]), score + support[k]
                    break
            if all(sorted(chosen) != c for _, c in out):
                out.append((score, sorted(chosen)))
    return sorted(out, key=lambda c: -c[0])


def _pair_focals(points: Sequence[np.ndarray]) -> np.ndarray:
    """The focal lengths (P,) of every pair of points (NaN where a pair gives none)."""
    return np.array([_pair_focal(points[i], points[j]) for i in range(len(points)) for j in range(i + 1, len(points))])


def _undistort(seg: np.ndarray, focal: float, k1: float) -> np.ndarray:
    """Segments (N, 4) centred, with the radial distortion ``x_d = x (1 + k1 |x|^2)`` (normalised by
    ``focal``, in the same units) taken out to first order."""
    ends = seg.reshape(-1, 2) / focal
    return (ends * (1 - k1 * (ends ** 2).sum(1, keepdims=True)) * focal).reshape(-1, 4)


def _set_estimate(members: list[np.ndarray], lines: np.ndarray, lengths: np.ndarray, seg: np.ndarray,
                  draws: np.ndarray) -> tuple[float, float, float] | None:
    """(ln focal, bootstrap spread, distortion spread) of one set of vanishing points, each given by its
    segments' indices ``members``; None when no pair gives a focal length. The pairs' ln focal lengths
    are averaged with the inverse of their variances (bootstrap ``draws`` (B, P), and how
    far each moves when the segments are undistorted by +-:data:`DISTORTION_K1`) as weights."""
    points = [_refit(lines[m], lengths[m]) for m in members]
    point = _pair_focals(points)
    if not np.isfinite(point).any():
        return None
    f0 = float(np.exp(np.nanmean(np.log(point))))
    moved = []
    for k1 in (DISTORTION_K1, -DISTORTION_K1):
        straight = _lines(_undistort(seg, f0, k1))
        moved.append(_pair_focals([_refit(straight[m], lengths[m]) for m in members]))
    with np.errstate(invalid="ignore"):
        shift = np.sqrt(np.mean(np.log(np.array(moved) / point) ** 2, axis=0))
    shift = np.where(np.isfinite(shift), shift, 1.0)
    good = np.isfinite(point) & (np.isfinite(draws).mean(0) >= 0.8)
    if not good.any():
        return None
    logs = np.log(np.where(np.isfinite(draws[:, good]), draws[:, good], np.nan))
    weights = 1.0 / (np.nanvar(logs, axis=0) + shift[good] ** 2 + 1e-6)
    log_focal = float((np.log(point[good]) * weights).sum() / weights.sum())
    # the same weighted mean in every bootstrap draw (over the pairs that gave a focal length there)
    per_draw = np.nansum(logs * weights, 1) / np.sum(np.isfinite(logs) * weights, 1).clip(1e-12)
    spread = float(np.std(per_draw[np.isfinite(logs).any(1)]))
    systematic = float((shift[good] * weights).sum() / weights.sum())  # the pairs' distortion errors taken as one
    return log_focal, spread, systematic


def focal_from_segments(segments: np.ndarray, image_size: tuple[int, int], seed: int = 0) -> LineFocal | None:
    """The focal length (pixels) from line segments (N, 4) pixels of one frame (w, h) = ``image_size``,
    principal point at the image centre; None when the lines do not tell (fewer than two vanishing
    points with :data:`MIN_SUPPORT` whose directions can be orthogonal, or a spread over
    :data:`MAX_SIGMA_LOG`).

    With three orthogonal vanishing points, each pair's focal length is weighted by the inverse of
    its bootstrap variance (a vanishing point far outside the image, of nearly parallel edges, is
    found less precisely).

    >>> f, size = 800.0, (1280, 720)
    >>> k = np.array([[f, 0, 640], [0, f, 360], [0, 0, 1]])
    >>> c, s = math.cos(0.5), math.sin(0.5)
    >>> r = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ np.array([[1, 0, 0], [0, 0.98, 0.199], [0, -0.199, 0.98]])
    >>> grid = [(a, b) for a in np.linspace(-3, 3, 7) for b in np.linspace(-2, 2, 5)]
    >>> def seg(p, q):  # a 3D segment from p to q (camera frame, metres, 10 m ahead) in pixels
    ...     a, b = k @ (r @ p + [0, 0, 10]), k @ (r @ q + [0, 0, 10])
    ...     return [a[0] / a[2], a[1] / a[2], b[0] / b[2], b[1] / b[2]]
    >>> segs = [seg(np.array(p), np.array(p) + d) for a, b in grid for p, d in (((a, b, 0), (1.5, 0, 0)),
    ...         ((a, 0, b), (0, 1.5, 0)), ((0, a, b), (0, 0, 1.5)))]
    >>> round(focal_from_segments(np.array(segs), size).focal)
    800
    """
    seg = np.asarray(segments, np.float64).reshape(-1, 4) if len(segments) else np.zeros((0, 4))
    if not np.isfinite(seg).all():
        raise ValueError("segments must be finite (N, 4) pixels (x0, y0, x1, y1)")
    w, h = image_size
    if not (w > 0 and h > 0):
        raise ValueError(f"image size must be positive (w, h) pixels, got {image_size}")
    side = float(max(w, h))
    centred = (seg - [w / 2, h / 2, w / 2, h / 2]) / side  # units of the long side, for a well-posed fit
    rng = np.random.default_rng(seed)
    lengths = np.hypot(centred[:, 2] - centred[:, 0], centred[:, 3] - centred[:, 1])
    found = [(p, m) for p, m in _vanishing_points(centred, rng) if lengths[m].sum() >= MIN_SUPPORT]
    candidates = _candidates([p for p, _ in found], [float(lengths[m].sum()) for _, m in found])
    if not candidates:
        return None
    lines = _lines(centred)
    triples = [chosen for _, chosen in candidates if len(chosen) == 3]
    used = triples[0] if triples else candidates[0][1]  # three orthogonal directions check each other
    members = [found[i][1] for i in used]
    draws = np.array([_pair_focals([_refit(lines[pick], lengths[pick]) for pick in (rng.choice(m, len(m)) for m in members)])
                      for _ in range(_BOOTSTRAP)])  # (B, P)
    estimate = _set_estimate(members, lines, lengths, centred, draws)
    if estimate is None:
        return None
    log_focal, spread, systematic = estimate
    sigma = math.sqrt(spread ** 2 + systematic ** 2 + SYSTEMATIC_SIGMA_LOG ** 2 + (PAIR_SIGMA_LOG if len(used) == 2 else 0) ** 2)
    if sigma > MAX_SIGMA_LOG:
        return None
    points = np.array([found[i][0] for i in used])
    points[:, :2] = points[:, :2] * side + points[:, 2:] * [w / 2, h / 2]  # pixels from the corner
    return LineFocal(math.exp(log_focal) * side, sigma, points, int(sum(len(m) for m in members)))


def combine_line_focals(estimates: Sequence[LineFocal]) -> LineFocal | None:
    """One estimate from several frames' of one camera: the median focal length and the median
    spread (frames of one scene are not independent: their errors are not averaged away); the
    frame nearest the median gives the points. None for no estimates."""
    if not estimates:
        return None
    logs = np.log([e.focal for e in estimates])
    middle = float(np.median(logs))
    nearest = estimates[int(np.argmin(np.abs(logs - middle)))]
    return LineFocal(math.exp(middle), float(np.median([e.sigma_log for e in estimates])), nearest.points,
                     nearest.segments, sum(e.frames for e in estimates))
