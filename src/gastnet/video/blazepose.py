"""Everyone in a frame with one person-detection pass: BlazePose's two models run under LiteRT.

The ``mediapipe`` wheel ships the two networks of MediaPipe Pose as TensorFlow Lite files
(``modules/pose_detection/pose_detection.tflite`` and ``modules/pose_landmark/pose_landmark_full.tflite``);
``ai-edge-litert`` runs them without MediaPipe's graph, which follows one person. Here:

1. **Detection** (:func:`find_people`, about 10 ms a frame): the frame, letterboxed to 224 x 224, gives
   2254 SSD anchors (:func:`ssd_anchor_centres`) each with a score, a box around the face and 4
   keypoints (:func:`decode_anchors`); overlapping boxes merge by weighted non-maximum suppression
   (:func:`weighted_nms`). Keypoint 0 is the centre of the hips, keypoint 1 a point whose distance
   from it is the radius of a circle around the body and whose direction is the body's up.
2. **Region of interest** (:func:`region_from_points`): a square centred on the hips, rotated so that
   the body stands upright in it, of side 2.5 times that radius.
3. **Landmarks** (:meth:`BlazePoseDetector.landmarks`, about 13 ms a person): the region, cut out
   at 256 x 256, gives 33 landmarks (and 6 auxiliary ones) with visibility and presence, a
   person-presence score and a 64 x 64 heatmap per landmark that refines their positions
   (:func:`refine_with_heatmap`); they go back to the image by :func:`crop_to_image`.
4. **Tracking**: landmarks 33 and 34 (hips centre and the same body-circle point) give the next
   frame's region of each person, so the detector runs only every ``redetect_every`` frames, or
   on the frame after a person was lost or while nobody is tracked; a new detection whose face
   holds a tracked person's nose is that person, and two people whose landmarks coincide are one.

A crop's pixel (u, v) (continuous coordinates, 0 to 256) lies at ``centre + side / 256 * R(angle)
@ ((u, v) - 128)`` in the image, R rotating image axes (x right, y down) by ``angle`` radians.
"""

from __future__ import annotations

import importlib.util
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..extras import missing, require
from ..keypoints.convert import mediapipe_to_coco
from .detectors import Detection, _native_stderr_silenced
from .reader import require_cv2

__all__ = ["BlazePoseDetector", "Region", "ssd_anchor_centres", "decode_anchors", "weighted_nms", "region_from_points",
           "crop_matrix", "crop_to_image", "refine_with_heatmap", "litert_available", "model_files"]

DETECTOR_SIZE = 224
"""Side of the person detector's input, pixels."""
LANDMARK_SIZE = 256
"""Side of the landmark model's input crop, pixels."""
HEATMAP_SIZE = 64
"""Side of the landmark model's heatmaps (a quarter of the crop)."""
ANCHOR_STRIDES = (8, 16, 32, 32, 32)
"""Feature-map strides of the detector's 5 anchor layers (pixels of the 224 input); layers of one
stride share a grid, and each layer puts 2 anchors on every cell of it."""
REGION_MARGIN = 1.25
"""The region of interest is this many times the body circle's diameter (the landmark model's training margin)."""


def ssd_anchor_centres(size: int = DETECTOR_SIZE, strides: tuple[int, ...] = ANCHOR_STRIDES) -> np.ndarray:
    """Centres (A, 2) of the detector's SSD anchors, as fractions (x, y) of the input's side, in the model's order.

    Consecutive layers of one stride form one grid of ``ceil(size / stride)`` cells a side; each
    cell holds 2 anchors per layer (the model's anchors all have the size of the input: only the
    centre matters), cell after cell, rows first. For 224 and (8, 16, 32, 32, 32): 28 x 28 x 2 +
    14 x 14 x 2 + 7 x 7 x 6 = 2254 anchors.
    """
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 1
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = math.ceil(size / stride)
        grid = (np.arange(cells) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        cell_centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell_centres, 2 * same, axis=0))
        layer += same
    return np.concatenate(centres)


@dataclass
class Candidates:
    """What the detector says of its anchors: ``scores`` (N,) in [0, 1], face ``boxes`` (N, 4) as
    (x0, y0, x1, y1) and ``keypoints`` (N, 4, 2) as (x, y); the units are the caller's
    (fractions of the detector input from :func:`decode_anchors`, image pixels after :func:`find_people`)."""

    scores: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, index) -> Candidates:
        return Candidates(self.scores[index], self.boxes[index], self.keypoints[index])


def decode_anchors(raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int = DETECTOR_SIZE) -> Candidates:
    """The detector's outputs for each anchor as scores, boxes and keypoints in fractions of its input.

    Args:
        raw: (A, 12) per anchor: box centre offset (x, y) and size (w, h), then 4 keypoint offsets
            (x, y), all in pixels of the ``size`` x ``size`` input, offsets from the anchor's centre.
        logits: (A,) or (A, 1) score logits (clipped to +-100, then the logistic function).
        anchors: (A, 2) anchor centres from :func:`ssd_anchor_centres`.
    """
    raw = np.asarray(raw, dtype=np.float64).reshape(len(anchors), -1)
    if raw.shape[1] != 12:
        raise ValueError(f"expected 12 numbers per anchor (box and 4 keypoints), got {raw.shape[1]}")
    scores = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, dtype=np.float64).reshape(-1), -100.0, 100.0)))
    centre = raw[:, 0:2] / size + anchors
    half = raw[:, 2:4] / size / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, 4, 2) / size + anchors[:, None, :]
    return Candidates(scores, boxes, keypoints)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) with each of ``boxes`` (N, 4), all (x0, y0, x1, y1)."""
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(found: Candidates, overlap: float = 0.3) -> Candidates:
    """Merge candidates of one object: weighted non-maximum suppression.

    The best-scoring candidate left takes every other left whose box overlaps its own by more than
    ``overlap`` (intersection over union); their boxes and keypoints are averaged, weighted by
    score, and keep the best score. Repeats until none is left; the result is ordered by score.
    """
    order = np.argsort(-found.scores, kind="stable")
    left = found.take(order)
    scores, boxes, keypoints = [], [], []
    while len(left):
        group = _iou(left.boxes[0], left.boxes) > overlap
        group[0] = True
        w = left.scores[group]
        scores.append(left.scores[0])
        boxes.append((left.boxes[group] * w[:, None]).sum(0) / w.sum())
        keypoints.append((left.keypoints[group] * w[:, None, None]).sum(0) / w.sum())
        left = left.take(~group)
    if not scores:
        return Candidates(np.zeros(0), np.zeros((0, 4)), np.zeros((0, 4, 2)))
    return Candidates(np.array(scores), np.array(boxes), np.array(keypoints))


@dataclass
class Region:
    """A square region of interest: ``centre`` (2,) pixels, ``side`` pixels, ``angle`` radians (how far
    the body's up turns from the image's up, clockwise on screen)."""

    centre: np.ndarray
    side: float
    angle: float


def region_from_points(centre, scale_point, margin: float = REGION_MARGIN) -> Region:
    """The region around a body from its hips centre and the point that gives its size and up direction (pixels).

    The side is ``2 * margin`` times their distance; the angle turns the image's up (0, -1) onto
    the direction from ``centre`` to ``scale_point``.

    >>> r = region_from_points((100, 200), (100, 160))
    >>> r.side, r.angle
    (100.0, 0.0)
    >>> round(region_from_points((0, 0), (10, 0)).angle, 6)  # up points right: a quarter turn clockwise
    1.570796
    """
    c = np.asarray(centre, dtype=np.float64)
    d = np.asarray(scale_point, dtype=np.float64) - c
    angle = math.pi / 2 - math.atan2(-d[1], d[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    return Region(c, float(2 * margin * np.hypot(*d)), angle)


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def crop_to_image(points: np.ndarray, region: Region, size: int = LANDMARK_SIZE) -> np.ndarray:
    """Points (..., 2) in a ``size`` x ``size`` crop of ``region`` (continuous pixel coordinates) to image pixels.

    >>> r = Region(np.array([50.0, 80.0]), 20.0, math.pi / 2)
    >>> crop_to_image(np.array([128.0, 0.0]), r, 256).round(6).tolist()  # the crop's top middle
    [60.0, 80.0]
    """
    p = np.asarray(points, dtype=np.float64)
    return region.centre + (p - size / 2) @ (region.side / size * _rotation(region.angle)).T


def crop_matrix(region: Region, size: int = LANDMARK_SIZE) -> np.ndarray:
    """The 2 x 3 matrix taking a crop's pixel indices to the image's (OpenCV's ``warpAffine`` with
    ``WARP_INVERSE_MAP``; a pixel index is its centre's coordinate minus 0.5)."""
    linear = region.side / size * _rotation(region.angle)
    offset = region.centre - 0.5 + linear @ np.array([0.5 - size / 2, 0.5 - size / 2])
    return np.concatenate([linear, offset[:, None]], axis=1)


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """The 3 x 3 inverse of a 2 x 3 affine matrix."""
    linear = _inverse_2x2(matrix[:, :2])
    return np.vstack([np.concatenate([linear, -(linear @ matrix[:, 2])[:, None]], axis=1), [0.0, 0.0, 1.0]])


def _inverse_2x2(m: np.ndarray) -> np.ndarray:
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    return np.array([[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]) / det


def refine_with_heatmap(points: np.ndarray, heatmap: np.ndarray, kernel: int = 7, min_confidence: float = 0.5
                        ) -> np.ndarray:
    """Landmarks (K, 2) as fractions of the crop, moved to the confidence-weighted mean of their heatmap near them.

    Args:
        points: (K, 2) landmark positions (x, y), fractions of the crop's side.
        heatmap: (S, S, K) logits (the logistic function makes them confidences).
        kernel: side of the window around each landmark's heatmap cell, cells.
        min_confidence: a landmark moves only when its window's best confidence reaches this.

    A heatmap cell (column i, row j) stands for (i / S, j / S), the model's convention.
    """
    s, count = heatmap.shape[0], len(points)
    out = np.array(points, dtype=np.float64)
    cells = np.floor(out * s).astype(int)
    inside = ((cells >= 0) & (cells < s)).all(1)
    half = (kernel - 1) // 2
    # windows of every landmark at once: the heatmap padded with zero confidence, as if cut at its edges
    padded = np.pad(heatmap, ((half, half), (half, half), (0, 0)), constant_values=-np.inf)
    offsets = np.arange(-half, half + 1)
    cols = np.clip(cells[:, 0], 0, s - 1)[:, None] + offsets  # (K, kernel), unpadded indices
    rows = np.clip(cells[:, 1], 0, s - 1)[:, None] + offsets
    logits = padded[rows[:, :, None] + half, cols[:, None, :] + half, np.arange(count)[:, None, None]]  # (K, kernel, kernel)
    conf = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -60, 60)))
    conf[np.isneginf(logits)] = 0.0
    total = conf.sum((1, 2))
    move = inside & (conf.max((1, 2)) >= min_confidence) & (total > 0)
    safe = np.where(total > 0, total, 1.0)
    out[move, 0] = ((conf.sum(1) * cols).sum(1) / safe / s)[move]
    out[move, 1] = ((conf.sum(2) * rows).sum(1) / safe / s)[move]
    return out


def litert_available() -> bool:
    """Whether ``ai-edge-litert`` and OpenCV are installed and the ``mediapipe`` wheel's two pose models are there."""
    if missing("video", only=("ai_edge_litert", "cv2")):
        return False
    try:
        return all(p.is_file() for p in model_files())
    except ValueError:
        return False


def model_files() -> tuple[Path, Path]:
    """The person detector and the landmark model shipped in the ``mediapipe`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("the BlazePose backend reads its models from the mediapipe wheel: pip install 'gastnet[video]'")
    root = Path(next(iter(spec.submodule_search_locations))) / "modules"
    return root / "pose_detection" / "pose_detection.tflite", root / "pose_landmark" / "pose_landmark_full.tflite"


_Output = tuple[np.ndarray, float, np.ndarray, np.ndarray]


@dataclass
class _Person:
    """One person's landmarks in a frame: ``marks`` (39, 2) pixels, ``visibility`` (39,) in [0, 1],
    ``presence`` in [0, 1] and the region they were found in."""

    marks: np.ndarray
    visibility: np.ndarray
    presence: float
    region: Region
    mask: np.ndarray
    """(256, 256) uint8, 1 where the model's segmentation puts the person in the region's crop."""

    def next_region(self) -> Region:
        return region_from_points(self.marks[33], self.marks[34])


class BlazePoseDetector:
    """Several people a frame with one detector pass: BlazePose's detector and landmark models under LiteRT.

    Args:
        max_people: most people reported per frame (the largest regions, when there are more).
        redetect_every: run the person detector every this many frames (newcomers are found within
            that many); it also runs on the frame after someone was lost, and on every frame while
            nobody is tracked.
        min_detection: the detector's score for a person (0 to 1).
        min_presence: the landmark model's person-presence score to keep a person (0 to 1).
        threads: CPU threads of each model; with 2 or more, two people or more are run by two
            one-thread copies of the landmark model side by side.
        refine: move the landmarks by their heatmaps (as MediaPipe does).
    """

    name = "BlazePose under LiteRT"

    def __init__(self, max_people: int = 6, redetect_every: int = 10, min_detection: float = 0.5,
                 min_presence: float = 0.5, threads: int = 2, refine: bool = True) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        if redetect_every < 1:
            raise ValueError(f"redetect_every must be at least 1, got {redetect_every}")
        require("video", "the BlazePose backend", only=("ai_edge_litert", "cv2"))
        from ai_edge_litert.interpreter import Interpreter

        self._cv2 = require_cv2()
        detector_file, landmark_file = model_files()
        with _native_stderr_silenced():  # LiteRT announces its CPU delegate on descriptor 2
            self._detector = Interpreter(model_path=str(detector_file), num_threads=threads)
            self._landmarker = Interpreter(model_path=str(landmark_file), num_threads=threads)
            self._detector.allocate_tensors()
            self._landmarker.allocate_tensors()
            self._pair = None
            if threads >= 2:
                self._pair = [Interpreter(model_path=str(landmark_file), num_threads=1) for _ in range(2)]
                for model in self._pair:
                    model.allocate_tensors()
        self._det_in = self._detector.get_input_details()[0]["index"]
        outs = {tuple(d["shape"][1:]): d["index"] for d in self._detector.get_output_details()}
        self.anchors = ssd_anchor_centres()
        self._det_boxes, self._det_scores = outs[(len(self.anchors), 12)], outs[(len(self.anchors), 1)]
        self._lm_in = self._landmarker.get_input_details()[0]["index"]
        outs = {tuple(d["shape"][1:]): d["index"] for d in self._landmarker.get_output_details()}
        self._lm_marks, self._lm_flag = outs[(195,)], outs[(1,)]
        self._lm_heat, self._lm_mask = outs[(HEATMAP_SIZE, HEATMAP_SIZE, 39)], outs[(LANDMARK_SIZE, LANDMARK_SIZE, 1)]
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gastnet-landmarks") if self._pair else None
        self.max_people, self.redetect_every = max_people, redetect_every
        self.min_detection, self.min_presence, self.refine = min_detection, min_presence, refine
        self._people: list[_Person] = []
        self._frame = 0
        self.detector_runs = 0
        """How many frames the person detector has run on (the rest were tracked)."""

    def find_people(self, frame: np.ndarray, hide: list[_Person] | tuple[_Person, ...] = ()) -> Candidates:
        """The person detector's people in an RGB frame (H, W, 3): boxes and the 4 keypoints, pixels.

        ``hide``: people already found, painted over by their landmark model's segmentation before
        the detector looks (it reports the most prominent person well and the others hardly, above
        all one standing behind another).
        """
        cv2 = self._cv2
        h, w = frame.shape[:2]
        scale = DETECTOR_SIZE / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        x0, y0 = (DETECTOR_SIZE - nw) // 2, (DETECTOR_SIZE - nh) // 2
        board = np.full((DETECTOR_SIZE, DETECTOR_SIZE, 3), -1.0, np.float32)
        small = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
        board[y0:y0 + nh, x0:x0 + nw] = small.astype(np.float32) * (2 / 255) - 1
        shift = np.array([x0, y0], dtype=np.float64)
        for person in hide:
            # crop pixel index -> image pixel index -> board pixel index
            m = crop_matrix(person.region)
            to_board = np.concatenate([scale * m[:, :2], (scale * (m[:, 2] + 0.5) + shift - 0.5)[:, None]], axis=1)
            inside = cv2.warpAffine(person.mask, to_board, (DETECTOR_SIZE, DETECTOR_SIZE),
                                    flags=cv2.INTER_NEAREST)
            board[cv2.dilate(inside, np.ones((3, 3), np.uint8)) > 0] = 0.0
        self._detector.set_tensor(self._det_in, board[None])
        self._detector.invoke()
        self.detector_runs += 1
        found = decode_anchors(self._detector.get_tensor(self._det_boxes)[0], self._detector.get_tensor(self._det_scores)[0],
                               self.anchors)
        found = weighted_nms(found.take(found.scores >= self.min_detection))
        # fractions of the letterboxed input -> image pixels (the image sits at (x0, y0), scaled by `scale`)
        to_px = lambda p: (p * DETECTOR_SIZE - shift) / scale  # noqa: E731
        boxes = to_px(found.boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        return Candidates(found.scores, boxes, to_px(found.keypoints))

    def landmarks(self, frame: np.ndarray, region: Region, hide: list[_Person] | tuple[_Person, ...] = ()) -> _Person:
        """The landmark model on ``region`` of an RGB frame (H, W, 3), with the people of ``hide``
        painted over by their segmentation (so that the model follows the person behind them)."""
        return self._landmarks_many(frame, [region], [hide])[0]

    def _landmarks_many(self, frame: np.ndarray, regions: list[Region], hides: list) -> list[_Person]:
        """:meth:`landmarks` for each region (with its own people to hide); two or more regions are
        shared between two one-thread copies of the model running side by side (on 2 cores that
        beats one two-thread copy taking them in turn)."""
        crops = [self._crop(frame, region, hide) for region, hide in zip(regions, hides)]
        pair, pool = self._pair, self._pool
        if len(crops) == 1 or pair is None or pool is None:  # (pool is set exactly when pair is)
            outputs = [self._infer(self._landmarker, crop) for crop in crops]
        else:
            half = (len(crops) + 1) // 2
            second = pool.submit(lambda: [self._infer(pair[1], c) for c in crops[half:]])
            outputs = [self._infer(pair[0], c) for c in crops[:half]] + second.result()
        return [self._person(out, region) for out, region in zip(outputs, regions)]

    def _crop(self, frame: np.ndarray, region: Region, hide) -> np.ndarray:
        """The landmark model's input (1, 256, 256, 3) in [0, 1] for ``region``, the people of ``hide`` painted grey."""
        cv2 = self._cv2
        matrix = crop_matrix(region)
        crop = cv2.warpAffine(frame, matrix, (LANDMARK_SIZE, LANDMARK_SIZE),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        if hide:
            to_crop = _inverse(matrix)
            for other in hide:
                apart = np.hypot(*(other.region.centre - region.centre)) > (other.region.side + region.side) / math.sqrt(2)
                if not apart:  # other's crop pixel index -> image -> this crop
                    across = (to_crop @ np.vstack([crop_matrix(other.region), [0, 0, 1]]))[:2]
                    inside = cv2.warpAffine(other.mask, across, (LANDMARK_SIZE, LANDMARK_SIZE),
                                            flags=cv2.INTER_NEAREST)
                    crop[inside > 0] = 127
        return (crop.astype(np.float32) * (1 / 255))[None]

    def _infer(self, model, crop: np.ndarray) -> _Output:
        """One landmark model run: landmarks (39, 5), presence, heatmaps (64, 64, 39), segmentation (256, 256)."""
        model.set_tensor(self._lm_in, crop)
        model.invoke()
        return (model.get_tensor(self._lm_marks).reshape(39, 5).astype(np.float64),
                float(model.get_tensor(self._lm_flag).reshape(())), model.get_tensor(self._lm_heat)[0],
                (model.get_tensor(self._lm_mask)[0, :, :, 0] > 0).astype(np.uint8))

    def _person(self, output: _Output, region: Region) -> _Person:
        raw, presence, heatmap, mask = output
        points = raw[:, :2] / LANDMARK_SIZE
        if self.refine:
            points = refine_with_heatmap(points, heatmap)
        marks = crop_to_image(points * LANDMARK_SIZE, region)
        visibility = 1.0 / (1.0 + np.exp(-np.clip(raw[:, 3], -60, 60)))
        return _Person(marks, visibility, float(presence), region, mask)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
            raise ValueError(f"expected an RGB frame (H, W, 3), got shape {frame.shape}")
        before = self._people  # each is looked for with the ones found before (in front) painted over
        people: list[_Person] = []
        for person in self._landmarks_many(frame, [p.next_region() for p in before],
                                           [before[:i] for i in range(len(before))]):
            self._accept(people, person)
        lost = len(people) < len(before)
        if lost or not before or self._frame % self.redetect_every == 0:
            for _ in range(self.max_people):  # a pass finds the most prominent person left best: look again after a newcomer
                found = self.find_people(frame, hide=people)
                if not len(found):
                    break
                shown = list(people)
                newcomers = sum(self._accept(people, p) for p in self._landmarks_many(
                    frame, [region_from_points(k[0], k[1]) for k in found.keypoints], [shown] * len(found)))
                if not newcomers or len(people) >= self.max_people:
                    break
        self._frame += 1
        if len(people) > self.max_people:  # the largest: nearer and more of them in view
            largest = sorted(range(len(people)), key=lambda i: -people[i].region.side)[:self.max_people]
            people = [people[i] for i in sorted(largest)]
        self._people = people  # in the order found, which puts people in front before those they hide
        return [_detection(p, people[:i]) for i, p in enumerate(people)]

    def _accept(self, people: list[_Person], person: _Person) -> bool:
        """Add ``person`` to ``people`` if the landmark model sees someone there who is not one of them yet."""
        if person.presence < self.min_presence or any(_same_person(person, p) for p in people):
            return False
        people.append(person)
        return True

    def reset(self) -> None:
        """Forget the people tracked (the next frame is a new scene)."""
        self._people, self._frame = [], 0

    def close(self) -> None:
        self._people = []
        if self._pool is not None:
            self._pool.shutdown()


SAME_PERSON = 0.08
"""Two landmark sets whose body landmarks (11-32) lie a median of less than this fraction of the
larger region's side apart are one person seen twice (a tracked region and a new detection, or two
regions that drifted onto one body): the first is kept."""


def _same_person(a: _Person, b: _Person) -> bool:
    gap = np.median(np.linalg.norm(a.marks[11:33] - b.marks[11:33], axis=1))
    return bool(gap < SAME_PERSON * max(a.region.side, b.region.side))


HIDDEN_SCORE = 0.2
"""Score of a landmark that lies on a person found before (in front, by their segmentation): the
detector cannot have seen it there, so its position is the model's guess, whatever the model's own
visibility says (it calls a joint hidden behind another person visible). Under the tracker's
:data:`gastnet.keypoints.tracks.CONFIDENT`, so that such joints do not decide whose track a skeleton joins."""


def _hidden(points: np.ndarray, front: _Person) -> np.ndarray:
    """(N,) whether each image point (N, 2) lies on ``front``'s segmentation."""
    to_crop = _inverse(crop_matrix(front.region))
    index = np.rint((points - 0.5) @ to_crop[:2, :2].T + to_crop[:2, 2]).astype(int)  # crop (column, row)
    size = front.mask.shape[0]
    inside = ((index >= 0) & (index < size)).all(1)
    hidden = np.zeros(len(points), bool)
    hidden[inside] = front.mask[index[inside, 1], index[inside, 0]] > 0  # 0 or 1
    return hidden


def _detection(person: _Person, in_front: list[_Person]) -> Detection:
    """``person`` as COCO-17 with the visibility as score, :data:`HIDDEN_SCORE` at most where a person in front covers a joint."""
    score = person.visibility[:33].copy()
    for front in in_front:
        hidden = _hidden(person.marks[:33], front)
        score[hidden] = np.minimum(score[hidden], HIDDEN_SCORE)
    coco = mediapipe_to_coco(np.concatenate([person.marks[:33], score[:, None]], axis=1))
    return Detection(coco[:, :2], np.clip(coco[:, 2], 0.0, 1.0))
