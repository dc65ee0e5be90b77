"""The camera's motion over a clip, analysed from its background's homographies (numpy only).

The measuring (OpenCV, the people masked out) is :class:`gastnet.video.motion.CameraMotionEstimator`;
it hands its per-frame :class:`BackgroundMeasurements` to :func:`analyse_motion`, which this
module holds with the result, :class:`CameraMotion`.

A lifter gives each frame's people in that frame's camera. When the camera turns (a phone panning
to follow people) the world fitted to those camera-frame poses turns with it: the floor tilts and
the walkers lean. :class:`~gastnet.video.motion.CameraMotionEstimator` watches the background while the video is
decoded (one ``update`` per frame, with the people's boxes) and
``finish`` returns a :class:`CameraMotion`: the homography of the
background from frame 0 to every frame, the camera's rotation when a rotation explains it, and
whether the camera was

- ``"static"``: it turned less than :data:`STATIC_MAX_DEG` from the first frame;
- ``"rotating"``: it panned, tilted or rolled about its centre (a tripod head, a phone turned in
  the hand: the translation is small next to the distance of the background);
- ``"translating/zooming"``: a rotation does not explain the background's motion, because the
  camera moved (near and far things shift by different amounts: parallax) or zoomed. Its
  rotations are then unreliable and people are best kept in each frame's camera;
- ``"unknown"``: too little background was seen (a plain wall, people filling the frame).

Conventions. Pixels are those of the full-size frames, with OpenCV's pixel centres at integer
coordinates and the principal point at ``(w / 2, h / 2)``; the camera looks along +z with x
right and y down (gastnet's camera frame). ``homographies[t]`` maps frame 0's pixels to frame
t's: ``x_t ~ H_t @ (u, v, 1)``. ``rotations[t]`` turns frame-0 camera coordinates into frame t's:
``X_cam_t = R_t @ X_cam_0`` for a camera that only rotates, so that ``H_t = K R_t K^-1`` with
``K = [[f, 0, w/2], [0, f, h/2], [0, 0, 1]]``. :func:`to_reference_frame` applies ``R_t^T`` to
put frame t's camera-frame points into the frame-0 camera, a frame that stays fixed while the
camera turns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from ..geometry.camera import DEFAULT_FOV_DEG, fov_to_focal
from ..geometry.rotations import angle_deg, nearest_rotation, rotation_vectors
from ..geometry.shapes import check_shape
from .focal import FocalLengthEstimate

__all__ = ["MAX_ROTATION_COST", "MIN_SELF_CALIBRATION_DEG", "NON_ROTATION_FRAMES", "PARALLAX_FRACTION",
           "ROTATION_RESIDUAL", "STATIC_MAX_DEG", "BackgroundMeasurements", "CameraMotion", "MotionKind",
           "analyse_motion", "focal_from_homographies", "intrinsics", "to_reference_frame"]

class MotionKind(str, Enum):
    """What the camera did over a clip (the module's list); each member equals its string, e.g.
    ``MotionKind.ROTATING == "rotating"``, and its ``value`` is what the results' files say."""

    STATIC = "static"
    ROTATING = "rotating"
    TRANSLATING = "translating/zooming"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


STATIC_MAX_DEG = 0.5
"""A camera that never turns further than this (degrees) from its first frame, and whose background
a rotation explains, is "static"."""

ROTATION_RESIDUAL = 0.004
"""A frame's background motion is explained by a rotation when the rotation-only homography
``K R K^-1`` lands within this fraction of the image's long side (7.7 px at 1920 x 1080) of the
measured homography, on average over a grid on the keyframe (:attr:`CameraMotion.residual_px`)."""

PARALLAX_FRACTION = 0.3
"""A frame shows parallax when more than this fraction of its tracked background points is off
the fitted homography (beyond the RANSAC threshold, 1 px at the working size) while the background
moved since the keyframe (by :data:`ROTATION_RESIDUAL` of the long side, on average over the grid):
points off a background that stood still are things moving on their own (people the boxes missed)."""

NON_ROTATION_FRAMES = 0.2
"""A clip is "translating/zooming" when more than this fraction of its measured frames is not
explained by a rotation (residual above :data:`ROTATION_RESIDUAL` or parallax)."""

MIN_SELF_CALIBRATION_DEG = 5.0
""":func:`focal_from_homographies` needs a pair of frames whose optical axes are at least this many
degrees apart (a pan or tilt; a roll tells nothing about the focal length)."""


MAX_ROTATION_COST = 0.1
"""The most :func:`focal_from_homographies` accepts of its cost at the best focal length (the median
over pairs of ``log(s1 / s3)`` per radian; ~0.02 is a 1% error in the focal length): beyond it no
focal length turns the homographies into rotations (a translating or zooming camera)."""

MAX_FAILED_FRAMES = 0.2  # more frames than this without a background measurement: "unknown"
_JUDGE_MIN_DEG = 0.5  # the smallest turn whose focal length judges whether a rotation explains the background
_FOCAL_RANGE = (0.12, 5.0)  # focal lengths searched, in units of the image's long side (152 to 11 degrees)


# --- small geometry --------------------------------------------------------------------------------


def intrinsics(focal: float, image_size: tuple[int, int]) -> np.ndarray:
    """The camera matrix K (3, 3) of a focal length (pixels), the principal point at the centre of
    ``image_size`` (w, h) pixels."""
    w, h = image_size
    return np.array([[focal, 0.0, w / 2], [0.0, focal, h / 2], [0.0, 0.0, 1.0]])


def _axis_angle_deg(rotations: np.ndarray) -> np.ndarray:
    """Angle (...) degrees between the optical axis before and after rotations (..., 3, 3): pan and tilt, not roll."""
    return np.degrees(np.arccos(np.clip(rotations[..., 2, 2], -1.0, 1.0)))


def to_reference_frame(points: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Frame t's camera-frame points (T, ..., 3) put into the frame-0 camera: ``R_t^T @ X`` (T, ..., 3).

    ``rotations`` (T, 3, 3) as in :attr:`CameraMotion.rotations` (``X_cam_t = R_t @ X_cam_0``).
    Units are kept (metres in, metres out). For a camera that only turns, the result is where the
    points are in a frame fixed to the scene: the first frame's camera.

    >>> pan = np.array([[[1.0, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, -1], [0, 1, 0], [1, 0, 0]]])
    >>> to_reference_frame(np.array([[[0.0, 0, 2]], [[-2.0, 0, 0]]]), pan).tolist()  # turned 90 degrees right
    [[[0.0, 0.0, 2.0]], [[0.0, 0.0, 2.0]]]
    """
    points, rotations = np.asarray(points), np.asarray(rotations)
    check_shape(points, "T ... 3", "points", check_shape(rotations, "T 3 3", "rotations"))
    flat = points.reshape(len(points), -1, 3)
    return np.einsum("tji,tnj->tni", rotations, flat).reshape(points.shape)


# --- focal length from the homographies of a rotating camera ---------------------------------------


def _centred(homographies: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pixel homographies (N, 3, 3) in coordinates centred on the principal point, determinant 1."""
    w, h = image_size
    shift = np.array([[1.0, 0.0, w / 2], [0.0, 1.0, h / 2], [0.0, 0.0, 1.0]])
    unshift = np.array([[1.0, 0.0, -w / 2], [0.0, 1.0, -h / 2], [0.0, 0.0, 1.0]])
    hc = unshift @ homographies @ shift
    det = np.linalg.det(hc)
    return hc / np.cbrt(det)[:, None, None]


def _normalised(hc: np.ndarray, focal: np.ndarray) -> np.ndarray:
    """``K^-1 H K`` (G, N, 3, 3) for centred homographies (N, 3, 3) and focal lengths (G,)."""
    f = focal[:, None]
    m = np.broadcast_to(hc, (len(focal),) + hc.shape).copy()
    m[..., 0, 2] /= f
    m[..., 1, 2] /= f
    m[..., 2, 0] *= f
    m[..., 2, 1] *= f
    return m


def _v_vertex(values: np.ndarray, log_f: np.ndarray, i: int) -> float:
    """Offset (in log f) of the vertex of a V through a minimum ``values`` (3,) at grid point ``i`` and its neighbours."""
    if not 0 < i < len(log_f) - 1 or len(values) != 3 or not np.isfinite(values).all():
        return 0.0
    a, b, c = values
    rise = max(a - b, c - b)
    return 0.0 if rise <= 0 else float((log_f[i + 1] - log_f[i]) * (a - c) / (2 * rise))


def focal_from_homographies(homographies: np.ndarray, image_size: tuple[int, int],
                            min_rotation_deg: float = MIN_SELF_CALIBRATION_DEG) -> FocalLengthEstimate | None:
    """The focal length (pixels) of a camera that only rotates, from homographies between its frames.

    ``homographies`` (N, 3, 3) map pixels of one frame to another of the same camera (constant
    focal length, square pixels, no skew, principal point at the image centre). For the right
    focal length every ``K^-1 H K`` is a rotation: the cost of a focal length is the median over
    the pairs of ``log(s1 / s3) / angle`` (its largest over its smallest singular value, per
    radian of the pair's turn), searched on a log grid from 0.12 to 5 times the long side of
    ``image_size`` (w, h) pixels and refined by fitting a V (the cost grows linearly with
    ``|log f - log f_true|``). Only pairs whose optical axis turns at
    least ``min_rotation_deg`` count; None when no pair does (a static or barely moving camera, or
    one that only rolls), or when even the best focal length leaves the homographies further from
    rotations than :data:`MAX_ROTATION_COST` (a translating or zooming camera).

    The estimate (method "background") takes its uncertainty from the quartiles of the focal
    lengths that fit each frame pair best on its own (how much the pairs disagree); ``samples`` is
    the number of frame pairs that turned enough to count, and the note gives it with the largest turn.

    >>> f, size = 1000.0, (1280, 720)
    >>> k = np.array([[f, 0, 640], [0, f, 360], [0, 0, 1]])
    >>> c, s = np.cos(0.3), np.sin(0.3)
    >>> pan = k @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ np.linalg.inv(k)
    >>> round(focal_from_homographies(pan[None], size).focal_px)
    1000
    """
    hs = np.asarray(homographies, np.float64)
    if hs.ndim != 3 or hs.shape[1:] != (3, 3) or not np.isfinite(hs).all():
        raise ValueError(f"homographies must be finite (N, 3, 3), got shape {hs.shape}")
    w, h = image_size
    if not (w > 0 and h > 0):
        raise ValueError(f"image size must be positive (w, h) pixels, got {image_size}")
    if len(hs) == 0:
        return None
    hc = _centred(hs, image_size)
    long_side = float(max(w, h))
    grid = long_side * np.geomspace(*_FOCAL_RANGE, 321)
    m = _normalised(hc, grid)  # (G, N, 3, 3)
    sv = np.linalg.svd(m, compute_uv=False)
    turn = np.radians(_axis_angle_deg(nearest_rotation(m)))  # (G, N)
    enough = turn >= math.radians(min_rotation_deg)
    ratio = np.log(sv[..., 0] / sv[..., 2]) / np.maximum(turn, 1e-9)
    cost = np.array([np.median(r[e]) if e.any() else np.inf for r, e in zip(ratio, enough)])
    if not np.isfinite(cost).any():
        return None
    best = int(np.argmin(cost))
    log_f = np.log(grid)
    if cost[best] > MAX_ROTATION_COST:
        return None
    focal = float(np.exp(log_f[best] + _v_vertex(cost[best - 1: best + 2], log_f, best)))
    # each pair's own best focal length; the spread of those is the uncertainty
    used = enough[best]
    own = np.where(enough[:, used], ratio[:, used], np.inf)
    own_best = np.argmin(own, axis=0)
    pair_f = np.exp([log_f[i] + _v_vertex(own[i - 1: i + 2, n], log_f, i) for n, i in enumerate(own_best)])
    low, high = np.percentile(pair_f, [25, 75]) if len(pair_f) > 1 else (focal, focal)
    pairs, widest = int(used.sum()), float(np.degrees(turn[best][used]).max())
    return FocalLengthEstimate.from_range(
        focal, min(float(low), focal), max(float(high), focal), image_size, "background",
        f"the camera's turn over {pairs} frame pairs (up to {widest:.0f} degrees)", coverage=0.5, samples=pairs)


# --- the result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackgroundMeasurements:
    """What the background tracker measured, per frame (T frames); independent of the focal length."""

    image_size: tuple[int, int]
    key_homographies: np.ndarray  # (T, 3, 3) keyframe -> frame t, full-size pixels
    keyframes: np.ndarray  # (T,) int: the keyframe each frame was measured against
    homographies: np.ndarray  # (T, 3, 3) frame 0 -> frame t (chained over keyframes)
    tracked: np.ndarray  # (T,) int: background points tracked from the keyframe
    inliers: np.ndarray  # (T,) int: of those, on the homography
    measured: np.ndarray  # (T,) bool: enough points for a homography
    line_focal: FocalLengthEstimate | None = None  # the focal length from the scene's straight lines
    tracks: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # per frame: keyframe and frame points (N, 2), full size


@dataclass(frozen=True)
class CameraMotion:
    """The camera's motion over a clip, from its background (see the module's conventions).

    Per frame (T frames): ``rotations`` (T, 3, 3) frame-0 camera -> frame t camera
    (``X_cam_t = R_t @ X_cam_0``); ``homographies`` (T, 3, 3) frame-0 pixels -> frame-t pixels;
    ``inliers`` (T,) background points that fit the homography; ``residual_px`` (T,) the mean
    distance (full-size pixels) between the rotation-only homography and the measured one over a
    grid on the keyframe (NaN where not measured; the rotation is fitted with the focal length that
    makes the background's homographies most like rotations when the camera turned half a degree
    or more, so that a wrong or default focal length does not make a rotating camera look
    translating); ``parallax`` (T,) the fraction of tracked
    background points off the homography; ``measured`` (T,) False where too little background
    was tracked (the rotation is then held from the frame before).

    ``kind``: a :class:`MotionKind` (static, rotating, translating/zooming or unknown); ``note``: one line for the
    user. ``focal`` (pixels) is the focal length the rotations use and ``focal_source`` says where
    it came from: "given", "estimated" (``focal_estimate``, from the background's turn), "lines"
    (:attr:`line_focal`, from the background's straight lines) or "default"
    (:data:`DEFAULT_FOV_DEG`). ``focal_estimate`` is the background's own estimate
    (:func:`focal_from_homographies`) for a "rotating" camera that turned enough, also when a focal
    length was given; None otherwise.
    """

    kind: MotionKind
    note: str
    image_size: tuple[int, int]
    focal: float
    focal_source: str
    focal_estimate: FocalLengthEstimate | None
    rotations: np.ndarray
    homographies: np.ndarray
    inliers: np.ndarray
    residual_px: np.ndarray
    parallax: np.ndarray
    measured: np.ndarray
    _measurements: BackgroundMeasurements = field(repr=False)
    _estimate: FocalLengthEstimate | None = field(default=None, repr=False)  # kept for with_focal
    _judge: FocalLengthEstimate | None = field(default=None, repr=False)
    zoom: np.ndarray | None = None
    """(T,) how much larger frame t shows the background than frame 0 does, for a "translating/zooming"
    camera whose background a zoom explains (a zoom factor: the focal length grew by it, or the camera
    moved toward a distant background); None otherwise."""

    def __len__(self) -> int:
        return len(self.rotations)

    @property
    def line_focal(self) -> FocalLengthEstimate | None:
        """The focal length from the background's straight lines (vanishing points of orthogonal
        directions, :func:`gastnet.video.lines.focal_from_segments`) over the few frames measured
        for it (:data:`gastnet.video.motion.LINE_FRAMES`); None where none showed enough of them."""
        return self._measurements.line_focal

    @property
    def keyframes(self) -> np.ndarray:
        """(T,) int: the keyframe each frame's background was measured against."""
        return self._measurements.keyframes

    @property
    def tracks(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per frame, the background points (N, 2) full-size pixels tracked from its keyframe: where
        they were in the keyframe and where they are in the frame (empty when not kept)."""
        return self._measurements.tracks

    def up_axis(self) -> np.ndarray:
        """(3,) unit: the axis the camera pans about (the world's up, in frame-0 camera coordinates).

        A camera that follows people turns mostly about the vertical: the dominant axis of the
        rotations (principal axis of their rotation vectors) when the camera turned at least
        5 degrees about an axis within 30 degrees of frame 0's up (-y); frame 0's up otherwise."""
        up = np.array([0.0, -1.0, 0.0])
        vectors = rotation_vectors(self.rotations)
        if np.linalg.norm(vectors, axis=1).max() < math.radians(5.0):
            return up
        axis = np.linalg.eigh(vectors.T @ vectors)[1][:, -1]
        axis = axis * np.sign(axis @ up)
        return axis if axis @ up >= math.cos(math.radians(30.0)) else up

    def angles_deg(self, up: np.ndarray | None = None) -> np.ndarray:
        """(T, 3) degrees: pan, tilt and roll of each frame's camera from frame 0's, about the world's up.

        ``up`` (3,): the world's up in frame-0 camera coordinates (e.g. the floor normal that the
        placement found there); None: :meth:`up_axis`, which leans toward the tilt that comes with
        the pan (a few degrees on a camera that tilts while it follows someone). Pan: the optical
        axis's turn about ``up`` (positive: to the right); tilt: the change of its elevation above
        the plane square to ``up`` (positive: up); roll: the change of the camera x axis's
        depression below that plane (positive: the image's right side dips)."""
        if up is None:
            up = self.up_axis()
        up = np.asarray(up, np.float64)
        if up.shape != (3,) or not np.isfinite(up).all() or np.linalg.norm(up) == 0:
            raise ValueError(f"up must be a non-zero finite 3-vector, got {up!r}")
        up = up / np.linalg.norm(up)
        rt = np.swapaxes(self.rotations, 1, 2)
        axis, right = rt[:, :, 2], rt[:, :, 0]  # frame t's optical and x axes in the frame-0 camera
        flat = axis - np.outer(axis @ up, up)
        first = np.array([0.0, 0.0, 1.0]) - up[2] * up
        pan = np.arctan2(np.cross(first, flat) @ -up, flat @ first)
        tilt = np.arcsin(np.clip(axis @ up, -1, 1)) - math.asin(up[2])
        roll = -(np.arcsin(np.clip(right @ up, -1, 1)) - math.asin(up[0]))
        return np.degrees(np.stack([pan, tilt, roll], axis=1))

    def describe(self, up: np.ndarray | None = None) -> str:
        """The one-line note; for a rotating camera its turns measured about ``up`` (see :meth:`angles_deg`).

        E.g. "camera: panning 34 degrees right, tilting 5 degrees down over the clip"."""
        if self.kind != MotionKind.ROTATING:
            return self.note
        note = f"camera: {_describe_turns(self.angles_deg(up))} over the clip"
        if self.focal_source == "estimated":
            note += f" (focal length {self.focal:.0f} px from the background)"
        elif self.focal_source == "lines":
            note += f" (focal length {self.focal:.0f} px from the scene's straight lines)"
        elif self.focal_source == "default":
            note += f" (focal length unknown: {DEFAULT_FOV_DEG:g} degrees across assumed)"
        return note

    def turned_deg(self) -> np.ndarray:
        """(T,) degrees: the whole rotation of each frame's camera from frame 0's."""
        return angle_deg(self.rotations)

    def to_reference_frame(self, points: np.ndarray) -> np.ndarray:
        """Frame t's camera-frame points (T, ..., 3) in the frame-0 camera (see :func:`to_reference_frame`)."""
        return to_reference_frame(points, self.rotations)

    def with_focal(self, focal: float) -> CameraMotion:
        """The same measurements analysed with another focal length (pixels), e.g. one found from the people."""
        return _analyse(self._measurements, float(focal), "given", self._estimate, self._judge)


def _grid(image_size: tuple[int, int]) -> np.ndarray:
    w, h = image_size
    u, v = np.meshgrid(np.linspace(0.1 * w, 0.9 * w, 7), np.linspace(0.1 * h, 0.9 * h, 5))
    return np.stack([u.ravel(), v.ravel(), np.ones(u.size)])  # (3, 35)


def _transfer(hs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (3, N) homogeneous through homographies (T, 3, 3): (T, N, 2)."""
    p = hs @ points
    return np.swapaxes(p[:, :2] / p[:, 2:], 1, 2)


def _pairs_for_focal(meas: BackgroundMeasurements, samples: int = 12) -> np.ndarray:
    """Homographies (N, 3, 3) between frames, for :func:`focal_from_homographies`.

    Each keyframe's last measurement, and the pairs among ``samples`` frames spread over the clip
    (chained from frame 0), which hold the largest turns."""
    ok = np.flatnonzero(meas.measured)
    if len(ok) < 2:
        return np.zeros((0, 3, 3))
    last = [i for i in ok if i + 1 == len(meas.measured) or meas.keyframes[i + 1] != meas.keyframes[i]]
    direct = [meas.key_homographies[i] for i in last if meas.keyframes[i] != i]
    picks = ok[np.unique(np.linspace(0, len(ok) - 1, samples).round().astype(int))]
    chained = [meas.homographies[j] @ np.linalg.inv(meas.homographies[i])
               for a, i in enumerate(picks) for j in picks[a + 1:]]
    return np.array(direct + chained).reshape(-1, 3, 3)


def _degrees(value: float) -> str:
    return f"{value:.0f} degree" + ("" if round(value) == 1 else "s")


def _describe_turns(angles: np.ndarray) -> str:
    parts = []
    for index, (positive, negative, verb) in enumerate((("right", "left", "panning"), ("up", "down", "tilting"))):
        reach = [(float(angles[:, index].max()), positive), (float(-angles[:, index].min()), negative)]
        reach = [(deg, way) for deg, way in sorted(reach, reverse=True) if deg >= 1.0]
        if reach:
            parts.append(f"{verb} " + " and ".join(f"{_degrees(deg)} {way}" for deg, way in reach))
    roll = float(np.abs(angles[:, 2]).max())
    if roll >= 1.0:
        parts.append(f"rolling up to {_degrees(roll)}")
    return ", ".join(parts) if parts else "turning less than a degree"


def _zoom_model(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``M ~ diag(z, z, 1) R`` to ``M = K^-1 H K`` (N, 3, 3): the rows of a rotation are unit
    vectors, so ``z`` is the first two rows' norm over the third's. Returns (z (N,), the model (N, 3, 3))."""
    m = m * np.sign(np.linalg.det(m))[:, None, None]
    rows = np.linalg.norm(m, axis=-1)
    z = np.sqrt((rows[:, 0] ** 2 + rows[:, 1] ** 2) / 2) / rows[:, 2]
    scale = np.stack([z, z, np.ones_like(z)], -1)
    rot = nearest_rotation(m / scale[..., None])
    return z, scale[..., None] * rot


def _grid_error(a: np.ndarray, b: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Mean distance (pixels) between where homographies a and b (T, 3, 3) send the grid points (3, N): (T,)."""
    return np.linalg.norm(_transfer(a, grid) - _transfer(b, grid), axis=-1).mean(1)


def _analyse(meas: BackgroundMeasurements, focal: float, focal_source: str, estimate: FocalLengthEstimate | None,
             judge: FocalLengthEstimate | None) -> CameraMotion:
    """The motion with ``focal`` (pixels). ``estimate``: the background's focal length (turns of
    :data:`MIN_SELF_CALIBRATION_DEG` or more); ``judge``: the same from any turn of half a degree
    or more, the focal length with which a rotation is judged to explain the background or not
    (a wrong one would not explain it; see :attr:`CameraMotion.residual_px`)."""
    if not (np.isfinite(focal) and focal > 0):
        raise ValueError(f"focal length must be positive pixels, got {focal}")
    k = intrinsics(focal, meas.image_size)
    k_inv = np.linalg.inv(k)
    frames = len(meas.keyframes)
    step = nearest_rotation(k_inv @ meas.key_homographies @ k)  # keyframe -> frame t
    rotations = np.empty((frames, 3, 3))
    for t in range(frames):  # keyframes precede their frames, so their rotation is known
        key = int(meas.keyframes[t])
        rotations[t] = np.eye(3) if t == 0 else (step[t] @ rotations[key] if meas.measured[t] else rotations[t - 1])
    grid, limit = _grid(meas.image_size), ROTATION_RESIDUAL * max(meas.image_size)
    measured = meas.measured.copy()
    measured[0] = False  # frame 0 is its own reference: nothing measured
    # whether a rotation explains the background is judged with the background's own focal length when it has one
    k_judge = k if judge is None else intrinsics(judge.focal_px, meas.image_size)
    judged = nearest_rotation(np.linalg.inv(k_judge) @ meas.key_homographies @ k_judge)
    residual = np.where(measured, _grid_error(meas.key_homographies, k_judge @ judged @ np.linalg.inv(k_judge), grid),
                        np.nan)
    parallax = np.where(measured, 1 - meas.inliers / np.maximum(meas.tracked, 1), np.nan)
    moved = _grid_error(meas.key_homographies, np.broadcast_to(np.eye(3), (frames, 3, 3)), grid) >= limit
    # outliers of a background that did not move are things moving on their own, not parallax
    off = measured & ((residual > limit) | ((parallax > PARALLAX_FRACTION) & moved))
    motion = CameraMotion(MotionKind.UNKNOWN, "", meas.image_size, focal, focal_source, estimate, rotations, meas.homographies,
                          meas.inliers, residual, parallax, meas.measured, meas, estimate, judge)
    turned = float(motion.turned_deg().max())
    failed = 1 - meas.measured[1:].mean() if frames > 1 else 0.0
    off_share = float(off.sum() / max(1, measured.sum()))
    zoom: np.ndarray | None = None
    if failed > MAX_FAILED_FRAMES:
        kind = MotionKind.UNKNOWN
        note = (f"camera: motion unknown: too little background to track in {100 * failed:.0f}% of the frames; "
                "people are placed as if it stood still")
    elif off_share > NON_ROTATION_FRAMES:
        kind = MotionKind.TRANSLATING
        z, model = _zoom_model(k_inv @ meas.key_homographies[off] @ k)
        zoom_fits = np.median(_grid_error(meas.key_homographies[off], k @ model @ k_inv, grid)) <= limit
        if zoom_fits and np.median(parallax[off]) <= PARALLAX_FRACTION:
            zoom, _ = _zoom_model(k_inv @ meas.homographies @ k)  # unmeasured frames hold the frame before's
            chained = zoom[meas.measured]
            what = f"zooming, up to x{chained[np.argmax(np.abs(np.log(chained)))]:.2f}"
        else:
            what = "translating: near and far things shift differently"
        note = (f"camera moves ({what}; a rotation does not explain the background in {100 * off_share:.0f}% "
                "of the frames)")
    elif turned < STATIC_MAX_DEG:
        kind = MotionKind.STATIC
        note = f"camera: static (turned at most {turned:.1f} degrees)"
    else:
        kind = MotionKind.ROTATING
        note = ""
    motion = replace(motion, kind=kind, note=note, focal_estimate=estimate if kind == MotionKind.ROTATING else None,
                     zoom=zoom)
    return replace(motion, note=motion.describe()) if kind == MotionKind.ROTATING else motion


def analyse_motion(meas: BackgroundMeasurements, focal: float | None = None) -> CameraMotion:
    """The camera's motion from the background's measurements (see :class:`CameraMotion`).

    ``focal`` (pixels, full size): the lens when known. Without it the background's own estimate
    (:func:`focal_from_homographies`) is used when the camera turned enough to give one and a
    rotation then explains the background, else the one from its straight lines
    (``meas.line_focal``), else :data:`~gastnet.geometry.camera.DEFAULT_FOV_DEG`."""
    pairs = _pairs_for_focal(meas)
    estimate = focal_from_homographies(pairs, meas.image_size)
    judge = estimate or focal_from_homographies(pairs, meas.image_size, min_rotation_deg=_JUDGE_MIN_DEG)
    if focal is not None:
        return _analyse(meas, float(focal), "given", estimate, judge)
    if estimate is not None:
        motion = _analyse(meas, estimate.focal_px, "estimated", estimate, judge)
        if motion.kind == MotionKind.ROTATING:
            return motion
    if meas.line_focal is not None:
        return _analyse(meas, meas.line_focal.focal_px, "lines", estimate, judge)
    w, h = meas.image_size
    return _analyse(meas, fov_to_focal(DEFAULT_FOV_DEG, w / h) * w / 2, "default", estimate, judge)
