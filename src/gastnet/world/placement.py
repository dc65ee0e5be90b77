"""Place lifted people in the world: root translation from the 2D, a floor, a z-up world frame.

A lifter gives root-relative poses in the camera frame (metres; x right, y down, z forward). The
2D keypoints they were lifted from fix where the root is: :func:`root_translation` finds, per
frame, the camera-frame translation whose pinhole projection best matches the 2D (linear least
squares, weighted by the joints' confidences), then cleans the path over time
(:func:`clean_root_path`): frames where the root jumps off its path for a frame or two are
rejected (:func:`root_jumps`), the noisy depth is smoothed (:func:`smooth_depth`) and the path is
kept within what people do (:func:`limit_root_motion`: :data:`MAX_ROOT_SPEED`,
:data:`MAX_ROOT_ACCELERATION`).
:func:`place_in_world` fits a floor to the contacts of everybody (their lowest joints: the feet, or
the hands in a handstand), builds a world frame on it (z up; origin on the floor below the camera)
and puts those contacts on that floor frame by frame.

Human3.6M-17 has no foot joints: the floor z = 0 is the height of the ankle joint of a standing
foot (the true ground lies some 5-10 cm lower), and so is the camera height reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..geometry.rotations import unit
from ..geometry.shapes import check_shape
from ..keypoints.outliers import find_jumps, jitter
from ..keypoints.tracks import DEFAULT_KEYPOINT_FPS
from ..skeleton import H36M_17, standing_height

__all__ = ["ANKLE_HEIGHT_FRACTION", "MAX_ROOT_ACCELERATION", "MAX_ROOT_SPEED", "ROOT_JUMP_M", "RESTING_BELOW_ANKLE_M",
           "UP_AGREEMENT_DEG", "Floor", "WorldPlacement", "body_scale", "body_up", "clean_root_path", "fit_floor",
           "limit_root_motion", "place_in_world", "resting_joint", "root_jumps", "standing", "root_translation", "smooth_depth"]

ANKLE_HEIGHT_FRACTION = 0.039
"""Height of the ankle joint above the sole as a fraction of stature (standard anthropometric tables)."""

MAX_ROOT_SPEED = 12.0
"""Fastest a person's root (pelvis) moves, m/s: sprinters peak at 12.4 m/s (a 100 m world record's
fastest 10 m), everybody else well below (running 3-6 m/s, walking 1-2)."""

MAX_ROOT_ACCELERATION = 30.0
"""Largest acceleration of a person's root, m/s^2, measured from one frame to the next: the pelvis
of a runner at foot strike (ground forces of 2.5-4 body weights) or of someone dropping onto a chair
reaches 2-3 g. Frame to frame in motion capture (Human3.6M at 25 fps, HumanEva-I and CMU at 30 fps):
walking up to 19 m/s^2, boxing 23, sitting down 26-31 (99.9th percentile)."""

ROOT_JUMP_M = 0.05
"""Smallest jump of the root off its path (metres) rejected at 30 fps or more when the path has no
noise (:func:`root_jumps`); real motion capture stays below 2.5 cm. Below 30 fps it grows with
``(30 / fps) ** 2`` like the misses of real motion."""

PELVIS, THORAX = H36M_17.root, H36M_17.index("thorax")
ANKLES = np.array([ankle for _, _, ankle in H36M_17.legs()])

RESTING_BELOW_ANKLE_M = 0.1
"""How far (metres) another joint must lie below the lower ankle to be what rests on the floor instead
(:func:`resting_joint`): the hands in a handstand lie a metre below the ankles; a knee, hip or hand
near the floor beside a foot (kneeling, sitting on the ground, a walker's knee in a long stride)
lies within a few centimetres of the ankle's level, and the floor stays at the ankles' height
(z = 0 is the height of a standing ankle)."""


def _centred(x: np.ndarray, half: int, reduce) -> np.ndarray:
    """``reduce`` (nanmedian or nanmean) over a centred window of ``2 * half + 1`` frames along axis 0.

    Near the ends the window shrinks symmetrically, so a straight line passes unchanged."""
    n = len(x)
    if half < 1 or n < 3:
        return x.copy()
    t = np.arange(n)
    offsets = np.arange(-half, half + 1)
    reach = np.minimum(half, np.minimum(t, n - 1 - t))
    values = x[np.clip(t[:, None] + offsets, 0, n - 1)]  # (T, W, ...)
    keep = (np.abs(offsets)[None, :] <= reach[:, None]).reshape((n, len(offsets)) + (1,) * (x.ndim - 1))
    return reduce(np.where(keep, values, np.nan), axis=1)


def body_scale(poses_rel: np.ndarray, person_height: float) -> float:
    """The factor that gives lifted Human3.6M-17 poses (T, 17, 3) metres the size of a person ``person_height`` m tall.

    A lifter returns bodies of its training subjects' size; the depth found by
    :func:`root_translation` scales with it. The pose's standing height is measured along its bones
    (ankle to knee to hip, both legs averaged, then pelvis, spine, thorax, neck and head top; median
    over frames, so any posture counts), which is the stature less the ankle's height above the
    sole (:data:`ANKLE_HEIGHT_FRACTION`).

    >>> from gastnet.examples import synthetic_walk_3d
    >>> pose = synthetic_walk_3d(5)
    >>> round(body_scale(2 * pose, 1.7) / body_scale(pose, 1.7), 6)
    0.5
    """
    if not (np.isfinite(person_height) and 0.5 <= person_height <= 2.6):
        raise ValueError(f"the person's height must be in metres between 0.5 and 2.6, got {person_height}")

    standing = float(np.median(standing_height(poses_rel)))
    return person_height * (1 - ANKLE_HEIGHT_FRACTION) / standing


def _path(translation: np.ndarray, fps: float) -> np.ndarray:
    """``translation`` as a float (T, 3) array, checked, with ``fps``."""
    path = np.asarray(translation, np.float64)
    if path.ndim != 2 or path.shape[1:] != (3,) or not np.isfinite(path).all():
        raise ValueError(f"a root path must be (T, 3) finite metres, got shape {path.shape}"
                         + ("" if path.ndim != 2 or path.shape[1:] != (3,) else " with NaN or infinite values"))
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps}")
    return path


def _line_fit(t: np.ndarray, x: np.ndarray, robust: bool) -> tuple[float, float]:
    """(value at t = 0, slope) of a straight line through the points (t, x) (at least 2): Theil-Sen
    (median of the pairwise slopes, then the median intercept) or least squares."""
    if robust:
        i, j = np.triu_indices(len(t), 1)
        slope = float(np.median((x[j] - x[i]) / (t[j] - t[i])))
        return float(np.median(x - slope * t)), slope
    slope, value = np.polyfit(t, x, 1)
    return float(value), float(slope)


def _centred_lines(x: np.ndarray, half: int, robust: bool) -> np.ndarray:
    """The median (``robust``) or mean of ``x`` (T,) over a centred window of ``2 * half + 1`` frames.

    Within ``half`` frames of an end, where the window would leave the array, a straight line fitted
    to the first (or last) ``2 * half + 1`` frames (Theil-Sen or least squares) gives the value
    instead, so a straight line passes unchanged everywhere and the ends are smoothed like the
    rest."""
    n = len(x)
    half = min(half, (n - 1) // 2)
    if half < 1:
        return x.copy()
    width = 2 * half + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, width)  # (T - 2 half, width)
    out = np.empty(n)
    out[half:n - half] = np.median(windows, axis=1) if robust else windows.mean(1)
    for frames, start in ((np.arange(half), 0), (np.arange(n - half, n), n - width)):
        value, slope = _line_fit(np.arange(width, dtype=np.float64), x[start:start + width], robust)
        out[frames] = value + slope * (frames - start)
    return out


def _fill_lines(x: np.ndarray, missing: np.ndarray, reach: int = 4) -> np.ndarray:
    """``x`` (T, ...) with the ``missing`` (T,) frames interpolated linearly in time between the nearest
    others, and beyond the first or last other frame extended along the straight line fitted
    (Theil-Sen) to the ``reach`` others nearest that end (held when there is only one)."""
    good = np.flatnonzero(~missing)
    if not missing.any() or len(good) == 0:
        return x.copy()
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1)
    filled = np.stack([np.interp(t, good, column[good]) for column in flat.T], -1)
    if len(good) >= 2:
        for ends, near in ((t < good[0], good[:reach]), (t > good[-1], good[-reach:])):
            if ends.any():
                for c, column in enumerate(flat.T):
                    value, slope = _line_fit(near.astype(np.float64), column[near], robust=True)
                    filled[ends, c] = value + slope * t[ends]
    return filled.reshape(x.shape)


def smooth_depth(translation: np.ndarray, fps: float, window_s: float = 0.3,
                 rejected: np.ndarray | None = None) -> np.ndarray:
    """Smooth root translations (T, 3) metres over time: depth only, each frame's viewing ray kept.

    The depth (z) goes through a centred running median (robust to single bad frames) and then a
    centred running mean, both over ``window_s`` seconds; within half a window of either end a
    straight line fitted to the first or last window (Theil-Sen, then least squares) stands in for
    them. x and y are rescaled along the frame's own ray, so that the root still projects where the
    2D put it. Unbiased on a constant-velocity path. ``rejected`` (T,) bool: frames whose
    translation is not to be trusted (:func:`root_jumps`): before the smoothing they are put on the
    straight line between (or beyond) the frames around them.

    >>> path = np.stack([np.linspace(-1.0, 1.0, 30), np.zeros(30), np.linspace(3.0, 5.0, 30)], -1)
    >>> bad = path.copy()
    >>> bad[-1] *= 1.1  # the last frame 10% too far along its ray
    >>> float(np.abs(smooth_depth(bad, 30.0) - path).max()) < 1e-9
    True
    """
    translation = _path(translation, fps)
    rejected = np.zeros(len(translation), bool) if rejected is None else np.asarray(rejected, bool)
    if rejected.shape != translation.shape[:1]:
        raise ValueError(f"rejected must be ({len(translation)},) bool like the path, got shape {rejected.shape}")
    half = round(float(window_s) * float(fps) / 2)
    translation = _fill_lines(translation, rejected)  # (a median over a window with holes would lag a moving path)
    depth = _centred_lines(_centred_lines(translation[:, 2], half, robust=True), half, robust=False)
    return translation * (depth / translation[:, 2])[:, None]


def root_jumps(translation: np.ndarray, fps: float, min_jump_m: float = ROOT_JUMP_M) -> np.ndarray:
    """Frames (T,) bool where the root (T, 3) metres, camera frame, jumps off its path for one or two frames.

    The test of :func:`gastnet.keypoints.outliers.find_jumps` (a run of one or two frames that
    every prediction from the frames around it misses the same way), on the root in ray
    coordinates, across the ray (x / z and y / z times the median depth) and along it (z) apart:
    a single frame's depth is far noisier than its direction. A jump misses by more than
    ``min_jump_m`` metres at 30 fps or more (growing with ``(30 / fps) ** 2`` below) and by more
    than :data:`~gastnet.keypoints.outliers.NOISE_FACTOR` times the noise the prediction carries,
    from each axis's jitter over the seconds around the frame.

    >>> path = np.stack([np.linspace(-1.0, 1.0, 30), np.full(30, 0.2), np.full(30, 4.0)], -1)
    >>> path[29, 0] += 0.12  # the last frame 12 cm to the right (39 px at 4 m for a 1300 px focal length)
    >>> np.flatnonzero(root_jumps(path, 30.0)).tolist()
    [29]
    """
    translation = _path(translation, fps)
    n = len(translation)
    if n < 3:
        return np.zeros(n, bool)
    typical = float(np.median(translation[:, 2]))
    ray = np.concatenate([translation[:, :2] / translation[:, 2:] * typical, translation[:, 2:]], -1)  # (T, 3) m
    valid, block = np.ones((n, 1), bool), max(3, round(fps))
    noise = np.stack([jitter(ray[:, None, [k]], valid, block) for k in range(3)], -1)  # (T, 1, 3) m, over ~3 s
    limit = min_jump_m * max(1.0, (30.0 / fps) ** 2)
    return find_jumps((ray[:, None, :2], ray[:, None, 2:]), valid, limit, (noise[..., :2], noise[..., 2:]))[:, 0]


def limit_root_motion(translation: np.ndarray, fps: float, max_speed: float = MAX_ROOT_SPEED,
                      max_acceleration: float = MAX_ROOT_ACCELERATION, max_sweeps: int = 2000) -> np.ndarray:
    """The root path (T, 3) metres moved as little as it takes to stay within ``max_speed`` (m/s) and
    ``max_acceleration`` (m/s^2), measured from frame to frame at ``fps``.

    Alternating projections onto each frame pair's speed limit and each frame triple's acceleration
    limit (the smallest move that meets one limit: a triple's excess acceleration is taken out with
    weights 1, -2, 1; a pair's excess step shared between its two frames). A path within the limits
    is returned unchanged; straight lines are never bent. Stops after ``max_sweeps`` sweeps.

    >>> path = np.zeros((9, 3))
    >>> path[8, 0] = 0.1  # 10 cm in the last frame at 30 fps: 3 m/s, 90 m/s^2
    >>> out = limit_root_motion(path, 30.0)
    >>> float(np.abs(np.diff(out, 2, axis=0)).max() * 30.0 ** 2) <= 30.0
    True
    """
    path = _path(translation, fps).copy()
    if not (max_speed > 0 and max_acceleration > 0):
        raise ValueError(f"the limits must be positive, got {max_speed} m/s and {max_acceleration} m/s^2")
    n = len(path)
    step, bend = max_speed / fps * 0.999, max_acceleration / fps**2 * 0.999  # aim just inside the limits

    def excess(vectors: np.ndarray, limit: float) -> np.ndarray:
        length = np.linalg.norm(vectors, axis=-1, keepdims=True)
        return vectors * (1.0 - limit / np.maximum(length, limit))

    for _ in range(max_sweeps):
        moves = np.diff(path, axis=0)
        second = np.diff(path, 2, axis=0)
        if (np.linalg.norm(moves, axis=-1) <= max_speed / fps).all() and (
                np.linalg.norm(second, axis=-1) <= max_acceleration / fps**2).all():
            break
        for start in range(3):  # triples (t - 1, t, t + 1) three frames apart do not share frames
            t = np.arange(1 + start, n - 1, 3)
            e = excess(path[t - 1] - 2 * path[t] + path[t + 1], bend)
            path[t - 1] -= e / 6
            path[t] += e / 3
            path[t + 1] -= e / 6
        for start in range(2):  # pairs (t, t + 1) two frames apart do not share frames
            t = np.arange(start, n - 1, 2)
            e = excess(path[t + 1] - path[t], step)
            path[t] += e / 2
            path[t + 1] -= e / 2
    return path


def clean_root_path(translation: np.ndarray, fps: float, window_s: float = 0.3, max_speed: float = MAX_ROOT_SPEED,
                    max_acceleration: float = MAX_ROOT_ACCELERATION) -> np.ndarray:
    """Per-frame root translations (T, 3) metres, camera frame, made into a path a person can take.

    Frames where the root jumps off its path for a frame or two are rejected (:func:`root_jumps`)
    and put on the straight line through the frames around them, the depth is smoothed over
    ``window_s`` seconds (:func:`smooth_depth`), and the path is kept within ``max_speed`` (m/s) and ``max_acceleration``
    (m/s^2) (:func:`limit_root_motion`). A clean path keeps each frame's ray (the root projects where
    the 2D put it) wherever the limits allow.
    """
    smoothed = smooth_depth(translation, fps, window_s, rejected=root_jumps(translation, fps))
    return limit_root_motion(smoothed, fps, max_speed, max_acceleration)


def root_translation(poses_rel: np.ndarray, keypoints_2d: np.ndarray, scores: np.ndarray | None, focal: float,
                     centre: tuple[float, float], fps: float = DEFAULT_KEYPOINT_FPS, smooth_s: float | None = 0.3,
                     min_joints: int = 6, fallback_weight: float = 0.05) -> np.ndarray:
    """Camera-frame root positions (T, 3) metres that put ``poses_rel`` (T, J, 3) where ``keypoints_2d`` (T, J, 2) are.

    For each joint with centred pixels (u, v) and root-relative (X, Y, Z) the projection of the
    shifted joint must hit the pixel: ``X + Tx - x (Z + Tz) = 0`` and ``Y + Ty - y (Z + Tz) = 0``
    with ``(x, y) = (u - cx, v - cy) / focal``; linear in T, solved per frame by weighted least
    squares (weights: ``scores`` (T, J) in [0, 1]; None: all 1). Joints with score 0 (missing,
    interpolated) get ``fallback_weight`` in frames where fewer than ``min_joints`` have a score,
    0 otherwise. Exact for noise-free data. With ``smooth_s`` seconds (at ``fps``) the per-frame
    solution is cleaned over time (:func:`clean_root_path`: jumps of a frame or two rejected, depth
    smoothed over ``smooth_s``, speed and acceleration within what people do); None or 0 returns
    the per-frame solution.

    The depth scales with the size of the given body and with ``focal``: a lifted body 10% larger
    than the real person (lifters return Human3.6M-sized bodies) puts the person 10% too far.

    >>> rel = np.array([[[0.0, 0.0, 0.0], [0.2, -0.5, 0.1], [-0.2, 0.4, -0.1]]])
    >>> pix = 1000 * (rel[..., :2] + [0.5, 0.1]) / (rel[..., 2:] + 4.0) + [960, 540]
    >>> root_translation(rel, pix, None, 1000.0, (960, 540), smooth_s=None).round(6).tolist()
    [[0.5, 0.1, 4.0]]
    """
    poses_rel, keypoints_2d = np.asarray(poses_rel, np.float64), np.asarray(keypoints_2d, np.float64)
    check_shape(keypoints_2d, "T J 2", "keypoints_2d", check_shape(poses_rel, "T J 3", "poses_rel"))
    if len(poses_rel) == 0:
        raise ValueError("poses_rel must have at least one frame, got none")
    weights = np.ones(poses_rel.shape[:2]) if scores is None else np.clip(np.asarray(scores, np.float64), 0, 1)
    if weights.shape != poses_rel.shape[:2]:
        raise ValueError(f"scores must be {poses_rel.shape[:2]}, got {weights.shape}")
    if not (focal > 0 and np.isfinite(poses_rel).all() and np.isfinite(keypoints_2d).all()):
        raise ValueError("focal must be positive and the poses and keypoints finite (fill gaps first)")
    few = (weights > 0).sum(1, keepdims=True) < min_joints
    weights = np.where(few & (weights == 0), fallback_weight, weights)
    x, y = np.asarray((keypoints_2d - np.asarray(centre, np.float64)) / focal).transpose(2, 0, 1)  # (T, J) each
    X, Y, Z = poses_rel.transpose(2, 0, 1)
    bx, by = x * Z - X, y * Z - Y  # right-hand sides of the two rows [1, 0, -x] and [0, 1, -y]
    s, sx, sy = weights.sum(1), (weights * x).sum(1), (weights * y).sum(1)
    sxy2, zero = (weights * (x * x + y * y)).sum(1), np.zeros(len(s))
    normal = np.stack([np.stack([s, zero, -sx], -1), np.stack([zero, s, -sy], -1),
                       np.stack([-sx, -sy, sxy2], -1)], -2)  # (T, 3, 3): A^T W A
    rhs = np.stack([(weights * bx).sum(1), (weights * by).sum(1), -(weights * (x * bx + y * by)).sum(1)], -1)
    translation = np.linalg.solve(normal, rhs[..., None])[..., 0]
    if smooth_s:
        translation = clean_root_path(translation, fps, smooth_s)
    return translation


@dataclass
class WorldPlacement:
    """People in a z-up world frame on the floor; ``X_world = rotation @ X_camera + translation``.

    World frame: z up (the floor normal), x the camera's x axis laid onto the floor, y = z x x
    (away from the camera along the floor), origin on the floor below the camera centre, which is
    therefore at ``translation = (0, 0, camera_height)``; ``rotation[2]`` is the floor normal in
    camera coordinates. All lengths metres.
    """

    poses_world: list[np.ndarray]  # per person (T_i, 17, 3)
    contacts: list[np.ndarray]  # per person (T_i,) bool: a foot judged on the floor
    rotation: np.ndarray  # (3, 3) camera -> world
    translation: np.ndarray  # (3,)
    plane_method: str  # "ransac", "line" or "body-up" (see place_in_world)
    camera_height: float  # metres above the floor (ankle height)
    camera_pitch_deg: float  # optical axis below the horizon (positive: looking down)
    camera_roll_deg: float  # image x axis turned about the optical axis (positive: image right dips)
    notes: list[str] = field(default_factory=list)

    def camera_to_world(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) in the world frame."""
        return np.asarray(points) @ self.rotation.T + self.translation


UP_AGREEMENT_DEG = 50.0
"""Frames whose body axis (the ankles' midpoint -> thorax) lies within this angle of the axis most bodies
agree on make the bodies' up direction (:func:`body_up`) and count as upright (:func:`standing`). In
Human3.6M's motion capture (S9, S11) standing, walking, bowing (S11 Greeting 1: the torso 35 degrees
forward), phoning and walking a dog keep that axis within 41 degrees of upright in every frame; a
person lying down lies 90 degrees off and would tilt the floor of the people standing beside them.
Sitting on a chair (a median of 28-60 degrees, the legs forward) counts in part."""


def _flipped(directions: np.ndarray) -> np.ndarray:
    """Unit directions (T, 3), camera frame, turned into the camera's upper half (y < 0)."""
    d = unit(directions)
    return d * np.where(d[:, 1:2] > 0, -1.0, 1.0)


def _axes(poses: np.ndarray) -> np.ndarray:
    """Per frame (T, 3) the unit body axis of poses (T, 17, 3): from the ankles' midpoint to the thorax."""
    return unit(poses[:, THORAX] - poses[:, ANKLES].mean(1))


def body_up(people: list[np.ndarray]) -> np.ndarray:
    """The bodies' up direction (3,), unit, in the camera frame, from their poses (T_i, 17, 3): the mean
    pelvis -> thorax direction (the head pitches and would tilt it) over the frames whose body agrees.

    Each frame's directions are first turned into the camera's upper half (y < 0: a camera is not
    held upside down, a person in a handstand is). The frames that count are those whose body axis
    (the ankles' midpoint -> thorax: upright while standing, walking or bowing) lies
    within :data:`UP_AGREEMENT_DEG` of the one of the people's median axes that the most upright
    frames lie near (each frame counting by how upright it is in the image), so a person lying
    beside people standing does not tilt it. When every frame agrees (people standing, walking,
    bowing to each other) it is the plain mean, as it was.

    >>> pose = np.zeros((1, 17, 3)); pose[0, THORAX] = [0.0, -0.5, 0.0]; pose[0, ANKLES] = [0.0, 0.9, 0.0]
    >>> body_up([pose]).tolist()  # camera frame: y down
    [0.0, -1.0, 0.0]
    >>> body_up([-pose]).tolist()  # upside down: the same up
    [0.0, -1.0, 0.0]
    """
    torsos = np.concatenate([_flipped(p[:, THORAX] - p[:, PELVIS]) for p in people])
    axes = [_flipped(_axes(p)) for p in people]
    every = np.concatenate(axes)
    near = math.cos(math.radians(UP_AGREEMENT_DEG))
    candidates = [unit(np.median(a, 0)) for a in axes]
    support = [float(np.where(every @ c >= near, -every[:, 1], 0.0).sum()) for c in candidates]
    agree = every @ candidates[int(np.argmax(support))] >= near
    return unit(torsos[agree].mean(0) if agree.any() else torsos.mean(0))


def resting_joint(heights: np.ndarray) -> np.ndarray:
    """Per frame (T,) the joint that rests on the floor, from each joint's height (T, 17) along the up
    direction (metres): the lower ankle, unless another joint lies more than
    :data:`RESTING_BELOW_ANKLE_M` below it (the hands in a handstand, the back lying down).

    >>> heights = np.ones((2, 17)); heights[:, 3] = 0.1; heights[0, 13] = 0.05; heights[1, 13] = -0.5
    >>> resting_joint(heights).tolist()  # an ankle, then a wrist well below it
    [3, 13]
    """
    t = np.arange(len(heights))
    ankle = ANKLES[np.argmin(heights[:, ANKLES], axis=1)]
    lowest = np.argmin(heights, axis=1)
    return np.where(heights[t, lowest] < heights[t, ankle] - RESTING_BELOW_ANKLE_M, lowest, ankle)


def _contact_points(people: list[np.ndarray], up: np.ndarray, fps: float) -> np.ndarray:
    """Candidate floor contacts (N, 3) metres: the joint resting on the floor (:func:`resting_joint`: an
    ankle, the hands in a handstand) in each person's slower half of frames."""
    points = []
    for poses in people:
        lower = poses[np.arange(len(poses)), resting_joint(poses @ up)]  # (T, 3)
        if len(lower) < 4:
            points.append(lower)
            continue
        speed = np.linalg.norm(np.gradient(lower, axis=0), axis=-1) * fps
        points.append(lower[speed <= np.median(speed)])
    return np.concatenate(points)


def _fit_floor(points: np.ndarray, up: np.ndarray, threshold: float, max_tilt_deg: float,
               iterations: int = 300) -> tuple[np.ndarray, float, str, int]:
    """Floor ``n . X = d`` (n unit, pointing along ``up``) through contact ``points`` (N, 3) metres.

    RANSAC over triplets whose normal is within ``max_tilt_deg`` of ``up``, then least squares on
    the inliers (within ``threshold`` metres). When the inliers spread less than 0.3 m along the
    floor (a person standing still) the normal is ``up``; when they lie along a line (less than
    0.15 m across it: one straight walk) the plane holds the line and is turned about it to ``up``.
    Returns (normal, offset, method, number of inliers)."""
    def spread(p: np.ndarray) -> np.ndarray:  # std (m) along the floor's two main directions
        flat = p - np.outer(p @ up, up)
        return np.linalg.svd(flat - flat.mean(0), compute_uv=False) / math.sqrt(len(p))

    inliers, min_up = points, math.cos(math.radians(max_tilt_deg))
    if len(points) >= 3 and spread(points)[0] >= 0.3:
        a, b, c = points[np.random.default_rng(0).integers(0, len(points), (3, iterations))]
        normals = np.cross(b - a, c - a)
        ok = np.linalg.norm(normals, axis=-1) > 1e-6
        normals = unit(normals * np.sign(normals @ up)[:, None])
        ok &= normals @ up >= min_up
        if ok.any():
            distance = np.abs(points @ normals.T - (a * normals).sum(-1))  # (N, iterations)
            best = np.argmax(np.where(ok, (distance < threshold).sum(0), -1))
            inliers = points[distance[:, best] < threshold]
    sv, centre = spread(inliers) if len(inliers) >= 3 else np.zeros(2), inliers.mean(0)
    if sv[0] < 0.3:
        normal, method = up, "body-up"
    elif sv[1] < 0.15:
        line = unit(np.linalg.svd(inliers - centre, full_matrices=False)[2][0])
        normal, method = unit(up - (up @ line) * line), "line"
    else:
        normal = np.linalg.svd(inliers - centre, full_matrices=False)[2][2]
        normal, method = normal * np.sign(normal @ up), "ransac"
        if normal @ up < min_up:
            normal, method = up, "body-up"
    return normal, float(np.median(inliers @ normal)), method, len(inliers)


def _feet_on_floor(poses: np.ndarray, fps: float, air_height: float, air_speed: float,
                   shift_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Shift world poses (T, 17, 3) vertically so the joint resting on the floor (:func:`resting_joint`: an
    ankle when standing; the hands in a handstand) is at z = 0 in contact frames.

    Contact: that joint is less than ``air_height`` metres above its running 20th percentile
    over 2 s (which follows a slow drift of the estimated height but not a jump) and moves up or
    down slower than ``air_speed`` m/s (not taking off or landing). The shift is -height in
    contact frames, interpolated linearly across the others (so a jump keeps its height) and
    averaged over ``shift_s`` seconds. Returns (poses, contact (T,) bool)."""
    height = poses[np.arange(len(poses)), resting_joint(poses[..., 2]), 2]
    n, half = len(height), max(1, round(float(fps)))
    lo = np.array([np.percentile(height[max(0, t - half): t + half + 1], 20) for t in range(n)])
    contact = height - lo < air_height
    if n > 2:
        contact &= np.abs(np.gradient(height)) * fps < air_speed
    if not contact.any():
        contact = height <= lo
    frames = np.flatnonzero(contact)
    shift = np.interp(np.arange(n), frames, -height[frames])
    shift = _centred(shift, round(float(shift_s) * float(fps) / 2), np.nanmean)
    return poses + shift[:, None, None] * np.array([0.0, 0.0, 1.0]), contact


@dataclass(frozen=True)
class Floor:
    """A floor ``normal . X = offset`` in the camera frame (``normal`` (3,) unit, pointing up, along the
    bodies; ``offset`` metres, negative below the camera), how it was fitted (``method``: "ransac",
    "line" or "body-up") and how many foot contacts it holds (``inliers``)."""

    normal: np.ndarray
    offset: float
    method: str
    inliers: int


def standing(people: list[np.ndarray], up: np.ndarray) -> list[bool]:
    """Per person (poses (T_i, 17, 3)) whether they are upright: their body axis (the ankles' midpoint ->
    thorax) within :data:`UP_AGREEMENT_DEG` of ``up`` in at least half of their frames (standing,
    walking, bowing; not lying, in a handstand or in a cartwheel)."""
    near = math.cos(math.radians(UP_AGREEMENT_DEG))
    return [bool(np.mean(_axes(p) @ up >= near) >= 0.5) for p in people]


def fit_floor(people_abs: list[np.ndarray], fps: float, inlier_m: float = 0.06, max_tilt_deg: float = 30.0) -> Floor:
    """The floor under the people's contacts (camera-frame absolute poses (T_i, 17, 3) metres, no NaN),
    as :func:`place_in_world` fits it before it places anybody on it: the floor that the people
    upright (:func:`standing`) stand on when there are any, up along their bodies (a handstand's
    hands or a lying body's back rest some centimetres lower than a standing ankle, z = 0, and would
    tilt it); else the floor that everybody's resting joints lie on."""
    people = _checked_people(people_abs, fps)
    up = body_up(people)
    upright = [p for p, stands in zip(people, standing(people, up)) if stands]
    if upright:
        people, up = upright, body_up(upright)
    normal, offset, method, inliers = _fit_floor(_contact_points(people, up, fps), up, inlier_m, max_tilt_deg)
    return Floor(normal, offset, method, inliers)


def _checked_people(people_abs: list[np.ndarray], fps: float) -> list[np.ndarray]:
    """The people's poses as float64 arrays, each checked (T, 17, 3), T >= 1, finite; ``fps`` > 0."""
    if not isinstance(people_abs, (list, tuple)) or not people_abs:
        raise ValueError("people_abs must be a non-empty list of (T, 17, 3) arrays")
    people = [np.asarray(p, np.float64) for p in people_abs]
    for i, p in enumerate(people):
        check_shape(p, "T 17 3", f"person {i}: camera-frame poses")
        if len(p) == 0:
            raise ValueError(f"person {i}: camera-frame poses must have at least one frame, got none")
        if not np.isfinite(p).all():
            raise ValueError(f"person {i}: poses contain NaN or infinite values (fill gaps first)")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return people


def place_in_world(people_abs: list[np.ndarray], fps: float, inlier_m: float = 0.06, max_tilt_deg: float = 30.0,
                   air_height: float = 0.1, air_speed: float = 0.6, shift_s: float = 0.25) -> WorldPlacement:
    """Fit a floor to everybody's foot contacts and express the people (camera-frame absolute
    poses (T_i, 17, 3) metres, no NaN) in the world frame of :class:`WorldPlacement`.

    Body up is the pelvis -> thorax direction the people's frames agree on (:func:`body_up`). The
    floor comes from the joint resting on it (:func:`resting_joint`: an ankle when standing; the
    hands in a handstand) in each person's slower half of the frames (:func:`_fit_floor`: "ransac",
    else "line" or "body-up" when the contacts cannot fix a plane); then that joint is put on it
    frame by frame where it rests (:func:`_feet_on_floor`).
    Horizontal positions are kept as estimated.
    """
    people = _checked_people(people_abs, fps)
    floor = fit_floor(people, fps, inlier_m, max_tilt_deg)
    normal, offset, method, inliers = floor.normal, floor.offset, floor.method, floor.inliers
    x_axis = unit(np.array([1.0, 0.0, 0.0]) - normal[0] * normal)
    rotation = np.stack([x_axis, np.cross(normal, x_axis), normal])
    translation = -rotation @ (offset * normal)
    forward, right = rotation[:, 2], rotation[:, 0]  # the camera's z and x axes in the world
    level = unit(np.cross(forward, [0.0, 0.0, 1.0]))
    roll = math.atan2(right @ np.cross(forward, level), right @ level)
    notes = [{"ransac": f"floor fitted to {inliers} foot contacts",
              "line": f"the {inliers} foot contacts lie along a line: the floor holds it and is levelled "
                      "across it by the body's up direction",
              "body-up": "the foot contacts cannot fix a plane (too little movement): the floor is level "
                         "with the body's up direction"}[method]]
    if translation[2] <= 0:
        notes.append(f"the camera comes out {translation[2]:.2f} m above the floor: the floor fit is doubtful")
    placed = [_feet_on_floor(p @ rotation.T + translation, fps, air_height, air_speed, shift_s) for p in people]
    return WorldPlacement([w for w, _ in placed], [c for _, c in placed], rotation, translation, method,
                          float(translation[2]), math.degrees(math.asin(-forward[2])), math.degrees(roll), notes)
