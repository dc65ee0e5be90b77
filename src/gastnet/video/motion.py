"""The camera's own motion, measured on the background of a video with the people masked out.

:class:`CameraMotionEstimator` watches the background while the video is decoded (one
:meth:`~CameraMotionEstimator.update` per frame, with the people's boxes: :func:`boxes_from_keypoints`)
and :meth:`~CameraMotionEstimator.finish` returns a :class:`~gastnet.world.camera_motion.CameraMotion`
(the kinds of motion and the conventions are described there; the analysis is numpy only and lives
in :mod:`gastnet.world.camera_motion`).

How it measures: each frame is converted to grey and halved (2 x 2 averages) until its long side
is at most 800 px (1920 x 1080 works at 480 x 270); corners (``cv2.goodFeaturesToTrack``) outside
the people's boxes are tracked from frame to frame (pyramidal Lucas-Kanade); a homography from
the current keyframe to the frame is fitted to the tracks with RANSAC. A new keyframe starts when
fewer than :attr:`CameraMotionEstimator.refresh_fraction` of the keyframe's features are still
tracked and fit, keeping those and adding fresh corners; measuring each frame against its keyframe
rather than its predecessor keeps the drift to one step per keyframe. The rotation comes from
each keyframe measurement, ``K^-1 H K`` projected to the nearest rotation (SVD), chained over the
keyframes.

Limits. A camera that moves while it sees only a far background (a phone carried along a street
of distant houses) moves it as a rotation would: it is called "rotating", and the people, who are
near, are placed as if it had turned. Things that move by themselves and are not in the boxes
(people the detector missed, cars) are outvoted by RANSAC while they are fewer than the still
background, but a crowd of them looks like parallax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..world.camera_motion import BackgroundMeasurements, CameraMotion, analyse_motion
from .lines import LineFocal, combine_line_focals, detect_segments, focal_from_segments
from .reader import require_cv2

__all__ = ["LINE_FRAMES", "CameraMotionEstimator", "boxes_from_keypoints"]

LINE_FRAMES = (0, 25, 100, 400)
"""The frames whose straight lines are measured for the focal length (:mod:`gastnet.video.lines`):
few, so that it costs little (about 50 ms each at the working size), spread so that a moving camera
shows different parts of the scene."""

_MIN_TRACKS = 12  # fewer tracked points than this: the frame is not measured


def boxes_from_keypoints(keypoints: Sequence[np.ndarray] | np.ndarray,
                         scores: Sequence[np.ndarray] | np.ndarray | None = None, min_score: float = 0.2,
                         pad: float = 0.12) -> np.ndarray:
    """Person boxes (N, 4) pixels ``(x0, y0, x1, y1)`` around people's keypoints (N, J, 2) pixels.

    Joints with a score (N, J) below ``min_score`` are left out (a person with fewer than two
    left gives no box). Joints are centres: limbs, hands, feet and hair reach further, so each box
    is widened on every side by ``pad`` times its longer side (about a limb's width).

    >>> boxes_from_keypoints(np.array([[[100.0, 50.0], [120.0, 250.0]]])).tolist()
    [[76.0, 26.0, 144.0, 274.0]]
    """
    points = np.asarray(keypoints, np.float64)
    if points.ndim == 2:
        points = points[None]
    if points.ndim != 3 or points.shape[-1] != 2:
        raise ValueError(f"keypoints must be (N, J, 2) pixels, got {points.shape}")
    keep = np.isfinite(points).all(-1)
    if scores is not None:
        keep &= np.asarray(scores, np.float64).reshape(points.shape[:2]) >= min_score
    boxes = []
    for person, ok in zip(points, keep):
        if ok.sum() < 2:
            continue
        low, high = person[ok].min(0), person[ok].max(0)
        grow = pad * float((high - low).max())
        boxes.append([low[0] - grow, low[1] - grow, high[0] + grow, high[1] + grow])
    return np.array(boxes, np.float64).reshape(-1, 4)


# --- the streaming estimator -----------------------------------------------------------------------


class CameraMotionEstimator:
    """Measure the camera's motion while a video is decoded: :meth:`update` once per frame, then :meth:`finish`.

    ``focal``: the focal length in pixels of the full-size frames, when known (else the background
    estimates it, or :data:`~gastnet.geometry.camera.DEFAULT_FOV_DEG` is assumed; :meth:`finish` can still be given one).
    ``max_features``: corners tracked at a time; ``min_distance``: pixels between them at the
    working size; ``box_margin``: each person box is widened by this fraction of its size on
    every side before masking; ``ransac_px``: the homography's inlier threshold at the working
    size; ``refresh_fraction``: a new keyframe starts when fewer than this fraction of the
    keyframe's features are still tracked and on the homography.

    It costs about 4 ms of one core per 1920 x 1080 frame (3.8 ms measured, 1.5 ms of it the grey
    conversion and the downscale: ``python benchmarks/bench_camera_motion.py --speed``).
    """

    def __init__(self, focal: float | None = None, *, max_features: int = 200, min_distance: int = 8,
                 box_margin: float = 0.1, ransac_px: float = 1.0, refresh_fraction: float = 0.6,
                 max_work_side: int = 800):
        if focal is not None and not (np.isfinite(focal) and focal > 0):
            raise ValueError(f"focal must be positive pixels or None, got {focal}")
        if not (max_features >= 20 and min_distance >= 1 and box_margin >= 0 and ransac_px > 0
                and 0 < refresh_fraction < 1 and max_work_side >= 64):
            raise ValueError("expected max_features >= 20, min_distance >= 1, box_margin >= 0, ransac_px > 0, "
                             f"0 < refresh_fraction < 1, max_work_side >= 64; got {max_features}, {min_distance}, "
                             f"{box_margin}, {ransac_px}, {refresh_fraction}, {max_work_side}")
        self._cv2 = require_cv2()
        self.focal = None if focal is None else float(focal)
        self.max_features, self.min_distance, self.box_margin = max_features, min_distance, box_margin
        self.ransac_px, self.refresh_fraction, self.max_work_side = ransac_px, refresh_fraction, max_work_side
        self._size: tuple[int, int] | None = None
        self._halvings = 0
        self._scale = self._unscale = np.eye(3)  # full-size pixels -> working pixels, and back
        self._prev_grey = np.zeros((0, 0), np.uint8)
        self._points = np.zeros((0, 1, 2), np.float32)  # current positions (working pixels)
        self._key_points = np.zeros((0, 1, 2), np.float32)  # the same features in the keyframe
        self._key_count = 0
        self._key = 0
        self._key_from_0 = np.eye(3)  # homography frame 0 -> keyframe (full size)
        self._key_h: list[np.ndarray] = []
        self._keyframes: list[int] = []
        self._h: list[np.ndarray] = []
        self._tracked: list[int] = []
        self._inliers: list[int] = []
        self._measured: list[bool] = []
        self._win = (11, 11)
        self._levels = 3
        self._lines: list[LineFocal] = []
        self._tracks: list[tuple[np.ndarray, np.ndarray]] = []  # per frame: keyframe and frame points, full size

    @property
    def frames(self) -> int:
        """Frames seen so far."""
        return len(self._h)

    # -- per frame

    def _grey(self, frame: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        for _ in range(self._halvings):
            h, w = grey.shape
            grey = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)  # exact 2 x 2 means
        return grey

    def _start(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self._size = (w, h)
        halvings, side = 0, max(w, h)
        while side > self.max_work_side:
            side //= 2
            halvings += 1
        self._halvings = halvings
        sx, sy = (w >> halvings) / w, (h >> halvings) / h  # OpenCV's resize: x' = (x + 0.5) s - 0.5
        self._scale = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
        self._unscale = np.linalg.inv(self._scale)

    def _mask(self, shape: tuple[int, ...], boxes: np.ndarray, points: np.ndarray | None = None) -> np.ndarray | None:
        if not len(boxes) and points is None:
            return None
        mask = np.full(shape[:2], 255, np.uint8)
        for x0, y0, x1, y1 in self._work_boxes(boxes):
            mask[max(0, int(y0)): max(0, int(math.ceil(y1)) + 1), max(0, int(x0)): max(0, int(math.ceil(x1)) + 1)] = 0
        if points is not None:
            for x, y in points.reshape(-1, 2):
                self._cv2.circle(mask, (int(round(x)), int(round(y))), self.min_distance, 0, -1)
        return mask

    def _work_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Person boxes (N, 4) full-size pixels, widened by the margin, at the working size."""
        if not len(boxes):
            return boxes
        grow = self.box_margin * np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1)
        wide = boxes + np.concatenate([-grow, grow], 1)
        s = self._scale
        return np.stack([wide[:, 0] * s[0, 0] + s[0, 2], wide[:, 1] * s[1, 1] + s[1, 2],
                         wide[:, 2] * s[0, 0] + s[0, 2], wide[:, 3] * s[1, 1] + s[1, 2]], 1)

    def _detect(self, grey: np.ndarray, boxes: np.ndarray, keep: np.ndarray) -> np.ndarray:
        wanted = self.max_features - len(keep)
        if wanted <= 0:
            return keep
        mask = self._mask(grey.shape, boxes, keep if len(keep) else None)
        found = self._cv2.goodFeaturesToTrack(grey, wanted, 0.01, self.min_distance, mask=mask, blockSize=5)
        if found is None:
            return keep
        return np.concatenate([keep.reshape(-1, 1, 2), found.astype(np.float32)]).astype(np.float32)

    def update(self, frame_rgb: np.ndarray, person_boxes: Sequence[Sequence[float]] | np.ndarray = ()) -> None:
        """Measure one frame (h, w, 3) uint8 RGB, full size, with the people's boxes (x0, y0, x1, y1) pixels.

        Frames come in order, all of one size. Features inside the boxes (widened by
        ``box_margin``) are neither taken nor kept: people move on their own."""
        if not isinstance(frame_rgb, np.ndarray) or frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 \
                or frame_rgb.shape[2] != 3 or min(frame_rgb.shape[:2]) < 16:
            found = (f"{frame_rgb.dtype} array {frame_rgb.shape}" if isinstance(frame_rgb, np.ndarray)
                     else type(frame_rgb).__name__)
            raise ValueError(f"expected an RGB frame (h, w, 3) uint8 of at least 16 x 16 pixels, got {found}")
        boxes = np.asarray(person_boxes, np.float64).reshape(-1, 4) if len(person_boxes) else np.zeros((0, 4))
        if not np.isfinite(boxes).all():
            raise ValueError("person boxes must be finite (x0, y0, x1, y1) pixels")
        if self._size is None:
            self._start(frame_rgb)
        elif frame_rgb.shape[1::-1] != self._size:
            raise ValueError(f"every frame must be {self._size[0]} x {self._size[1]} like the first, "
                             f"got {frame_rgb.shape[1]} x {frame_rgb.shape[0]}")
        cv2 = self._cv2
        grey = self._grey(frame_rgb)
        t = len(self._h)
        if t in LINE_FRAMES:
            self._measure_lines(grey, boxes)
        if t == 0:
            self._new_keyframe(0, grey, boxes, np.zeros((0, 1, 2), np.float32), np.eye(3))
            self._record(np.eye(3), np.eye(3), len(self._points), len(self._points), True)
            self._tracks.append((self._to_full(self._points), self._to_full(self._points)))
            self._prev_grey = grey
            return
        h_key, inliers, measured = np.eye(3), np.zeros(0, bool), False
        if len(self._points):
            points, status, _ = cv2.calcOpticalFlowPyrLK(
                self._prev_grey, grey, self._points, None, winSize=self._win, maxLevel=self._levels,
                criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 0.03))
            x, y = points[:, 0, 0], points[:, 0, 1]
            keep = (status[:, 0] == 1) & (x >= 0) & (y >= 0) & (x <= grey.shape[1] - 1) & (y <= grey.shape[0] - 1)
            for x0, y0, x1, y1 in self._work_boxes(boxes):
                keep &= ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
            self._points, self._key_points = points[keep], self._key_points[keep]
        if len(self._points) >= _MIN_TRACKS:
            h_work, mask = cv2.findHomography(self._key_points, self._points, cv2.RANSAC, self.ransac_px,
                                              maxIters=1000, confidence=0.995)
            if h_work is not None and mask is not None and int(mask.sum()) >= _MIN_TRACKS:
                h_key = self._unscale @ h_work @ self._scale
                inliers, measured = mask[:, 0].astype(bool), True
        tracked = len(self._points)
        self._tracks.append((self._to_full(self._key_points), self._to_full(self._points)))
        if measured:
            h0 = h_key @ self._key_from_0
        else:  # hold the last pose and start again from here
            h0 = self._h[-1]
        self._record(h_key, h0, tracked, int(inliers.sum()), measured)
        if not measured or inliers.sum() < self.refresh_fraction * self._key_count:
            keep_points = self._points[inliers] if measured else np.zeros((0, 1, 2), np.float32)
            self._new_keyframe(t, grey, boxes, keep_points, h0)
        self._prev_grey = grey

    def on_frame(self, index: int, rgb_frame: np.ndarray,
                 people: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> None:
        """:meth:`update` with the people as a detector gives them: ``people`` a list of (keypoints
        (J, 2) pixels, scores (J,)), boxed by :func:`boxes_from_keypoints`. ``index``: the frame's
        number from 0, which must follow the last one (a frame skipped would be measured wrongly)."""
        if index != self.frames:
            raise ValueError(f"frames must come in order: expected frame {self.frames}, got {index}")
        boxes = [boxes_from_keypoints(k, s) for k, s in people]
        self.update(rgb_frame, np.concatenate(boxes) if boxes else ())

    def _to_full(self, points: np.ndarray, dtype: type = np.float32) -> np.ndarray:
        """Working-size points (..., 2) as full-size pixels (N, 2) of ``dtype``."""
        u = self._unscale
        p = points.reshape(-1, 2).astype(np.float64)
        return np.stack([p[:, 0] * u[0, 0] + u[0, 2], p[:, 1] * u[1, 1] + u[1, 2]], 1).astype(dtype)

    def _measure_lines(self, grey: np.ndarray, boxes: np.ndarray) -> None:
        """The focal length from the straight lines of one working-size frame, people's boxes left out."""
        assert self._size is not None
        segments = detect_segments(grey, self._work_boxes(boxes))
        full = self._to_full(segments, np.float64).reshape(-1, 4)
        found = focal_from_segments(full, self._size, seed=len(self._lines))
        if found is not None:
            self._lines.append(found)

    def _new_keyframe(self, t: int, grey: np.ndarray, boxes: np.ndarray, keep: np.ndarray, h0: np.ndarray) -> None:
        self._points = self._detect(grey, boxes, keep)
        self._key_points = self._points.copy()
        self._key_count, self._key, self._key_from_0 = len(self._points), t, h0

    def _record(self, h_key: np.ndarray, h0: np.ndarray, tracked: int, inliers: int, measured: bool) -> None:
        self._key_h.append(h_key)
        self._keyframes.append(self._key)
        self._h.append(h0 / h0[2, 2] if abs(h0[2, 2]) > 1e-12 else h0)
        self._tracked.append(tracked)
        self._inliers.append(inliers)
        self._measured.append(measured)

    # -- the result

    def finish(self, focal: float | None = None) -> CameraMotion:
        """The motion of the frames seen so far (see :class:`~gastnet.world.camera_motion.CameraMotion`);
        the estimator can go on.

        ``focal`` (pixels, full size) overrides the constructor's. Without either, the
        background's own estimate is used when the camera turned enough, else the one from its
        straight lines, else :data:`~gastnet.geometry.camera.DEFAULT_FOV_DEG`
        (:func:`~gastnet.world.camera_motion.analyse_motion`)."""
        if self._size is None:
            raise ValueError("no frames yet: call update() with every frame before finish()")
        lines = combine_line_focals(self._lines)
        meas = BackgroundMeasurements(self._size, np.array(self._key_h), np.array(self._keyframes), np.array(self._h),
                                      np.array(self._tracked), np.array(self._inliers), np.array(self._measured),
                                      None if lines is None else lines.estimate(self._size), tuple(self._tracks))
        return analyse_motion(meas, focal if focal is not None else self.focal)
