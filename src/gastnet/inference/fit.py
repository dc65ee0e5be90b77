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
- move **smoothly**: joint accelerations (m/s^2) are penalised, at the recording's frame rate.

The unknowns are, per frame, the root's position and the direction of every bone (51 numbers);
Levenberg-Marquardt (the Cauchy loss by reweighting, derivatives by ``torch.func``) solves the
normal equations of the whole sequence at once: they are banded, as the acceleration term
couples frames at most two apart. The result's poses have the rig's bones exactly, so the rig's
rotations (:meth:`~gastnet.animation.rig.Rig.solve`) reproduce them;
:attr:`KinematicFit.reprojection_px` says how well each joint agrees with the image. What each
term buys, measured: ``python benchmarks/bench_fit.py`` (:doc:`docs/video.md <video>`).

Coordinates: camera frame (x right, y down, z away from the camera), metres; 2D in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..animation.rig import Rig
from ..skeleton import H36M_17

__all__ = ["FitOptions", "KinematicFit", "fit_person", "person_image_height"]


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
    knee_hyperextension_deg: float = 5.0
    """How far past straight a knee may bend before it is penalised."""
    iterations: int = 3
    """Levenberg-Marquardt iterations at most (each solves the whole sequence's normal equations)."""


@dataclass
class KinematicFit:
    """One person fitted: ``poses`` (T, 17, 3) camera-frame metres with the ``rig``'s bone lengths;
    ``reprojection_px`` (T, 17) pixel distance of each fitted joint's projection from the detected
    2D (NaN where the detector gave no joint, confidence 0); ``reprojection_before_px`` the same for
    the network's poses; ``loss`` the final objective."""

    rig: Rig
    poses: np.ndarray
    reprojection_px: np.ndarray
    reprojection_before_px: np.ndarray
    loss: float


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
_KNEES = ((1, 2, 3), (4, 5, 6))  # hip, knee, ankle


def person_image_height(keypoints: np.ndarray, scores: np.ndarray | None = None) -> float:
    """The person's height in the image (pixels): the median over frames of the vertical extent of
    the confident joints of ``keypoints`` (T, J, 2), at least 1."""
    k = np.asarray(keypoints, np.float64)
    if scores is not None:
        k = np.where((np.asarray(scores) > 0)[..., None], k, np.nan)
    with np.errstate(all="ignore"):
        extent = np.nanmax(k[..., 1], axis=1) - np.nanmin(k[..., 1], axis=1)
    extent = extent[np.isfinite(extent)]
    return float(max(np.median(extent), 1.0)) if len(extent) else 1.0


def _reprojection(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                  principal: tuple[float, float]) -> np.ndarray:
    z = np.maximum(poses[..., 2:], 1e-3)
    proj = focal * poses[..., :2] / z + np.asarray(principal)
    err = np.linalg.norm(proj - keypoints, axis=-1)
    return np.where(scores > 0, err, np.nan)


def fit_person(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
               principal: tuple[float, float], fps: float, options: FitOptions | None = None,
               rig: Rig | None = None) -> KinematicFit:
    """Fit one rigid skeleton to a person's lifted sequence and detected 2D.

    Args:
        poses: (T, 17, 3) the network's poses placed in the camera frame (metres, root included:
            :func:`~gastnet.inference.placement.root_translation`), Human3.6M-17 joints.
        keypoints: (T, 17, 2) the detected 2D (pixels).
        scores: (T, 17) detector confidences in [0, 1]; 0 where the joint was not detected.
        focal: the focal length (pixels); ``principal`` the principal point (pixels).
        fps: the recording's frame rate (for the smoothness term).
        options: the terms' weights (:class:`FitOptions`).
        rig: the skeleton to pose; default :meth:`Rig.from_poses` of ``poses`` weighted by ``scores``.
    """
    opts = options or FitOptions()
    poses = np.asarray(poses, np.float64)
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.clip(np.nan_to_num(np.asarray(scores, np.float64)), 0.0, 1.0)
    t = len(poses)
    if poses.shape != (t, 17, 3) or keypoints.shape != (t, 17, 2) or scores.shape != (t, 17) or t == 0:
        raise ValueError(f"expected poses (T, 17, 3), keypoints (T, 17, 2) and scores (T, 17), got {poses.shape}, "
                         f"{keypoints.shape} and {scores.shape}")
    if not (np.isfinite(focal) and focal > 0 and np.isfinite(fps) and fps > 0):
        raise ValueError(f"expected a positive focal length and frame rate, got {focal} and {fps}")
    rig = rig or Rig.from_poses(poses, H36M_17, weights=0.1 + scores)
    before = _reprojection(poses, keypoints, scores, focal, principal)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: threads only add synchronisation (and stall on a busy machine)
    try:
        fitted, loss = _fit_in_chunks(poses, keypoints, scores, focal, principal, fps, opts, rig)
    finally:
        torch.set_num_threads(threads)
    return KinematicFit(rig, fitted, _reprojection(fitted, keypoints, scores, focal, principal), before, loss)


_PER_FRAME = 3 + 3 * len(_BONES)  # root and one direction per bone

CHUNK_FRAMES = 1024
"""Longer sequences are fitted in pieces of this many frames (overlapping by :data:`CHUNK_OVERLAP`),
so that memory stays flat (the normal equations of 1024 frames take ~65 MB)."""
CHUNK_OVERLAP = 32


def _fit_in_chunks(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                   principal: tuple[float, float], fps: float, opts: FitOptions, rig: Rig) -> tuple[np.ndarray, float]:
    """:func:`_optimise` over pieces of at most :data:`CHUNK_FRAMES` frames, cross-faded over their overlaps
    and made rigid again (:meth:`Rig.conform`); the loss is the pieces' sum."""
    frames = len(poses)
    if frames <= CHUNK_FRAMES:
        return _optimise(poses, keypoints, scores, focal, principal, fps, opts, rig)
    step = CHUNK_FRAMES - CHUNK_OVERLAP
    out = np.zeros_like(poses)
    weight = np.zeros(frames)
    total = 0.0
    for start in range(0, frames - CHUNK_OVERLAP, step):
        stop = min(start + CHUNK_FRAMES, frames)
        piece, loss = _optimise(poses[start:stop], keypoints[start:stop], scores[start:stop], focal, principal, fps,
                                opts, rig)
        ramp = np.ones(stop - start)
        if start > 0:
            ramp[:CHUNK_OVERLAP] = np.linspace(0, 1, CHUNK_OVERLAP + 2)[1:-1]
        if stop < frames:
            ramp[-CHUNK_OVERLAP:] = np.minimum(ramp[-CHUNK_OVERLAP:], np.linspace(1, 0, CHUNK_OVERLAP + 2)[1:-1])
        out[start:stop] += ramp[:, None, None] * piece
        weight[start:stop] += ramp
        total += loss
        if stop == frames:
            break
    return rig.conform(out / weight[:, None, None]), total


def _solve_banded(h_blocks: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for a symmetric positive definite H given by its blocks ``h_blocks[k]`` (T - k, n, n):
    the block of rows of frame t + k and columns of frame t (k = 0, 1, 2; H couples frames at most 2 apart)."""
    from scipy.linalg import solveh_banded

    frames, n = g.shape
    width = len(h_blocks) * n
    ab = np.zeros((width, frames * n))
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # column a, row b within a block
    for k, block in enumerate(h_blocks):
        if len(block) == 0:
            continue
        keep = (k * n + b - a) >= 0
        rows = (k * n + b - a)[keep]
        t = np.arange(len(block))[:, None]
        cols = t * n + a[keep][None]
        ab[np.broadcast_to(rows, cols.shape), cols] = block[:, b[keep], a[keep]]
    return solveh_banded(ab, g.reshape(-1), lower=True, check_finite=False).reshape(frames, n)


def _optimise(poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float,
                 principal: tuple[float, float], fps: float, opts: FitOptions, rig: Rig) -> tuple[np.ndarray, float]:
    """Levenberg-Marquardt over every frame at once: per frame a root and one direction per bone (51
    numbers), the Cauchy loss by reweighting; the normal equations are banded (the acceleration term
    couples frames two apart) and solved exactly."""
    from torch.func import jacfwd, vmap

    dt = torch.float64
    frames = len(poses)
    target = torch.from_numpy(poses).to(dt)
    rel0 = target - target[:, :1]
    root0 = target[:, 0]
    k2d = torch.from_numpy(keypoints).to(dt)
    w2d = torch.from_numpy(scores).to(dt)
    w3d = 1.0 + opts.unsure_prior_gain * (1.0 - w2d)
    lengths = torch.from_numpy(rig.bone_lengths[_CHILD]).to(dt)
    ancestry = torch.from_numpy(_ANCESTRY).to(dt)
    centre = torch.tensor(principal, dtype=dt)
    scale_px = opts.reprojection_scale * person_image_height(keypoints, scores)
    n = 17 * frames  # every term is a sum over frames and joints, weighted as a mean over them would be
    c_rep = n / max(float(w2d.sum()), 1.0)
    c_prior = 1.0 / opts.prior_m**2
    c_root = 17.0 / opts.root_prior_m**2
    c_knee = 17.0 * 100.0
    accel_scale = opts.acceleration / fps**2
    c_smooth = opts.smoothness_weight * frames / max(frames - 2, 1) / accel_scale**2 if frames >= 3 else 0.0
    sin_limit = float(np.sin(np.deg2rad(opts.knee_hyperextension_deg)))

    def positions(x: torch.Tensor) -> torch.Tensor:  # (51,) -> (17, 3)
        d = x[3:].reshape(-1, 3)
        return x[:3] + ancestry @ (d / d.norm(dim=-1, keepdim=True) * lengths[:, None])

    def projection_error(p: torch.Tensor, k: torch.Tensor) -> torch.Tensor:  # (17, 2) in robust-scale units
        return (focal * p[:, :2] / p[:, 2:].clamp(min=0.05) + centre - k) / scale_px

    def residual(x, k, sqrt_w, rel0_t, w3_t, root0_t):  # (R,) for one frame
        p = positions(x)
        rep = (projection_error(p, k) * sqrt_w[:, None]).reshape(-1)
        prior = ((p - p[:1] - rel0_t) * (w3_t * c_prior).sqrt()[:, None]).reshape(-1)
        root = (x[:3] - root0_t) * c_root**0.5
        gauge = x[3:].reshape(-1, 3).norm(dim=-1) - 1.0
        lateral = p[4] - p[1]
        lateral = lateral / lateral.norm().clamp(min=1e-9)
        knees = []
        for hip, knee, ankle in _KNEES:
            thigh, shin = p[knee] - p[hip], p[ankle] - p[knee]
            bend = torch.linalg.cross(thigh, shin) / (thigh.norm() * shin.norm()).clamp(min=1e-9)
            knees.append(torch.relu(-(bend * lateral).sum() - sin_limit) * c_knee**0.5)
        return torch.cat([rep, prior, root, gauge, torch.stack(knees)])

    frame_residuals = vmap(residual)
    frame_jacobians = vmap(jacfwd(residual))
    position_jacobians = vmap(jacfwd(positions))
    pent = np.zeros((3, frames))  # the acceleration term's D^T D: diagonals 0, 1, 2 (pair t + k, t)
    for i in range(frames - 2):
        pent[0, i:i + 3] += (1.0, 4.0, 1.0)
        pent[1, i:i + 2] += (-2.0, -2.0)
        pent[2, i] += 1.0

    def objective(x: torch.Tensor) -> tuple[float, torch.Tensor]:
        p = vmap(positions)(x)
        e2 = projection_error_all(p).pow(2).sum(-1)
        loss = float((c_rep * w2d * torch.log1p(e2)).sum())
        r = frame_residuals(x, k2d, torch.zeros_like(w2d), rel0, w3d, root0)
        loss += float(r.pow(2).sum())
        if c_smooth:
            loss += c_smooth * float((p[2:] - 2 * p[1:-1] + p[:-2]).pow(2).sum())
        return loss, e2

    def projection_error_all(p: torch.Tensor) -> torch.Tensor:
        return (focal * p[..., :2] / p[..., 2:].clamp(min=0.05) + centre - k2d) / scale_px

    bones0 = target[:, _CHILD] - target[:, _PARENT]
    x = torch.cat([root0, (bones0 / bones0.norm(dim=-1, keepdim=True).clamp(min=1e-9)).reshape(frames, -1)], 1)
    loss, e2 = objective(x)
    damping = 1e-3
    for _ in range(opts.iterations):
        sqrt_w = (c_rep * w2d / (1.0 + e2)).sqrt()
        r = frame_residuals(x, k2d, sqrt_w, rel0, w3d, root0)
        jac = frame_jacobians(x, k2d, sqrt_w, rel0, w3d, root0)  # (T, R, 51)
        grad = torch.einsum("tri,tr->ti", jac, r)
        blocks = [torch.einsum("tri,trj->tij", jac, jac)]
        if c_smooth:
            jp = position_jacobians(x).reshape(frames, -1, _PER_FRAME)  # (T, 51 coordinates, 51 parameters)
            p = vmap(positions)(x).reshape(frames, -1)
            acc = p[2:] - 2 * p[1:-1] + p[:-2]
            q = torch.zeros_like(p)
            q[:-2] += acc
            q[1:-1] -= 2 * acc
            q[2:] += acc
            grad = grad + c_smooth * torch.einsum("tci,tc->ti", jp, q)
            diag = torch.from_numpy(pent)
            blocks[0] = blocks[0] + c_smooth * diag[0, :, None, None] * torch.einsum("tci,tcj->tij", jp, jp)
            for k in (1, 2):
                blocks.append(c_smooth * diag[k, :frames - k, None, None]
                              * torch.einsum("tci,tcj->tij", jp[k:], jp[:frames - k]))
        h = [b.numpy() for b in blocks]
        g = grad.numpy()
        improved = False
        for _attempt in range(6):
            damped = [h[0] + damping * (np.eye(_PER_FRAME) * (np.diagonal(h[0], axis1=1, axis2=2)[:, :, None] + 1e-6))] + h[1:]
            try:
                step = torch.from_numpy(_solve_banded(damped, -g))
            except np.linalg.LinAlgError:  # not positive definite at this damping
                damping *= 8
                continue
            candidate = x + step
            new_loss, new_e2 = objective(candidate)
            if np.isfinite(new_loss) and new_loss < loss:
                improved = loss - new_loss > 1e-7 * loss
                x, loss, e2 = candidate, new_loss, new_e2
                damping = max(damping / 3, 1e-7)
                break
            damping *= 8
        if not improved:
            break
    return vmap(positions)(x).numpy(), loss
