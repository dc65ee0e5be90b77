"""Place lifted people in the world: root translation from the 2D, a floor, a z-up world frame.

A lifter gives root-relative poses in the camera frame (metres; x right, y down, z forward). The
2D keypoints they were lifted from fix where the root is: :func:`root_translation` finds, per
frame, the camera-frame translation whose pinhole projection best matches the 2D (linear least
squares, weighted by the joints' confidences), then smooths its noisy depth over time.
:func:`place_in_world` fits a floor to the foot contacts of everybody, builds a world frame on it
(z up; origin on the floor below the camera) and puts the feet on that floor frame by frame.

Human3.6M-17 has no foot joints: the floor z = 0 is the height of the ankle joint of a standing
foot (the true ground lies some 5-10 cm lower), and so is the camera height reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..camera import fov_to_focal
from ..keypoints.tracks import DEFAULT_KEYPOINT_FPS

__all__ = ["ANKLE_HEIGHT_FRACTION", "DEFAULT_FOV_DEG", "WorldPlacement", "body_scale", "focal_from_fov",
           "place_in_world", "root_translation", "smooth_depth"]

DEFAULT_FOV_DEG = 65.0
"""Field of view (degrees) across the long side of the image assumed when the lens is unknown.

A phone's main camera is ~26 mm full-frame equivalent: 2 atan(37.7 / 2 / 26) = 72 degrees across
the long side of a 16:9 frame, and video modes crop a few percent more for stabilisation (~65-70);
ordinary webcams (~78 degrees diagonal) have ~60-70 across. The depth found scales with the focal
length, so a 10% wrong focal length gives people 10% too far or too near and the camera too high
or too low by as much."""

ANKLE_HEIGHT_FRACTION = 0.039
"""Height of the ankle joint above the sole as a fraction of stature (standard anthropometric tables)."""

PELVIS, R_ANKLE, L_ANKLE, THORAX = 0, 3, 6, 8
ANKLES = (R_ANKLE, L_ANKLE)


def focal_from_fov(fov_deg: float, image_size: tuple[float, float]) -> float:
    """Focal length (pixels) of a pinhole camera whose ``fov_deg`` spans the long side of ``image_size`` (w, h).

    >>> round(focal_from_fov(90.0, (1920, 1080)), 6)
    960.0
    """
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
    if min(image_size) <= 0:
        raise ValueError(f"image size must be positive, got {image_size}")
    width, height = image_size
    return fov_to_focal(fov_deg, width / height) * width / 2.0  # normalised focal length to pixels


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

    def bone(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(poses_rel[:, a] - poses_rel[:, b], axis=-1)

    legs = (bone(3, 2) + bone(2, 1) + bone(6, 5) + bone(5, 4)) / 2
    standing = float(np.median(legs + bone(0, 7) + bone(7, 8) + bone(8, 9) + bone(9, 10)))
    return person_height * (1 - ANKLE_HEIGHT_FRACTION) / standing


def smooth_depth(translation: np.ndarray, fps: float, window_s: float = 0.3) -> np.ndarray:
    """Smooth root translations (T, 3) metres over time: depth only, each frame's viewing ray kept.

    The depth (z) goes through a centred running median (robust to single bad frames) and then a
    centred running mean, both over ``window_s`` seconds; x and y are rescaled along the frame's own
    ray, so that the root still projects where the 2D put it. Unbiased on a constant-velocity path.
    """
    half = round(float(window_s) * float(fps) / 2)
    depth = _centred(_centred(translation[:, 2], half, np.nanmedian), half, np.nanmean)
    return translation * (depth / translation[:, 2])[:, None]


def root_translation(poses_rel: np.ndarray, keypoints_2d: np.ndarray, scores: np.ndarray | None, focal: float,
                     centre: tuple[float, float], fps: float = DEFAULT_KEYPOINT_FPS, smooth_s: float | None = 0.3,
                     min_joints: int = 6, fallback_weight: float = 0.05) -> np.ndarray:
    """Camera-frame root positions (T, 3) metres that put ``poses_rel`` (T, J, 3) where ``keypoints_2d`` (T, J, 2) are.

    For each joint with centred pixels (u, v) and root-relative (X, Y, Z) the projection of the
    shifted joint must hit the pixel: ``X + Tx - x (Z + Tz) = 0`` and ``Y + Ty - y (Z + Tz) = 0``
    with ``(x, y) = (u - cx, v - cy) / focal``; linear in T, solved per frame by weighted least
    squares (weights: ``scores`` (T, J) in [0, 1]; None: all 1). Joints with score 0 (missing,
    interpolated) get ``fallback_weight`` in frames where fewer than ``min_joints`` have a score,
    0 otherwise. Exact for noise-free data. ``smooth_s`` seconds (at ``fps``): see
    :func:`smooth_depth`; None or 0 returns the per-frame solution.

    The depth scales with the size of the given body and with ``focal``: a lifted body 10% larger
    than the real person (lifters return Human3.6M-sized bodies) puts the person 10% too far.

    >>> rel = np.array([[[0.0, 0.0, 0.0], [0.2, -0.5, 0.1], [-0.2, 0.4, -0.1]]])
    >>> pix = 1000 * (rel[..., :2] + [0.5, 0.1]) / (rel[..., 2:] + 4.0) + [960, 540]
    >>> root_translation(rel, pix, None, 1000.0, (960, 540), smooth_s=None).round(6).tolist()
    [[0.5, 0.1, 4.0]]
    """
    poses_rel, keypoints_2d = np.asarray(poses_rel, np.float64), np.asarray(keypoints_2d, np.float64)
    if poses_rel.ndim != 3 or poses_rel.shape[-1] != 3 or len(poses_rel) == 0:
        raise ValueError(f"poses_rel must be (T, J, 3) with T >= 1, got {poses_rel.shape}")
    if keypoints_2d.shape != poses_rel.shape[:2] + (2,):
        raise ValueError(f"keypoints_2d must be {poses_rel.shape[:2] + (2,)} like poses_rel, got {keypoints_2d.shape}")
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
        translation = smooth_depth(translation, fps, smooth_s)
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


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True).clip(1e-12)


def _contact_points(people: list[np.ndarray], up: np.ndarray, fps: float) -> np.ndarray:
    """Candidate foot contacts (N, 3) metres: the lower ankle along ``up`` in each person's slower half of frames."""
    points = []
    for poses in people:
        ankles = poses[:, ANKLES]  # (T, 2, 3)
        lower = ankles[np.arange(len(poses)), np.argmin(ankles @ up, axis=1)]
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
        normals = _unit(normals * np.sign(normals @ up)[:, None])
        ok &= normals @ up >= min_up
        if ok.any():
            distance = np.abs(points @ normals.T - (a * normals).sum(-1))  # (N, iterations)
            best = np.argmax(np.where(ok, (distance < threshold).sum(0), -1))
            inliers = points[distance[:, best] < threshold]
    sv, centre = spread(inliers) if len(inliers) >= 3 else np.zeros(2), inliers.mean(0)
    if sv[0] < 0.3:
        normal, method = up, "body-up"
    elif sv[1] < 0.15:
        line = _unit(np.linalg.svd(inliers - centre, full_matrices=False)[2][0])
        normal, method = _unit(up - (up @ line) * line), "line"
    else:
        normal = np.linalg.svd(inliers - centre, full_matrices=False)[2][2]
        normal, method = normal * np.sign(normal @ up), "ransac"
        if normal @ up < min_up:
            normal, method = up, "body-up"
    return normal, float(np.median(inliers @ normal)), method, len(inliers)


def _feet_on_floor(poses: np.ndarray, fps: float, air_height: float, air_speed: float,
                   shift_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Shift world poses (T, 17, 3) vertically so the lower ankle is at z = 0 in contact frames.

    Contact: the lower ankle is less than ``air_height`` metres above its running 20th percentile
    over 2 s (which follows a slow drift of the estimated height but not a jump) and moves up or
    down slower than ``air_speed`` m/s (not taking off or landing). The shift is -height in
    contact frames, interpolated linearly across the others (so a jump keeps its height) and
    averaged over ``shift_s`` seconds. Returns (poses, contact (T,) bool)."""
    height = poses[:, ANKLES, 2].min(1)
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


def place_in_world(people_abs: list[np.ndarray], fps: float, inlier_m: float = 0.06, max_tilt_deg: float = 30.0,
                   air_height: float = 0.1, air_speed: float = 0.6, shift_s: float = 0.25) -> WorldPlacement:
    """Fit a floor to everybody's foot contacts and express the people (camera-frame absolute
    poses (T_i, 17, 3) metres, no NaN) in the world frame of :class:`WorldPlacement`.

    Body up is the mean pelvis -> thorax direction over all people and frames (the head pitches
    and would tilt it). The floor comes from the lower ankle of each person's slower half of the
    frames (:func:`_fit_floor`: "ransac", else "line" or "body-up" when the contacts cannot fix
    a plane); then each person's feet are put on it frame by frame (:func:`_feet_on_floor`).
    Horizontal positions are kept as estimated.
    """
    if not isinstance(people_abs, (list, tuple)) or not people_abs:
        raise ValueError("people_abs must be a non-empty list of (T, 17, 3) arrays")
    people = [np.asarray(p, np.float64) for p in people_abs]
    for i, p in enumerate(people):
        if p.ndim != 3 or p.shape[1:] != (17, 3) or len(p) == 0:
            raise ValueError(f"person {i}: expected camera-frame poses (T, 17, 3) with T >= 1, got {p.shape}")
        if not np.isfinite(p).all():
            raise ValueError(f"person {i}: poses contain NaN or infinite values (fill gaps first)")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    up = _unit(np.concatenate([_unit(p[:, THORAX] - p[:, PELVIS]) for p in people]).mean(0))
    normal, offset, method, inliers = _fit_floor(_contact_points(people, up, fps), up, inlier_m, max_tilt_deg)
    x_axis = _unit(np.array([1.0, 0.0, 0.0]) - normal[0] * normal)
    rotation = np.stack([x_axis, np.cross(normal, x_axis), normal])
    translation = -rotation @ (offset * normal)
    forward, right = rotation[:, 2], rotation[:, 0]  # the camera's z and x axes in the world
    level = _unit(np.cross(forward, [0.0, 0.0, 1.0]))
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
