"""Temporal smoothing of keypoint or pose sequences (T, ...): One-Euro and Savitzky-Golay filters."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["one_euro", "savitzky_golay", "smooth"]


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.007, d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter along axis 0 (Casiez et al. 2012): little lag on fast motion, strong smoothing at rest.

    ``min_cutoff`` (Hz) sets the smoothing of slow motion, ``beta`` how fast the cutoff rises with speed.
    Causal: output t uses inputs up to t.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    out[0] = x[0]
    derivative = np.zeros_like(x[0])
    dt = 1.0 / fps

    def alpha(cutoff):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    a_d = alpha(d_cutoff)
    for t in range(1, len(x)):
        derivative = a_d * (x[t] - out[t - 1]) / dt + (1 - a_d) * derivative
        a = alpha(min_cutoff + beta * np.abs(derivative))
        out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def savitzky_golay(x: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Savitzky-Golay filter along axis 0: a least-squares polynomial of ``order`` over each odd ``window``.

    Edges are padded by repeating the first and last frames. Not causal (looks ``window // 2`` ahead).

    >>> t = np.arange(20.0); line = 3 * t + 1
    >>> bool(np.allclose(savitzky_golay(line, 7, 2)[3:-3], line[3:-3]))  # polynomials pass unchanged
    True
    """
    if window % 2 == 0 or window <= order:
        raise ValueError(f"window must be odd and larger than order, got window={window}, order={order}")
    x = np.asarray(x, dtype=np.float64)
    half = window // 2
    offsets = np.arange(-half, half + 1)
    vander = np.vander(offsets, order + 1, increasing=True)
    coeffs = np.linalg.pinv(vander)[0]  # value of the fitted polynomial at offset 0
    padded = np.concatenate([np.repeat(x[:1], half, 0), x, np.repeat(x[-1:], half, 0)])
    return sum(c * padded[k : k + len(x)] for k, c in enumerate(coeffs))


def smooth(x: np.ndarray, method: str | None, fps: float) -> np.ndarray:
    """Apply ``method`` (``None``, ``"one-euro"`` or ``"savgol"``) along axis 0."""
    if method in (None, "none"):
        return np.asarray(x)
    if method == "one-euro":
        return one_euro(x, fps)
    if method == "savgol":
        window = min(9, len(x) - 1 + len(x) % 2)  # the largest odd window up to 9 frames that fits
        return savitzky_golay(x, window, 2) if window > 2 else np.asarray(x, dtype=np.float64)
    raise ValueError(f"unknown smoothing {method!r}; expected 'one-euro', 'savgol' or none")
