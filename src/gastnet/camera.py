"""Camera maths: screen normalisation (more camera models join here).

Functions accept numpy arrays or torch tensors and keep the type.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

__all__ = ["normalize_screen_coordinates", "image_coordinates"]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _like(points: ArrayT, values: list[float]) -> ArrayT:
    """``values`` as an array of the same kind, dtype and device as ``points``."""
    if isinstance(points, torch.Tensor):
        return points.new_tensor(values)
    return np.asarray(values, dtype=points.dtype)


def _check_size(points: ArrayT, width: float, height: float) -> None:
    if points.shape[-1] != 2:
        raise ValueError(f"expected pixel coordinates of shape (..., 2), got {tuple(points.shape)}")
    if not (width > 0 and height > 0):
        raise ValueError(f"image size must be positive, got {width} x {height}")


def normalize_screen_coordinates(points: ArrayT, width: float, height: float) -> ArrayT:
    """Pixels to the network's input range: ``x' = 2x/w - 1``, ``y' = 2y/w - h/w``.

    x spans [-1, 1] across the image and y keeps the aspect ratio.

    >>> normalize_screen_coordinates(np.array([[0.0, 0.0], [1000.0, 500.0]]), 1000, 1000).tolist()
    [[-1.0, -1.0], [1.0, 0.0]]
    """
    _check_size(points, width, height)
    return points / width * 2 - _like(points, [1.0, height / width])


def image_coordinates(points: ArrayT, width: float, height: float) -> ArrayT:
    """Inverse of :func:`normalize_screen_coordinates`: normalised coordinates to pixels.

    >>> image_coordinates(np.array([[1.0, 0.0]]), 1000, 1000).tolist()
    [[1000.0, 500.0]]
    """
    _check_size(points, width, height)
    return (points + _like(points, [1.0, height / width])) * width / 2
