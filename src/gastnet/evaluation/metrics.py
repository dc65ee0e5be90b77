"""Pose error metrics, one place for all: MPJPE (Protocol #1), P-MPJPE (Protocol #2), N-MPJPE, MPJVE.

Inputs are torch tensors or numpy arrays of poses ``(..., J, 3)`` in any unit (the errors come in
that unit); MPJVE needs a time axis: ``(..., T, J, 3)``. With ``reduction="none"`` a metric
returns one error per pose (the mean over joints), shape ``(...)``, so that callers can weight
frames; ``"mean"`` averages everything into a scalar.

>>> import torch
>>> g = torch.zeros(1, 2, 3); p = g.clone(); p[0, 1, 0] = 3.0
>>> float(mpjpe(p, g))
1.5
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

__all__ = [
    "spectral_peak_ratio","mpjpe", "p_mpjpe", "n_mpjpe", "mpjve", "procrustes_align"]

Reduction = Literal["mean", "none"]


def _as_tensor(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x, dtype=np.float64))


def _check(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.shape[-1] != 3 or pred.ndim < 2:
        raise ValueError(f"expected two pose arrays of the same shape (..., J, 3), got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")


def _reduce(per_pose: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    return per_pose.mean() if reduction == "mean" else per_pose


def mpjpe(pred, target, reduction: Reduction = "mean") -> torch.Tensor:
    """Mean per-joint position error: the mean Euclidean distance between matching joints."""
    pred, target = _as_tensor(pred), _as_tensor(target)
    _check(pred, target)
    return _reduce((pred - target).norm(dim=-1).mean(-1), reduction)


def procrustes_align(pred, target) -> torch.Tensor:
    """``pred`` moved onto ``target`` by the best similarity transform (scale, rotation, translation).

    Per pose, the rotation comes from the SVD of the cross-covariance, corrected so that it is
    never a reflection. Shapes ``(..., J, 3)``.
    """
    pred, target = _as_tensor(pred), _as_tensor(target)
    _check(pred, target)
    mu_p, mu_t = pred.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    p, t = pred - mu_p, target - mu_t
    u, s, vh = torch.linalg.svd(p.transpose(-1, -2) @ t)  # H = P^T T = U S V^T
    v = vh.transpose(-1, -2)
    sign = torch.sign(torch.linalg.det(v @ u.transpose(-1, -2)))
    d = torch.ones_like(s)
    d[..., -1] = torch.where(sign == 0, torch.ones_like(sign), sign)
    rotation = v @ torch.diag_embed(d) @ u.transpose(-1, -2)  # maps centred pred onto centred target
    scale = (s * d).sum(-1) / (p**2).sum((-1, -2))
    return scale[..., None, None] * p @ rotation.transpose(-1, -2) + mu_t


def p_mpjpe(pred, target, reduction: Reduction = "mean") -> torch.Tensor:
    """Protocol #2: MPJPE after per-pose rigid alignment with scale (Procrustes)."""
    return mpjpe(procrustes_align(pred, target), target, reduction)


def n_mpjpe(pred, target, reduction: Reduction = "mean") -> torch.Tensor:
    """MPJPE after scaling each predicted pose by its least-squares optimal factor."""
    pred, target = _as_tensor(pred), _as_tensor(target)
    _check(pred, target)
    scale = (pred * target).sum((-1, -2), keepdim=True) / (pred**2).sum((-1, -2), keepdim=True)
    return mpjpe(scale * pred, target, reduction)


def mpjve(pred, target, reduction: Reduction = "mean") -> torch.Tensor:
    """Mean per-joint velocity error: MPJPE of the first differences over time (axis -3).

    Per-pose output has one entry fewer along time than the input.
    """
    pred, target = _as_tensor(pred), _as_tensor(target)
    _check(pred, target)
    if pred.ndim < 3 or pred.shape[-3] < 2:
        raise ValueError(f"MPJVE needs poses over time (..., T >= 2, J, 3), got {tuple(pred.shape)}")
    return mpjpe(pred.diff(dim=-3), target.diff(dim=-3), reduction)


def spectral_peak_ratio(signal: np.ndarray, fps: float, frequency: float, neighbours: int = 6) -> float:
    """How much the power at ``frequency`` (Hz) stands out of its neighbourhood, for ``signal`` (T, ...).

    Every channel (``signal[:, ...]`` flattened) has its linear trend removed and a Hann window
    applied; the power spectra are summed over channels; the result is the power in the bin
    nearest ``frequency`` divided by the median power of the ``neighbours`` bins on each side
    (skipping the two bins next to it). About 1 for a smooth spectrum; a periodic artefact (the
    ripple of lifting in interleaved passes) gives a large value.

    >>> t = np.arange(300) / 30
    >>> smooth = np.stack([np.sin(2 * np.pi * 0.9 * t), t**2], -1)
    >>> ripple = 0.05 * np.sin(2 * np.pi * 10 * t)[:, None]
    >>> spectral_peak_ratio(smooth, 30, 10) < 3, spectral_peak_ratio(smooth + ripple, 30, 10) > 100
    (True, True)
    """
    x = np.asarray(signal, dtype=np.float64).reshape(len(signal), -1)
    t = np.arange(len(x))
    coeffs = np.polyfit(t, x, 1)
    x = (x - (t[:, None] * coeffs[0] + coeffs[1])) * np.hanning(len(x))[:, None]
    power = (np.abs(np.fft.rfft(x, axis=0)) ** 2).sum(1)
    freqs = np.fft.rfftfreq(len(x), 1 / fps)
    k = int(np.argmin(np.abs(freqs - frequency)))
    around = [i for i in range(k - neighbours - 1, k + neighbours + 2) if abs(i - k) > 1 and 0 < i < len(power)]
    if not around:
        raise ValueError(f"the signal is too short to resolve {frequency} Hz at {fps} fps")
    return float(power[k] / max(np.median(power[around]), 1e-300))
