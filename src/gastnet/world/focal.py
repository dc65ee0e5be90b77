"""Estimate the camera's focal length from the people in a recording, when the file does not carry it.

Why the people tell the lens: :func:`~gastnet.world.placement.root_translation` finds each
root's depth from how large the body is in the image, ``Z = focal * size / pixels``, and its
sideways offset along the pixel's ray, ``X = (u - cx) Z / focal``. A focal length k times too long
therefore puts every root k times too far while X and Y stay: the placed world is stretched by k
along the camera's optical axis, and the lifted bodies (root-relative, metres, which the lifter
finds without knowing the lens) are not. What is stretched no longer agrees with the bodies:

- **gait**: a foot in stance stands still on the floor, so the root moves past it at the speed at
  which the lifted stance foot moves back relative to the root. A wrong focal length scales the
  root's motion in depth by k, and the planted foot slides: along the walk when the person walks
  toward or away from the camera, sideways when they walk at a slant (the stretched path turns
  away from the direction the legs step in). Two measurements: ``gait-slip`` (how far the planted
  foot slides along the walk, which is close to zero for people; their ankles roll forward a little
  as the heel lifts) and ``gait-heading`` (how far it slides across the walk, which is zero
  whatever the gait; it needs walks at a slant or turning).
- **floor**: the floor fitted to the feet tilts about the camera's horizontal axis when the world
  is stretched (by about ``pitch * (1 - 1/k)`` for a camera pitched down), while the bodies stay
  upright: the floor's normal must agree with the bodies' mean pelvis -> thorax direction. It needs
  foot contacts spread in depth and a camera that looks up or down; for a level camera the floor
  holds no information.

The body's size does not enter: a body s times too large puts every root s times too far along its
ray (X, Y and Z), a uniform scale about the camera centre, which changes no angle, slide ratio or
tilt. So ``--person-height`` fixes the world's metric scale but tells nothing about the lens, and
:func:`estimate_focal` does not take it. Nor does the perspective within one body help with lifted
poses: a lifter orients a body off the image centre as if it were seen through the lenses it was
trained with, so the lifted body fits its 2D best at the lifter's lens, not the camera's (the
shipped ``gastnet_rf27_c32.video`` turns bodies at the image border as a lens of 48-62 degrees
would when the camera's is 60-90 degrees).

Each measurement is a Gaussian in ``ln(focal)``: its spread over blocks of the recording
(jackknife) and a systematic part added in quadrature, for what lifted poses get wrong (measured
with the shipped model on the Human3.6M and CMU walks of ``benchmarks/bench_trajectory.py``: strides
along the view are guessed, 5-18% longer than across it on Human3.6M and up to four times too long
on a slow CMU shuffle; bodies turned as the lifter's own lens would, which pulls the heading toward
too long a focal length; bodies leaning by a degree or two). The people's estimate assumes a camera
that stands still: a panning camera moves the 2D, which the placement would take for the people's
motion. :func:`estimate_focal` combines a
recording's measurements; :func:`combine_focal` combines estimates from different sources (people,
a rotating camera's background) with the prior of typical lenses and gives the focal length to use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..geometry.camera import DEFAULT_FOV_DEG, focal_from_fov, fov_from_focal
from ..geometry.rotations import unit
from ..skeleton import H36M_17
from .placement import body_up, root_translation

__all__ = ["PRIOR_SIGMA_LOG", "FocalLengthEstimate", "combine_focal", "default_focal", "estimate_focal", "fov_from_focal"]

PRIOR_SIGMA_LOG = 0.3
"""Spread (1 sigma of ln focal) of the lenses videos are shot with, around :data:`DEFAULT_FOV_DEG`.

A 50-90 degree field of view across a 16:9 frame is a focal length from 0.70 to 1.48 times the
default 65 degrees' (ln: -0.36 to +0.39)."""

MAX_SIGMA_LOG = 0.25
"""People's measurements less certain than this (1 sigma of ln focal) say too little to use."""

FOV_SEARCH_DEG = (20.0, 120.0)
"""Fields of view (degrees across the long side) searched."""

(_, _, R_ANKLE), (_, _, L_ANKLE) = H36M_17.legs()

# gait: frames where the lower ankle is this far below the other (m) and stays the lower one
# for STEP_S seconds either side count as stance; velocities are taken over 2 * STEP_S
GAP_M, STEP_S = 0.05, 0.1
MIN_STRIDE_SPEED = 0.3  # m/s, median: slower legs (standing, shuffling) are not a walk
STRIDE_ANGLE_NOISE = math.radians(3.0)  # the least step-to-step scatter of stride against path
SLIP, SLIP_SIGMA = 0.03, 0.05  # the planted ankle's forward slide, a fraction of the walking speed
SLIP_SYSTEMATIC = 0.20  # ln focal: a lifter guesses strides along the view (5-40% off on the benchmark walks)
HEADING_SYSTEMATIC = 0.20  # ln focal: a lifter turns bodies off the image centre as its training lenses would
LEAN_SYSTEMATIC_DEG = 2.0  # the lifted bodies' mean lean, and walkers' forward lean
MIN_DEPTH_SPREAD_M = 0.3  # foot contacts must spread this much (std) along the view for the floor
BLOCKS = 8  # jackknife groups


@dataclass(frozen=True)
class FocalLengthEstimate:
    """A focal length (pixels) with its uncertainty, as a Gaussian in ``ln(focal_px)``.

    ``sigma_log`` is one standard deviation of ``ln(focal_px)`` (0.1: about +-10%).
    ``informative`` False means the source could not tell: ``focal_px`` is then the default
    (:data:`~gastnet.geometry.camera.DEFAULT_FOV_DEG`) and ``sigma_log`` the prior's spread
    :data:`PRIOR_SIGMA_LOG`. ``method`` names the source and its measurements (``"people: gait-slip,
    floor"``, ``"default"``), ``note`` says in words what was found; ``cues`` holds the separate
    measurements that were combined (each a :class:`FocalLengthEstimate`).
    """

    focal_px: float
    sigma_log: float
    image_size: tuple[int, int]
    method: str
    note: str
    informative: bool = True
    cues: tuple[FocalLengthEstimate, ...] = field(default=(), repr=False)
    samples: int = 0
    """How many measurements the estimate rests on (frame pairs, segments, steps; 0: not counted)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.focal_px) and self.focal_px > 0):
            raise ValueError(f"focal_px must be a positive number of pixels, got {self.focal_px}")
        if not (math.isfinite(self.sigma_log) and self.sigma_log > 0):
            raise ValueError(f"sigma_log must be a positive spread of ln(focal), got {self.sigma_log}")
        if len(self.image_size) != 2 or min(self.image_size) <= 0:
            raise ValueError(f"image_size must be (width, height) in pixels, got {self.image_size}")

    @classmethod
    def from_range(cls, focal_px: float, low_px: float, high_px: float, image_size: tuple[int, int], method: str,
                   note: str = "", coverage: float = 0.6827, samples: int = 0) -> FocalLengthEstimate:
        """An estimate whose uncertainty is a range (pixels) holding the true focal length with probability
        ``coverage`` (0.6827: one sigma; 0.5: quartiles), e.g. the quartiles of the frame pairs of a
        turning camera (:func:`gastnet.world.camera_motion.focal_from_homographies`).

        >>> e = FocalLengthEstimate.from_range(1000.0, 900.0, 1111.1, (1920, 1080), "homography", coverage=0.6827)
        >>> round(e.sigma_log, 3)
        0.105
        """
        if not (0 < low_px <= focal_px <= high_px and 0 < coverage < 1):
            raise ValueError(f"expected 0 < low <= focal <= high pixels and a coverage in (0, 1), got "
                             f"{low_px}, {focal_px}, {high_px} and {coverage}")
        z = math.sqrt(2) * _erfinv(coverage)  # the standard normal's quantile of (1 + coverage) / 2
        sigma = max(math.log(high_px / low_px) / (2 * z), 1e-3)
        return cls(float(focal_px), sigma, (int(image_size[0]), int(image_size[1])), method, note, samples=samples)

    @property
    def fov_deg(self) -> float:
        """Field of view (degrees) across the image's long side."""
        return fov_from_focal(self.focal_px, self.image_size)

    def range_px(self, sigmas: float = 1.0) -> tuple[float, float]:
        """Focal lengths (pixels) ``sigmas`` standard deviations below and above the estimate."""
        spread = math.exp(sigmas * self.sigma_log)
        return self.focal_px / spread, self.focal_px * spread

    def fov_range_deg(self, sigmas: float = 1.0) -> tuple[float, float]:
        """Fields of view (degrees) ``sigmas`` standard deviations either side: (narrow, wide)."""
        low, high = self.range_px(sigmas)
        return fov_from_focal(high, self.image_size), fov_from_focal(low, self.image_size)

    def shares(self) -> list[tuple[str, float]]:
        """How much each combined cue decided (:func:`combine_focal`): (method, share of the weight
        ``sigma^-2``), largest first, the prior of typical lenses as "typical lenses"; one
        ``(method, 1.0)`` for an estimate that was not combined.

        >>> a = FocalLengthEstimate(1000.0, 0.1, (1920, 1080), "lines", "")
        >>> [(m, round(s, 2)) for m, s in combine_focal([a]).shares()]
        [('lines', 0.9), ('typical lenses', 0.1)]
        """
        if not self.cues:
            return [(self.method, 1.0)]
        total = self.sigma_log ** -2
        parts = [(c.method, c.sigma_log ** -2 / total) for c in self.cues]
        rest = 1.0 - sum(share for _, share in parts)
        if rest > 1e-9:
            parts.append(("typical lenses", rest))
        return sorted(parts, key=lambda part: -part[1])

    def describe(self) -> str:
        """One line: focal length, field of view and its 1-sigma range, method."""
        narrow, wide = self.fov_range_deg()
        return (f"focal length {self.focal_px:.0f} px ({self.fov_deg:.1f} degrees across, 1 sigma "
                f"{narrow:.1f}-{wide:.1f}; {self.method}): {self.note}")


def _erfinv(y: float) -> float:
    """The inverse error function on (0, 1), by bisection (to 1e-12)."""
    low, high = 0.0, 10.0
    while high - low > 1e-12:
        middle = (low + high) / 2
        low, high = (middle, high) if math.erf(middle) < y else (low, middle)
    return (low + high) / 2


def default_focal(image_size: tuple[int, int], note: str = "no focal length measured") -> FocalLengthEstimate:
    """The prior: :data:`~gastnet.geometry.camera.DEFAULT_FOV_DEG` with spread :data:`PRIOR_SIGMA_LOG`, not informative."""
    return FocalLengthEstimate(focal_from_fov(DEFAULT_FOV_DEG, image_size), PRIOR_SIGMA_LOG,
                         (int(image_size[0]), int(image_size[1])), "default", note, informative=False)


def combine_focal(estimates: Sequence[FocalLengthEstimate], prior: bool = True) -> FocalLengthEstimate:
    """The focal length to use given independent ``estimates`` of one camera (same image size).

    Informative estimates are multiplied as Gaussians in ``ln(focal)`` (inverse-variance weights),
    together with the prior of typical lenses (``prior``: :func:`default_focal`); estimates that
    could not tell are the prior themselves and add nothing. With nothing informative the default
    comes back, not informative. The result's ``cues`` are the informative inputs.

    >>> a = FocalLengthEstimate(1000.0, 0.1, (1920, 1080), "people", "")
    >>> b = FocalLengthEstimate(1200.0, 0.1, (1920, 1080), "homography", "")
    >>> round(combine_focal([a, b], prior=False).focal_px, 1), round(combine_focal([a, b], prior=False).sigma_log, 4)
    (1095.4, 0.0707)
    """
    if not estimates:
        raise ValueError("combine_focal needs at least one estimate, got none")
    size = estimates[0].image_size
    if any(e.image_size != size for e in estimates):
        raise ValueError(f"estimates of one camera must share the image size, got {[e.image_size for e in estimates]}")
    used = [e for e in estimates if e.informative]
    if not used:
        notes = "; ".join(dict.fromkeys(e.note for e in estimates if e.note))
        return default_focal(size, notes or "no focal length measured")
    terms = [(math.log(e.focal_px), e.sigma_log ** -2) for e in used]
    if prior:
        base = default_focal(size)
        terms.append((math.log(base.focal_px), base.sigma_log ** -2))
    weight = sum(w for _, w in terms)
    log_focal = sum(m * w for m, w in terms) / weight
    method = " + ".join(e.method for e in used) + (" + prior" if prior else "")
    note = "; ".join(e.note for e in used if e.note)
    return FocalLengthEstimate(math.exp(log_focal), weight ** -0.5, size, method, note, True, tuple(used))


def _horizontal(v: np.ndarray, up: np.ndarray) -> np.ndarray:
    return v - np.outer(v @ up, up)


def _crossing(x: np.ndarray, y: np.ndarray, target: float, prefer: float) -> float | None:
    """Where the sampled curve ``y(x)`` crosses ``target`` (linear between samples), the crossing nearest
    ``prefer`` if there are several; None if it never does (NaN samples are skipped)."""
    d = y - target
    idx = np.flatnonzero((np.sign(d[:-1]) * np.sign(d[1:]) <= 0) & np.isfinite(d[:-1]) & np.isfinite(d[1:]))
    if len(idx) == 0:
        return None
    points = [float(x[i]) if d[i] == d[i + 1] else float(x[i] + (x[i + 1] - x[i]) * d[i] / (d[i] - d[i + 1]))
              for i in idx]
    return min(points, key=lambda v: abs(v - prefer))


def _jackknife(values: list[float | None]) -> float:
    """Jackknife standard deviation of leave-one-group-out estimates; inf if any is missing."""
    if any(v is None for v in values) or len(values) < 3:
        return math.inf
    v = np.array(values, dtype=np.float64)
    return float(math.sqrt((len(v) - 1) / len(v) * ((v - v.mean()) ** 2).sum()))


class _Walk:
    """One person's stance frames and, for every focal length of the grid, where the placement puts them.

    ``t`` (N,) the stance frames (the lower ankle at least :data:`GAP_M` below the other and the
    lower one for :data:`STEP_S` either side); ``stride`` (N, 3) the walk as the legs step it (the
    planted ankle's motion relative to the root, reversed, over 2 * STEP_S; horizontal; metres);
    ``path`` (F, N, 3) the placed root's horizontal motion over the same frames at each focal
    length; ``contacts`` (F, N, 3) the placed planted ankle; ``up``, ``forward`` (the optical axis
    laid on the floor) and ``side`` unit vectors in the camera frame; ``subsets`` the whole and the
    leave-one-block-out masks of the jackknife. ``walks`` is False (and the rest is not computed)
    when there are too few stance frames or the legs step slower than :data:`MIN_STRIDE_SPEED`.
    """

    def __init__(self, rel: np.ndarray, pix: np.ndarray, scores: np.ndarray | None, size: tuple[int, int],
                 fps: float, log_focals: np.ndarray) -> None:
        self.up = up = body_up([rel])
        heights = rel[:, [R_ANKLE, L_ANKLE]] @ up  # (T, 2)
        lower = np.where(heights[:, 0] <= heights[:, 1], R_ANKLE, L_ANKLE)
        self.step = step = max(1, round(STEP_S * fps))
        t = np.arange(step, len(rel) - step)
        keep = np.abs(heights[t, 0] - heights[t, 1]) > GAP_M
        for s in range(-step, step + 1):
            keep &= lower[t + s] == lower[t]
        self.t = t = t[keep]
        self.duration_s = (t[-1] - t[0]) / fps if len(t) else 0.0
        self.walks = False
        if len(t) < 4 * BLOCKS:
            return
        joint = lower[t]
        blocks = np.minimum((t - t[0]) * BLOCKS // (t[-1] - t[0] + 1), BLOCKS - 1)
        self.subsets = [np.ones(len(t), bool)] + [blocks != b for b in range(BLOCKS)]
        self.stride = _horizontal(rel[t - step, joint] - rel[t + step, joint], up)
        self.walks = float(np.median(np.linalg.norm(self.stride, axis=-1))) * fps / (2 * step) >= MIN_STRIDE_SPEED
        if not self.walks:
            return
        self.forward = unit(np.array([0.0, 0.0, 1.0]) - up[2] * up)
        self.side = np.cross(up, self.forward)
        paths, contacts = [], []
        for log_f in log_focals:
            root = root_translation(rel, pix, scores, math.exp(log_f), (size[0] / 2, size[1] / 2), fps)
            paths.append(_horizontal(root[t + step] - root[t - step], up))
            contacts.append(rel[t, joint] + root[t])
        self.path, self.contacts = np.array(paths), np.array(contacts)


def _carried(walk: _Walk, log_focals: np.ndarray, log_focal: float) -> bool:
    """Whether at ``log_focal`` the placed root moves as far as the legs step (half to twice): legs that
    step while the body stays (walking on the spot, a treadmill) or a body carried without stepping
    break the premise of the gait measurements."""
    i = int(np.argmin(np.abs(log_focals - log_focal)))
    ratio = np.linalg.norm(walk.path[i], axis=-1) / np.linalg.norm(walk.stride, axis=-1).clip(1e-9)
    return 0.5 <= float(np.median(ratio)) <= 2.0


def _slip(walk: _Walk, log_focals: np.ndarray, prefer: float) -> tuple[float, float] | None:
    """gait-slip: (ln focal, sigma) where the planted feet slide along the walk by :data:`SLIP` of the root's motion."""
    slide = ((walk.path - walk.stride) * walk.path).sum(-1)  # (F, N): the planted foot's motion along the path
    power = (walk.path * walk.path).sum(-1)
    ratios = [slide[:, m].sum(1) / power[:, m].sum(1).clip(1e-12) for m in walk.subsets]
    estimates = [_crossing(log_focals, r, SLIP, prefer) for r in ratios]
    if estimates[0] is None or not _carried(walk, log_focals, estimates[0]):
        return None
    slope = abs(float(np.interp(estimates[0], log_focals, np.gradient(ratios[0], log_focals))))
    return estimates[0], math.hypot(_jackknife(estimates[1:]), SLIP_SIGMA / max(slope, 1e-9), SLIP_SYSTEMATIC)


def _heading(walk: _Walk, log_focals: np.ndarray, prefer: float) -> tuple[float, float] | None:
    """gait-heading: (ln focal, sigma) where the placed path turns neither way from the strides.

    Per stance frame the signed angle between the stride and the path, and how fast the path's
    direction turns with ln focal (zero for walks along or across the view, largest at 45
    degrees); the focal length where their products sum to zero (a least-squares fit of the turn)."""
    angle = np.arctan2(np.cross(walk.stride, walk.path) @ walk.up, (walk.stride * walk.path).sum(-1))  # (F, N)
    direction = np.unwrap(np.arctan2(walk.path @ walk.side, walk.path @ walk.forward), axis=0)
    turn = np.gradient(direction, log_focals, axis=0)
    good = (np.abs(angle) < math.radians(45)).all(0)  # turning on the spot, noise: not a stride
    estimates = [_crossing(log_focals, (turn[:, m & good] * angle[:, m & good]).sum(1), 0.0, prefer)
                 if (m & good).sum() > 8 else None for m in walk.subsets]
    if estimates[0] is None or not _carried(walk, log_focals, estimates[0]):
        return None
    i = int(np.argmin(np.abs(log_focals - estimates[0])))
    leverage = float(np.sqrt(np.mean(turn[i, good] ** 2)))
    steps = max(2.0, 2.0 * walk.duration_s)  # independent samples: about two steps a second
    scatter = max(float(np.std(angle[i, good])), STRIDE_ANGLE_NOISE)
    statistical = scatter / max(leverage, 1e-9) / math.sqrt(steps)
    return estimates[0], math.hypot(_jackknife(estimates[1:]), statistical, HEADING_SYSTEMATIC)


def _floor(walk: _Walk, log_focals: np.ndarray, prefer: float) -> tuple[float, float] | None:
    """floor: (ln focal, sigma) where the planted feet's floor does not slope along the view against the bodies' up."""
    tilts = []
    for m in walk.subsets:
        values = np.full(len(log_focals), np.nan)
        for i, points in enumerate(walk.contacts[:, m]):
            flat = points - points.mean(0)
            design = np.stack([flat @ walk.forward, flat @ walk.side], 1)
            if np.std(design[:, 0]) >= MIN_DEPTH_SPREAD_M:
                slope = np.linalg.lstsq(design, flat @ walk.up, rcond=None)[0][0]
                values[i] = math.degrees(math.atan(slope))
        tilts.append(values)
    estimates = [_crossing(log_focals, v, 0.0, prefer) for v in tilts]
    if estimates[0] is None:
        return None
    ok = np.isfinite(tilts[0])
    slope = abs(float(np.interp(estimates[0], log_focals[ok], np.gradient(tilts[0][ok], log_focals[ok]))))
    return estimates[0], math.hypot(_jackknife(estimates[1:]), LEAN_SYSTEMATIC_DEG / max(slope, 1e-9))


_CUES = (("gait-slip", _slip, "the planted feet stand still"),
         ("gait-heading", _heading, "the path goes the way the legs step"),
         ("floor", _floor, "the feet's floor is level with the bodies"))


def estimate_focal(poses_rel: np.ndarray | Sequence[np.ndarray], keypoints_2d: np.ndarray | Sequence[np.ndarray],
                   scores: np.ndarray | Sequence[np.ndarray | None] | None, image_size: tuple[int, int],
                   fps: float, grid_points: int = 31) -> FocalLengthEstimate:
    """The focal length (pixels) at which the people's placed world agrees with their lifted bodies.

    ``poses_rel``: one person's lifted root-relative camera-frame poses (T, 17, 3) metres
    (Human3.6M-17), or a list of people's (T_i, 17, 3); ``keypoints_2d`` (T, 17, 2) pixels and
    ``scores`` (T, 17) in [0, 1] (or None) alike, no NaN (fill gaps first); ``image_size`` (w, h)
    pixels, principal point at its centre; ``fps`` frames per second. The roots are placed by
    :func:`~gastnet.world.placement.root_translation` at ``grid_points`` focal lengths (fields
    of view of 20-120 degrees across the long side, even steps of ln focal), and each person's
    measurements (module docstring: gait-slip, gait-heading, floor) are read off where they cross
    zero. They are combined by inverse variance in ln focal, widened by the Birge ratio when they
    disagree beyond their spreads.

    Returns a :class:`FocalLengthEstimate` of the measurements alone (no prior: give it to
    :func:`combine_focal`, with other sources, for the focal length to use), or, when the people
    cannot tell (nobody walks, or walks only straight across at one depth in front of a level
    camera; or the measurements leave more than :data:`MAX_SIGMA_LOG`), the default, not
    informative, with a note that says why.
    """
    people_rel, people_pix, people_scores = _as_people(poses_rel, keypoints_2d, scores)
    if len(image_size) != 2 or not min(image_size) > 0:
        raise ValueError(f"image_size must be (width, height) in pixels, got {image_size}")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps}")
    if grid_points < 5:
        raise ValueError(f"grid_points must be at least 5, got {grid_points}")
    size = (int(image_size[0]), int(image_size[1]))
    log_focals = np.linspace(math.log(focal_from_fov(FOV_SEARCH_DEG[1], size)),
                             math.log(focal_from_fov(FOV_SEARCH_DEG[0], size)), grid_points)
    prefer = math.log(focal_from_fov(DEFAULT_FOV_DEG, size))
    cues: list[FocalLengthEstimate] = []
    for number, (rel, pix, sc) in enumerate(zip(people_rel, people_pix, people_scores)):
        walk = _Walk(rel, pix, sc, size, float(fps), log_focals)
        if not walk.walks:
            continue
        who = f"person {number}: " if len(people_rel) > 1 else ""
        for name, measure, meaning in _CUES:
            found = measure(walk, log_focals, prefer)
            if found is not None and found[1] < 1.0:
                cues.append(FocalLengthEstimate(math.exp(found[0]), found[1], size, name, who + meaning))
    if not cues:
        return default_focal(size, "the people do not walk enough (in depth, at a slant to the camera, or over a "
                                   "floor seen from above) to tell the focal length")
    combined = combine_focal(cues, prior=False)
    if len(cues) > 1:  # measurements that disagree beyond their spreads: widen by the Birge ratio
        chi2 = sum((math.log(c.focal_px / combined.focal_px) / c.sigma_log) ** 2 for c in cues)
        combined = replace(combined, sigma_log=combined.sigma_log * math.sqrt(max(1.0, chi2 / (len(cues) - 1))))
    names = ", ".join(dict.fromkeys(c.method for c in cues))
    if combined.sigma_log > MAX_SIGMA_LOG:
        return default_focal(size, f"the people tell the focal length only within a factor "
                                   f"{math.exp(combined.sigma_log):.2f} ({names}): too little to use")
    return FocalLengthEstimate(combined.focal_px, combined.sigma_log, size, f"people: {names}",
                         f"{fov_from_focal(combined.focal_px, size):.0f} degrees across, measured on "
                         f"{len(people_rel)} {'people' if len(people_rel) > 1 else 'person'} "
                         f"({', '.join(f'{c.method} {c.fov_deg:.0f}' for c in cues)})", True, tuple(cues))


def _as_people(poses_rel, keypoints_2d, scores) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray | None]]:
    """Lists of checked float64 arrays, one entry per person."""
    if isinstance(poses_rel, np.ndarray) and poses_rel.ndim == 3:
        poses_rel, keypoints_2d, scores = [poses_rel], [keypoints_2d], [scores]
    people_rel = [np.asarray(p, np.float64) for p in poses_rel]
    people_pix = [np.asarray(k, np.float64) for k in keypoints_2d]
    people_scores: list[np.ndarray | None] = (
        [None] * len(people_rel) if scores is None else [None if s is None else np.asarray(s, np.float64) for s in scores])
    if not people_rel or len(people_pix) != len(people_rel) or len(people_scores) != len(people_rel):
        raise ValueError(f"expected the same number (>= 1) of poses, keypoint and score arrays, got "
                         f"{len(people_rel)}, {len(people_pix)} and {len(people_scores)}")
    for i, (rel, pix, sc) in enumerate(zip(people_rel, people_pix, people_scores)):
        if rel.ndim != 3 or rel.shape[1:] != (17, 3):
            raise ValueError(f"person {i}: expected root-relative poses (T, 17, 3) metres, got {rel.shape}")
        if pix.shape != rel.shape[:2] + (2,):
            raise ValueError(f"person {i}: expected keypoints {rel.shape[:2] + (2,)} pixels like the poses, got {pix.shape}")
        if sc is not None and sc.shape != rel.shape[:2]:
            raise ValueError(f"person {i}: expected scores {rel.shape[:2]}, got {sc.shape}")
        if not (np.isfinite(rel).all() and np.isfinite(pix).all()):
            raise ValueError(f"person {i}: expected finite poses and keypoints (fill gaps first), found NaN or inf")
    return people_rel, people_pix, people_scores
