"""Kinematic fit: one skeleton per person, posed frame by frame to agree with the video.

The network lifts every frame on its own terms: its bones change length from frame to frame and
its joints need not project onto the detected 2D (a lifted arm can point where the detected wrist
is not). :func:`fit_person` replaces a person's lifted sequence by the pose sequence of one rigid
skeleton (:class:`~gastnet.animation.rig.Rig`: one set of bone lengths, the weighted median of the
lift's, left and right alike), optimised over every frame at once to

- **reproject** onto the detected 2D through the camera (pinhole, pixels), each joint weighted by
  its detector confidence, with a robust (Cauchy) loss whose scale is a fraction of the person's
  height in the image, so that a wrong detection pulls little;
- **stay near the network's 3D** (root-relative, metres), the more where the 2D is unsure or missing
  (interpolated joints have confidence 0 and follow the network alone), and keep the root near
  where the placement put it;
- keep the **knees** bending the human way (no hyperextension beyond a few degrees);
- move **smoothly**: joint accelerations (m/s^2, at the recording's frame rate) are penalised,
  quadratically up to :attr:`FitOptions.robust_acceleration` and only logarithmically above it,
  so that the detector's jitter goes and a jab or a kick stays;
- tell the **body from the detector**: every detector puts the pelvis, hips, spine, thorax, neck,
  head and shoulders (:data:`DEFINITION_JOINTS`) somewhere else than Human3.6M's motion capture. The
  reprojection compares the detected 2D with the skeleton's joint plus one offset per joint and person,
  constant in the body's frame (left, up, forward; left and right mirrored), estimated with the poses
  under a prior (:attr:`FitOptions.definition_offset_std`): over a clip the offsets take what stays
  put in the body while it moves, so that a detector's habits do not become the person's anatomy
  (:attr:`KinematicFit.definition_offsets`). A photo (fewer than 3 frames) cannot tell them apart:
  there the offsets are nearly free, the network's 3D counts more (:attr:`FitOptions.photo_prior_m`)
  and the skeleton keeps the network's own bone lengths (:attr:`FitOptions.photo_own_bones`).

The unknowns are, per frame, the root's position and the direction of every bone (51 numbers), and
per person the 21 numbers of the offsets; Levenberg-Marquardt (the Cauchy loss by reweighting,
analytic derivatives) solves the normal equations of the whole sequence at once: the frames' part is
banded, as the acceleration term couples frames at most two apart, and the offsets are eliminated
by their Schur complement. The result's poses have the rig's bones exactly, so the rig's
rotations (:meth:`~gastnet.animation.rig.Rig.solve`) reproduce them;
:attr:`KinematicFit.reprojection_px` says how well each joint agrees with the image. What each
term buys, measured: ``python benchmarks/bench_fit.py`` (:doc:`docs/video.md <video>`).

Coordinates: camera frame (x right, y down, z away from the camera), metres; 2D in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..animation.rig import Rig
from ..geometry.rotations import unit
from ..geometry.shapes import check_shape
from ..skeleton import H36M_17

__all__ = ["FitOptions", "KinematicFit", "fit_person", "person_image_height", "describe_definition_offsets",
           "DEFINITION_JOINTS", "body_axes", "seen_joints"]


@dataclass(frozen=True)
class FitOptions:
    """Weights and scales of the fit's terms (see the module); the defaults were tuned on Human3.6M
    and CMU motion through virtual cameras with detector-like 2D errors (``benchmarks/bench_fit.py``)."""

    reprojection_scale: float = 0.03
    """Robust scale of the 2D residual, as a fraction of the person's height in the image."""
    prior_m: float = 0.3
    """How far (metres) a joint may leave the network's root-relative 3D for one unit of loss, where
    the 2D is sure (confidence 1)."""
    unsure_prior_gain: float = 4.0
    """How much more the network's 3D counts where the confidence is 0 (linear in between)."""
    root_prior_m: float = 0.5
    """How far (metres) the root may leave the placement's path for one unit of loss."""
    acceleration: float = 30.0
    """Joint acceleration (m/s^2) that costs one unit of loss (with ``smoothness_weight`` 1)."""
    smoothness_weight: float = 8.0
    robust_acceleration: float | None = 10.0
    """Above this joint acceleration (m/s^2) the smoothness term grows only logarithmically (a Cauchy
    loss), so that fast motions (a jab, a kick) are not rounded off; None: quadratic throughout."""
    knee_hyperextension_deg: float = 5.0
    """How far past straight a knee may bend before it is penalised."""
    iterations: int = 3
    """Levenberg-Marquardt iterations at most (each solves the whole sequence's normal equations)."""
    definition_offset_std: float = 0.03
    """Where the detector puts the :data:`DEFINITION_JOINTS` against the fitted skeleton's joints: one
    offset per joint and person in the body's frame (left and right mirrored), with a prior of this
    standard deviation (a fraction of the rig's height, per axis); 0: the detected 2D of those joints is
    taken as the skeleton's own (no offsets)."""
    photo_prior_m: float = 0.03
    """``prior_m`` for a sequence of fewer than 3 frames (a photo): without motion nothing tells the body
    from the detector's habits, so the network's 3D counts more."""
    photo_definition_offset_std: float = 0.3
    """``definition_offset_std`` for a sequence of fewer than 3 frames: the detected torso joints barely
    move the skeleton's own (0: no offsets)."""
    target_sd_m: float = 0.03
    """How far (metres) a joint may stay from a 3D target given to :func:`fit_person` (``targets``: where
    people touch) for one unit of loss."""
    photo_own_bones: bool = True
    """For a sequence of fewer than 3 frames, pose the network's own bone lengths (their median over the
    frames) rather than the rig's, whose left and right are averaged: a single lifted frame has nothing to
    average its asymmetry against, and averaging it alone made some photos worse than the network."""


@dataclass
class KinematicFit:
    """One person fitted: ``poses`` (T, 17, 3) camera-frame metres with the ``rig``'s bone lengths;
    ``reprojection_px`` (T, 17) pixel distance of each fitted joint's projection from the detected
    2D (NaN where the detector gave no joint, confidence 0); ``reprojection_before_px`` the same for
    the network's poses; ``loss`` the final objective; ``definition_offsets`` (17, 3) metres, in the
    body's frame (left, up, forward): where the detector puts each joint against the skeleton's own
    (zero for the joints outside :data:`DEFINITION_JOINTS`, and all zero without offsets)."""

    rig: Rig
    poses: np.ndarray
    reprojection_px: np.ndarray
    reprojection_before_px: np.ndarray
    loss: float
    definition_offsets: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.definition_offsets is None:
            self.definition_offsets = np.zeros((17, 3))


_BONES = H36M_17.bones()  # (child, parent), 16 bones
_CHILD = np.array([c for c, _ in _BONES])
_PARENT = np.array([p for _, p in _BONES])


def _ancestry() -> np.ndarray:
    """(J, B): 1 where bone b lies on the path from the root to joint j."""
    out = np.zeros((H36M_17.num_joints, len(_BONES)))
    index = {c: b for b, (c, _) in enumerate(_BONES)}
    for j in range(H36M_17.num_joints):
        k = j
        while H36M_17.parents[k] >= 0:
            out[j, index[k]] = 1
            k = H36M_17.parents[k]
    return out


_ANCESTRY = _ancestry()

DEFINITION_JOINTS = (0, 1, 4, 7, 8, 9, 10, 11, 14)
"""The joints that 2D detectors and Human3.6M's motion capture define differently (pelvis, hips, spine,
thorax, neck, head, shoulders): :class:`~gastnet.data.augment.JointDefinitionRanges`."""


def _offset_basis() -> np.ndarray:
    """(17, 3, P): each joint's body-frame offset from the P free numbers (the right side's and the middle
    joints' three each; a left joint mirrors its right partner, its lateral component negated)."""
    free = [j for j in DEFINITION_JOINTS if j not in H36M_17.joints_left]
    basis = np.zeros((17, 3, 3 * len(free)))
    for i, j in enumerate(free):
        basis[j, :, 3 * i:3 * i + 3] = np.eye(3)
    for left, right in zip(H36M_17.joints_left, H36M_17.joints_right):
        if left in DEFINITION_JOINTS and right in DEFINITION_JOINTS:
            basis[left] = np.diag([-1.0, 1.0, 1.0]) @ basis[right]
    return basis


_OFFSET_BASIS = _offset_basis()


_THORAX, _LEFT_HIP, _RIGHT_HIP = (H36M_17.index(name) for name in ("thorax", "left_hip", "right_hip"))


def body_axes(poses: np.ndarray) -> np.ndarray:
    """(T, 3, 3): per frame of ``poses`` (T, 17, 3) the body's axes as rows, left (right hip to left hip, made
    perpendicular to up), up (pelvis to thorax) and forward (left x up); as
    :func:`gastnet.data.augment.body_frame` defines them."""
    up = unit(poses[:, _THORAX] - poses[:, H36M_17.root])
    side = poses[:, _LEFT_HIP] - poses[:, _RIGHT_HIP]
    left = unit(side - np.sum(side * up, -1, keepdims=True) * up)
    return np.stack([left, up, np.cross(left, up)], 1)


_KNEES = H36M_17.legs()  # (hip, knee, ankle) right, left


def person_image_height(keypoints: np.ndarray, scores: np.ndarray | None = None) -> float:
    """The person's height in the image (pixels): the median over frames of the vertical extent of
    the confident joints of ``keypoints`` (T, J, 2), at least 1."""
    k = np.asarray(keypoints, np.float64)
    if scores is not None:
        k = np.where((np.asarray(scores) > 0)[..., None], k, np.nan)
    k = k[np.isfinite(k[..., 1]).any(-1)]  # frames without any detected joint tell nothing
    with np.errstate(all="ignore"):
        extent = np.nanmax(k[..., 1], axis=1) - np.nanmin(k[..., 1], axis=1)
    extent = extent[np.isfinite(extent)]
    return float(max(np.median(extent), 1.0)) if len(extent) else 1.0


def seen_joints(poses: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(T, 17, 3) metres: where a detector with the joint-definition ``offsets`` (17, 3) metres, in the body's
    frame (left, up, forward: :attr:`KinematicFit.definition_offsets`), sees the joints of ``poses``
    (T, 17, 3) metres: each joint plus its offset turned into the frame of ``poses`` (:func:`body_axes`).

    >>> poses = np.zeros((1, 17, 3)); poses[0, 8] = (0.0, -0.5, 0.0)  # thorax above the pelvis (y down)
    >>> poses[0, 4], poses[0, 1] = (0.1, 0.0, 0.0), (-0.1, 0.0, 0.0)  # left hip at +x
    >>> offsets = np.zeros((17, 3)); offsets[0] = (0.0, 0.05, 0.0)  # the pelvis seen 5 cm up
    >>> seen_joints(poses, offsets)[0, 0].round(3).tolist()
    [0.0, -0.05, 0.0]
    """
    sizes = check_shape(poses, "T 17 3", "poses")
    check_shape(offsets, "17 3", "offsets", sizes)
    return poses + np.einsum("jk,tkc->tjc", offsets, body_axes(poses))


def describe_definition_offsets(fit: KinematicFit) -> str:
    """Where the detector put each of the :data:`DEFINITION_JOINTS` against the fitted skeleton's own joint: one
    line fragment, centimetres along the body's left, up and forward axes (e.g. ``"pelvis 0/-4/2"``)."""
    offsets = 100 * np.asarray(fit.definition_offsets)
    return ", ".join(f"{H36M_17.joint_names[j]} " + "/".join(str(round(float(v))) for v in offsets[j])
                     for j in DEFINITION_JOINTS)


def _reprojection(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                  principal: tuple[float, float]) -> np.ndarray:
    z = np.maximum(poses[..., 2:], 1e-3)
    proj = focal * poses[..., :2] / z + np.asarray(principal)
    err = np.linalg.norm(proj - keypoints, axis=-1)
    return np.where(scores > 0, err, np.nan)


def fit_person(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
               principal: tuple[float, float], fps: float, options: FitOptions | None = None,
               rig: Rig | None = None, targets: np.ndarray | None = None) -> KinematicFit:
    """Fit one rigid skeleton to a person's lifted sequence and detected 2D.

    Args:
        poses: (T, 17, 3) the network's poses placed in the camera frame (metres, root included:
            :func:`~gastnet.world.placement.root_translation`), Human3.6M-17 joints.
        keypoints: (T, 17, 2) the detected 2D (pixels).
        scores: (T, 17) detector confidences in [0, 1]; 0 where the joint was not detected.
        focal: the focal length (pixels); ``principal`` the principal point (pixels).
        fps: the recording's frame rate (for the smoothness term).
        options: the terms' weights (:class:`FitOptions`).
        rig: the skeleton to pose; default :meth:`Rig.from_poses` of ``poses`` weighted by ``scores``.
        targets: (T, 17, 3) camera-frame metres, NaN where none: where a joint should be (a touch between
            people, :mod:`gastnet.world.together`), pulled with :attr:`FitOptions.target_sd_m`.
    """
    opts = options or FitOptions()
    poses = np.asarray(poses, np.float64)
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.clip(np.nan_to_num(np.asarray(scores, np.float64)), 0.0, 1.0)
    sizes = check_shape(poses, "T 17 3", "poses")
    check_shape(keypoints, "T 17 2", "keypoints", sizes)
    check_shape(scores, "T 17", "scores", sizes)
    if targets is not None:
        targets = np.asarray(targets, np.float64)
        check_shape(targets, "T 17 3", "targets", sizes)
    if sizes["T"] == 0:
        raise ValueError("poses must have at least one frame, got none")
    if not (np.isfinite(focal) and focal > 0 and np.isfinite(fps) and fps > 0):
        raise ValueError(f"expected a positive focal length and frame rate, got {focal} and {fps}")
    if rig is None:
        rig = Rig.from_poses(poses, H36M_17, weights=0.1 + scores)
        if sizes["T"] < _PHOTO_FRAMES and opts.photo_own_bones:
            rig = _with_own_bones(rig, poses)
    before = _reprojection(poses, keypoints, scores, focal, principal)
    with threadpool_limits(1, user_api="blas"):  # small matrices: threads only add waiting (seconds on a busy machine)
        fitted, loss, offsets = _fit_in_chunks(poses, keypoints, scores, focal, principal, fps, opts, rig, targets)
    return KinematicFit(rig, fitted, _reprojection(fitted, keypoints, scores, focal, principal), before, loss,
                        np.einsum("jkp,p->jk", _OFFSET_BASIS, offsets))


_PER_FRAME = 3 + 3 * len(_BONES)  # root and one direction per bone
_PHOTO_FRAMES = 3  # fewer frames than this: a photo (no motion), fitted by the photo rules of FitOptions


def _with_own_bones(rig: Rig, poses: np.ndarray) -> Rig:
    """``rig`` with every bone the median length (metres) it has in ``poses`` (T, 17, 3), its rest directions kept."""
    own = np.zeros(17)
    own[_CHILD] = np.median(np.linalg.norm(poses[:, _CHILD] - poses[:, _PARENT], axis=-1), axis=0)
    rest = rig.bone_lengths
    return Rig(rig.skeleton, rig.offsets * np.where(rest > 0, own / np.maximum(rest, 1e-12), 0.0)[:, None])

FIT_CHUNK_FRAMES = 1024
"""Longer sequences are fitted in pieces of this many frames (overlapping by :data:`FIT_CHUNK_OVERLAP`),
so that memory stays flat (the normal equations of 1024 frames take ~65 MB)."""
FIT_CHUNK_OVERLAP = 32


def _fit_in_chunks(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                   principal: tuple[float, float], fps: float, opts: FitOptions,
                   rig: Rig, targets: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """:func:`_optimise` over pieces of at most :data:`FIT_CHUNK_FRAMES` frames, cross-faded over their overlaps
    and made rigid again (:meth:`Rig.conform`); the loss is the pieces' sum, the offsets their mean by length."""
    frames = len(poses)
    if frames <= FIT_CHUNK_FRAMES:
        return _optimise(poses, keypoints, scores, focal, principal, fps, opts, rig, targets)
    step = FIT_CHUNK_FRAMES - FIT_CHUNK_OVERLAP
    out = np.zeros_like(poses)
    weight = np.zeros(frames)
    total = 0.0
    offsets = np.zeros(_OFFSET_BASIS.shape[-1])
    fitted = 0  # frames over all pieces (overlaps counted in each): what the offsets' mean divides by
    for start in range(0, frames - FIT_CHUNK_OVERLAP, step):
        stop = min(start + FIT_CHUNK_FRAMES, frames)
        piece, loss, found = _optimise(poses[start:stop], keypoints[start:stop], scores[start:stop], focal, principal,
                                       fps, opts, rig, None if targets is None else targets[start:stop])
        offsets += (stop - start) * found
        fitted += stop - start
        ramp = np.ones(stop - start)
        if start > 0:
            ramp[:FIT_CHUNK_OVERLAP] = np.linspace(0, 1, FIT_CHUNK_OVERLAP + 2)[1:-1]
        if stop < frames:
            ramp[-FIT_CHUNK_OVERLAP:] = np.minimum(ramp[-FIT_CHUNK_OVERLAP:], np.linspace(1, 0, FIT_CHUNK_OVERLAP + 2)[1:-1])
        out[start:stop] += ramp[:, None, None] * piece
        weight[start:stop] += ramp
        total += loss
        if stop == frames:
            break
    return rig.conform(out / weight[:, None, None]), total, offsets / fitted


def _solve_banded(h_blocks: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for a symmetric positive definite H given by its blocks ``h_blocks[k]`` (T - k, n, n):
    the block of rows of frame t + k and columns of frame t (k = 0, 1, 2; H couples frames at most 2 apart);
    ``g`` (T, n) or, for several right-hand sides at once, (T, n, m)."""
    from scipy.linalg import solveh_banded

    frames, n = g.shape[:2]
    ab = np.zeros((len(h_blocks) * n, frames * n))  # lower banded storage: ab[i - j, j] = H[i, j]
    for k, block in enumerate(h_blocks):
        count = len(block)
        for shift in range(-(n - 1), n):  # rows b = a + shift of the block's column a
            if k * n + shift < 0:
                continue
            values = np.diagonal(block, offset=-shift, axis1=1, axis2=2)  # (count, n - |shift|): block[t, a + shift, a]
            first = max(0, -shift)
            cols = (np.arange(count)[:, None] * n + np.arange(first, first + values.shape[1])[None]).reshape(-1)
            ab[k * n + shift, cols] = values.reshape(-1)
    return solveh_banded(ab, g.reshape(frames * n, -1), lower=True, check_finite=False).reshape(g.shape)


_LEFT_HIP_BONE = [c for c, _ in _BONES].index(4)
_RIGHT_HIP_BONE = [c for c, _ in _BONES].index(1)
_KNEE_BONES = tuple(([c for c, _ in _BONES].index(knee), [c for c, _ in _BONES].index(ankle)) for _, knee, ankle in _KNEES)


class _Problem:
    """The fit's objective and its Jacobians, per frame, for parameters ``x`` (T, 51): the root (3) and
    one (not necessarily unit) direction per bone (16 x 3); and for the person's joint-definition offsets
    ``o`` (P,) metres (:func:`_offset_basis`; P = 0 without them): the detector sees joint j at frame t
    where the skeleton has it plus ``offset_map[t, j] @ o`` (the body's axes from the network's poses);
    ``targets`` (T, 17, 3) metres, NaN where none: 3D positions the joints are pulled to."""

    def __init__(self, poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                 principal: tuple[float, float], fps: float, opts: FitOptions, rig: Rig,
                 targets: np.ndarray | None = None) -> None:
        frames = len(poses)
        self.frames, self.focal = frames, focal
        self.centre = np.asarray(principal, np.float64)
        self.rel0 = poses - poses[:, :1]
        self.root0 = poses[:, 0]
        self.k2d, self.w2d = keypoints, scores
        self.lengths = rig.bone_lengths[_CHILD]
        self.scale_px = opts.reprojection_scale * person_image_height(keypoints, scores)
        n = 17 * frames  # every term is a sum over frames and joints, weighted as a mean over them would be
        self.c_rep = n / max(float(scores.sum()), 1.0)
        photo = frames < _PHOTO_FRAMES  # no motion: the network's 3D counts more and the detector's torso joints less
        prior_m = opts.photo_prior_m if photo else opts.prior_m
        self.prior_w = np.sqrt((1.0 + opts.unsure_prior_gain * (1.0 - scores)) / prior_m**2)  # (T, 17)
        self.root_w = np.sqrt(17.0) / opts.root_prior_m
        self.knee_w = np.sqrt(17.0 * 100.0)
        self.sin_limit = float(np.sin(np.deg2rad(opts.knee_hyperextension_deg)))
        accel_scale = opts.acceleration / fps**2  # metres per frame^2
        self.robust_accel = None if opts.robust_acceleration is None else opts.robust_acceleration / fps**2
        self.c_smooth = opts.smoothness_weight * frames / max(frames - 2, 1) / accel_scale**2 if frames >= 3 else 0.0
        self.offset_sd = (opts.photo_definition_offset_std if photo else opts.definition_offset_std) * rig.height
        basis = _OFFSET_BASIS if self.offset_sd > 0 else _OFFSET_BASIS[..., :0]
        self.offset_map = np.einsum("jkp,tkc->tjcp", basis, body_axes(poses))  # (T, 17, 3, P)
        given = np.full((frames, 17, 3), np.nan) if targets is None else np.asarray(targets, np.float64)
        self.target_w = np.where(np.isfinite(given).all(-1), np.sqrt(17.0) / opts.target_sd_m, 0.0)  # (T, 17)
        self.targets = np.nan_to_num(given)
        self.has_targets = bool(self.target_w.any())

    def seen(self, p: np.ndarray, o: np.ndarray) -> np.ndarray:
        """(T, 17, 3): where the detector sees the joints ``p`` (T, 17, 3) with the offsets ``o`` (P,)."""
        return p + self.offset_map @ o

    def unpack(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Joint positions (T, 17, 3), unit bone directions (T, 16, 3), direction norms (T, 16), bone vectors."""
        d = x[:, 3:].reshape(self.frames, -1, 3)
        norm = np.maximum(np.linalg.norm(d, axis=-1), 1e-9)
        unit = d / norm[..., None]
        vectors = unit * self.lengths[:, None]
        return x[:, None, :3] + np.einsum("jb,tbc->tjc", _ANCESTRY, vectors), unit, norm, vectors

    def _projection(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.maximum(p[..., 2], 0.05)
        error = (self.focal * p[..., :2] / z[..., None] + self.centre - self.k2d) / self.scale_px
        return error, z

    def _knees(self, unit: np.ndarray, vectors: np.ndarray) -> list[tuple[np.ndarray, int, int, np.ndarray]]:
        """Per knee: its bend along the hips' axis g (T,) (negative: bending forwards), its bones and the hip axis."""
        lateral_raw = vectors[:, _LEFT_HIP_BONE] - vectors[:, _RIGHT_HIP_BONE]
        lateral = lateral_raw / np.maximum(np.linalg.norm(lateral_raw, axis=-1, keepdims=True), 1e-9)
        return [(np.sum(np.cross(unit[:, thigh], unit[:, shin]) * lateral, -1), thigh, shin, lateral_raw)
                for thigh, shin in _KNEE_BONES]

    def _acceleration_weights(self, acc: np.ndarray) -> np.ndarray:
        """(T - 2, 17): the Cauchy loss's weight of each joint's acceleration (metres per frame^2), 1 when quadratic."""
        if self.robust_accel is None:
            return np.ones(acc.shape[:2])
        return 1.0 / (1.0 + np.sum(acc**2, -1) / self.robust_accel**2)

    def loss(self, x: np.ndarray, o: np.ndarray) -> tuple[float, np.ndarray]:
        """The objective at ``x``, ``o`` and the squared reprojection errors (T, 17) in robust-scale units."""
        p, unit, norm, vectors = self.unpack(x)
        error, _ = self._projection(self.seen(p, o))
        e2 = np.sum(error**2, -1)
        total = float(np.sum(self.c_rep * self.w2d * np.log1p(e2)))
        if len(o):
            total += float(np.sum((o / self.offset_sd) ** 2))
        total += float(np.sum((self.prior_w[..., None] * (p - p[:, :1] - self.rel0)) ** 2))
        total += float(np.sum((self.root_w * (x[:, :3] - self.root0)) ** 2))
        if self.has_targets:
            total += float(np.sum((self.target_w[..., None] * (p - self.targets)) ** 2))
        total += float(np.sum((norm - 1.0) ** 2))
        for g, *_ in self._knees(unit, vectors):
            total += float(np.sum((self.knee_w * np.maximum(-g - self.sin_limit, 0.0)) ** 2))
        if self.c_smooth:
            a2 = np.sum((p[2:] - 2 * p[1:-1] + p[:-2]) ** 2, -1)
            total += self.c_smooth * float(np.sum(a2 if self.robust_accel is None else
                                                  self.robust_accel**2 * np.log1p(a2 / self.robust_accel**2)))
        return total, e2

    def linearise(self, x: np.ndarray, o: np.ndarray,
                  e2: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Gauss-Newton blocks (the banded J^T J: rows of frame t + k, columns of frame t, k = 0, 1, 2), the
        gradient J^T r (T, 51), the Cauchy loss reweighted at the squared errors ``e2``; and for the offsets
        the cross blocks (T, 51, P) of J^T J between a frame's parameters and them, their own block (P, P)
        and gradient (P,). Half the objective's gradient is J^T r."""
        t = self.frames
        p, unit, norm, vectors = self.unpack(x)
        # d positions / d parameters (T, 17, 3, 51): the root moves every joint; a direction its bone's descendants
        turn = self.lengths[:, None, None] * (np.eye(3) - unit[..., :, None] * unit[..., None, :]) / norm[..., None, None]
        jp = np.zeros((t, 17, 3, _PER_FRAME))
        jp[:, :, :, :3] = np.eye(3)
        jp[:, :, :, 3:] = (_ANCESTRY[None, :, None, :, None] * turn.transpose(0, 2, 1, 3)[:, None]).reshape(t, 17, 3, -1)
        residuals, jacobians = [], []
        # reprojection, weighted by confidence and the Cauchy loss's weight at the current error
        seen = self.seen(p, o)
        error, z = self._projection(seen)
        sqrt_w = np.sqrt(self.c_rep * self.w2d / (1.0 + e2))
        dproj = np.zeros((t, 17, 2, 3))
        dproj[..., 0, 0] = dproj[..., 1, 1] = self.focal / z
        dproj[..., :, 2] = -self.focal * seen[..., :2] / z[..., None] ** 2
        dproj = np.where((seen[..., 2] > 0.05)[..., None, None], dproj, 0.0)  # the depth is clamped below 5 cm
        dproj *= (sqrt_w / self.scale_px)[..., None, None]
        r_image = (sqrt_w[..., None] * error).reshape(t, -1)
        j_image = (dproj @ jp).reshape(t, -1, _PER_FRAME)
        j_offsets = (dproj @ self.offset_map).reshape(t, 34, self.offset_map.shape[-1])  # (T, 34, P)
        cross = j_image.transpose(0, 2, 1) @ j_offsets
        offset_block = np.einsum("trp,trq->pq", j_offsets, j_offsets)
        offset_grad = np.einsum("trp,tr->p", j_offsets, r_image)
        if len(o):
            offset_block += np.eye(len(o)) / self.offset_sd**2
            offset_grad += o / self.offset_sd**2
        residuals.append(r_image)
        jacobians.append(j_image)
        # the network's root-relative 3D
        residuals.append((self.prior_w[..., None] * (p - p[:, :1] - self.rel0)).reshape(t, -1))
        jacobians.append((self.prior_w[..., None, None] * (jp - jp[:, :1])).reshape(t, -1, _PER_FRAME))
        # the root's path
        residuals.append(self.root_w * (x[:, :3] - self.root0))
        root = np.zeros((t, 3, _PER_FRAME))
        root[:, :, :3] = self.root_w * np.eye(3)
        jacobians.append(root)
        if self.has_targets:  # the joints' 3D targets
            residuals.append((self.target_w[..., None] * (p - self.targets)).reshape(t, -1))
            jacobians.append((self.target_w[..., None, None] * jp).reshape(t, -1, _PER_FRAME))
        # unit directions (the parameters' free scale)
        residuals.append(norm - 1.0)
        gauge = np.zeros((t, len(_BONES), _PER_FRAME))
        for b in range(len(_BONES)):
            gauge[:, b, 3 + 3 * b:6 + 3 * b] = unit[:, b]
        jacobians.append(gauge)
        knee_residuals, knee_jacobians = self._knee_rows(unit, vectors, norm, turn)
        residuals += knee_residuals
        jacobians += knee_jacobians
        r = np.concatenate(residuals, 1)
        jac = np.concatenate(jacobians, 1)
        jac_t = jac.transpose(0, 2, 1)
        grad = (jac_t @ r[..., None])[..., 0]
        blocks = [jac_t @ jac]
        if self.c_smooth:
            self._add_smoothness(p, jp, grad, blocks)
        return blocks, grad, cross, offset_block, offset_grad

    def _knee_rows(self, unit: np.ndarray, vectors: np.ndarray, norm: np.ndarray,
                   turn: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The knee term's residuals (T, 1) and Jacobians (T, 1, 51), one of each per knee:
        g = (u_thigh x u_shin) . lateral, penalised below -sin(limit)."""
        t = self.frames
        residuals, jacobians = [], []
        free = np.eye(3) - unit[..., :, None] * unit[..., None, :]
        for g, thigh, shin, lateral_raw in self._knees(unit, vectors):
            active = (-g - self.sin_limit) > 0
            lateral_norm = np.maximum(np.linalg.norm(lateral_raw, axis=-1), 1e-9)
            lateral = lateral_raw / lateral_norm[:, None]
            knee = np.zeros((t, 1, _PER_FRAME))
            dg_thigh = np.einsum("tc,tcd->td", np.cross(unit[:, shin], lateral), free[:, thigh]) / norm[:, thigh, None]
            dg_shin = np.einsum("tc,tcd->td", np.cross(lateral, unit[:, thigh]), free[:, shin]) / norm[:, shin, None]
            dg_lateral = np.einsum("tc,tcd->td", np.cross(unit[:, thigh], unit[:, shin]),
                                   (np.eye(3) - lateral[:, :, None] * lateral[:, None, :]) / lateral_norm[:, None, None])
            knee[:, 0, 3 + 3 * thigh:6 + 3 * thigh] += dg_thigh
            knee[:, 0, 3 + 3 * shin:6 + 3 * shin] += dg_shin
            hips = ((_LEFT_HIP_BONE, 1.0), (_RIGHT_HIP_BONE, -1.0))
            for bone, sign in hips:
                knee[:, 0, 3 + 3 * bone:6 + 3 * bone] += sign * np.einsum("tc,tcd->td", dg_lateral, turn[:, bone])
            scale = np.where(active, -self.knee_w, 0.0)
            residuals.append((self.knee_w * np.maximum(-g - self.sin_limit, 0.0))[:, None])
            jacobians.append(scale[:, None, None] * knee)
        return residuals, jacobians

    def _add_smoothness(self, p: np.ndarray, jp: np.ndarray, grad: np.ndarray, blocks: list[np.ndarray]) -> None:
        """Add the smoothness term (joint accelerations, robustly weighted) to the gradient (T, 51) and to
        the banded blocks (in place; ``blocks`` gains the blocks of rows t + 1 and t + 2)."""
        t = self.frames
        flat = p.reshape(t, -1)
        jf = jp.reshape(t, -1, _PER_FRAME)
        acc = flat[2:] - 2 * flat[1:-1] + flat[:-2]
        weight = np.repeat(self._acceleration_weights(acc.reshape(t - 2, 17, 3)), 3, axis=1)  # (T - 2, 51)
        q = np.zeros_like(flat)  # D^T W D p
        q[:-2] += weight * acc
        q[1:-1] -= 2 * weight * acc
        q[2:] += weight * acc
        jf_t = jf.transpose(0, 2, 1)
        grad += self.c_smooth * (jf_t @ q[..., None])[..., 0]
        diagonals = [np.zeros((t, flat.shape[1])), np.zeros((t - 1, flat.shape[1])), weight]  # D^T W D, rows t + k
        diagonals[0][:-2] += weight
        diagonals[0][1:-1] += 4 * weight
        diagonals[0][2:] += weight
        diagonals[1][:-1] -= 2 * weight
        diagonals[1][1:] -= 2 * weight
        blocks[0] = blocks[0] + self.c_smooth * (jf_t @ (diagonals[0][..., None] * jf))
        for k in (1, 2):
            blocks.append(self.c_smooth * (jf_t[k:] @ (diagonals[k][..., None] * jf[:t - k])))


def _damped_step(blocks: list[np.ndarray], grad: np.ndarray, cross: np.ndarray, offset_block: np.ndarray,
                 offset_grad: np.ndarray, damping: float) -> tuple[np.ndarray, np.ndarray]:
    """The Levenberg-Marquardt step for the frames' parameters (T, 51) and the offsets (P,): the banded system
    of the frames solved with the offsets eliminated (their Schur complement, P x P)."""
    def damp(block: np.ndarray) -> np.ndarray:
        diagonal = np.diagonal(block, axis1=-2, axis2=-1)
        return block + damping * (diagonal[..., :, None] + 1e-6) * np.eye(block.shape[-1])

    damped = [damp(blocks[0])] + blocks[1:]
    if not len(offset_grad):
        return _solve_banded(damped, -grad), offset_grad
    solved = _solve_banded(damped, np.concatenate([grad[..., None], cross], -1))  # H^-1 [g, C]
    own, coupled = solved[..., 0], solved[..., 1:]
    schur = damp(offset_block) - np.einsum("tnp,tnq->pq", cross, coupled)
    offset_step = np.linalg.solve(schur, -offset_grad + np.einsum("tnp,tn->p", coupled, grad))
    return -own - coupled @ offset_step, offset_step


def _optimise(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
              principal: tuple[float, float], fps: float, opts: FitOptions,
              rig: Rig, targets: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """Levenberg-Marquardt over every frame at once (see the module): the fitted poses (T, 17, 3), the loss and
    the joint-definition offsets (P,) (:func:`_offset_basis`; zero without them)."""
    problem = _Problem(poses, keypoints, scores, focal, principal, fps, opts, rig, targets)
    bones0 = poses[:, _CHILD] - poses[:, _PARENT]
    x = np.concatenate([poses[:, 0], (bones0 / np.maximum(np.linalg.norm(bones0, axis=-1, keepdims=True), 1e-9))
                        .reshape(len(poses), -1)], 1)
    o = np.zeros(problem.offset_map.shape[-1])
    loss, e2 = problem.loss(x, o)
    damping = 1e-3
    for _ in range(opts.iterations):
        linear = problem.linearise(x, o, e2)
        improved = False
        for _attempt in range(6):
            try:
                step, offset_step = _damped_step(*linear, damping)
            except np.linalg.LinAlgError:  # not positive definite at this damping
                damping *= 8
                continue
            new_loss, new_e2 = problem.loss(x + step, o + offset_step)
            if np.isfinite(new_loss) and new_loss < loss:
                improved = loss - new_loss > 1e-7 * loss
                x, o, loss, e2 = x + step, o + offset_step, new_loss, new_e2
                damping = max(damping / 3, 1e-7)
                break
            damping *= 8
        if not improved:
            break
    return problem.unpack(x)[0], loss, np.pad(o, (0, _OFFSET_BASIS.shape[-1] - len(o)))
