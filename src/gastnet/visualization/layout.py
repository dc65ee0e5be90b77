"""Render layout, free of drawing: colours, 3D axes that follow people, floor grid, figure sizes.

Pure functions of the poses and the image size, so that what a render shows can be tested
without drawing it; :mod:`gastnet.visualization.render` draws with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import to_rgb

from ..skeleton import Skeleton

__all__ = [
    "CENTRE_COLOUR",
    "LEFT_COLOUR",
    "PERSON_COLOURS",
    "RIGHT_COLOUR",
    "axes_limits",
    "bone_colours",
    "bone_sides",
    "box_aspect",
    "figure_pixels",
    "grid_lines",
    "grid_step",
    "overlay_colours",
    "person_colour",
]

LEFT_COLOUR = "#1f5fd6"
"""The person's left limbs in 3D (blue)."""
RIGHT_COLOUR = "#d62828"
"""The person's right limbs in 3D (red)."""
CENTRE_COLOUR = "#505050"
"""Torso and head when no person colour is given (neutral grey)."""
PERSON_COLOURS = ("#2ca02c", "#ff7f0e", "#9467bd", "#bcbd22", "#17becf", "#e377c2", "#8c564b", "#7f7f7f")
"""One colour per person (track), cycled; none of them is the limbs' blue or red."""

DPI = 80
VIEW = (24.0, -72.0)
"""Default 3D view (elevation, azimuth) in degrees: from behind and above the camera (the world's
y axis points away from the camera), turned a little to show depth."""


# ----------------------------------------------------------------------------- pure helpers


def bone_sides(skeleton: Skeleton) -> list[str]:
    """``"left"``, ``"right"`` or ``"centre"`` for each bone of ``skeleton.bones()`` (by its child joint).

    >>> from gastnet.skeleton import H36M_17
    >>> bone_sides(H36M_17)[:4]
    ['right', 'right', 'right', 'left']
    """
    left, right = set(skeleton.joints_left), set(skeleton.joints_right)
    return ["left" if c in left else "right" if c in right else "centre" for c, _ in skeleton.bones()]


def bone_colours(skeleton: Skeleton, centre: str = CENTRE_COLOUR, left: str = LEFT_COLOUR,
                 right: str = RIGHT_COLOUR) -> list[str]:
    """The 3D colour of each bone of ``skeleton.bones()``: left limbs ``left``, right limbs ``right``,
    the rest (torso, head) ``centre``.

    >>> from gastnet.skeleton import H36M_17
    >>> bone_colours(H36M_17)[0] == RIGHT_COLOUR, bone_colours(H36M_17)[3] == LEFT_COLOUR
    (True, True)
    """
    table = {"left": left, "right": right, "centre": centre}
    return [table[s] for s in bone_sides(skeleton)]


def person_colour(index: int) -> str:
    """The colour of person ``index`` (0-based), cycling through :data:`PERSON_COLOURS`."""
    return PERSON_COLOURS[index % len(PERSON_COLOURS)]


_RGB = tuple[float, float, float]


def _mix(colour: str | _RGB, other: _RGB, amount: float) -> _RGB:
    r, g, b = ((1 - amount) * np.asarray(to_rgb(colour)) + amount * np.asarray(other)).tolist()
    return float(r), float(g), float(b)


def overlay_colours(skeleton: Skeleton, index: int) -> list[tuple[float, float, float]]:
    """RGB (0-1) of each bone in the 2D overlay for person ``index``: the person's colour on the
    torso, a lighter shade on the left limbs and a darker one on the right limbs."""
    base = person_colour(index)
    shade = {"left": _mix(base, (1.0, 1.0, 1.0), 0.5), "right": _mix(base, (0.0, 0.0, 0.0), 0.45),
             "centre": _mix(base, (0.0, 0.0, 0.0), 0.0)}
    return [shade[s] for s in bone_sides(skeleton)]


def _fill_gaps(values: np.ndarray) -> np.ndarray:
    """Fill NaN rows of (T, C) by linear interpolation over time (held constant beyond the ends; 0 if all NaN)."""
    out = values.copy()
    t = np.arange(len(values))
    for c in range(values.shape[1]):
        ok = np.isfinite(values[:, c])
        out[:, c] = np.interp(t, t[ok], values[ok, c]) if ok.any() else 0.0
    return out


def _windows(x: np.ndarray, half: int, mode: Any, **kwargs: Any) -> np.ndarray:
    """Centred windows of ``2 half + 1`` frames over axis 0 of (T, ...) ``x`` padded by ``np.pad`` ``mode``: (T, ..., W)."""
    padded = np.pad(x, [(half, half)] + [(0, 0)] * (x.ndim - 1), mode=mode, **kwargs)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)


def axes_limits(poses_world: np.ndarray, fps: float = 25.0, min_side: float = 2.5, margin: float = 0.4,
                smooth_s: float = 1.0) -> np.ndarray:
    """Per-frame 3D axes limits that follow the people: (T, 3, 2) metres, ``[frame, axis, (low, high)]``.

    ``poses_world`` (P, T, J, 3) metres, z up, floor z = 0, NaN where a person is absent. The
    horizontal limits are a square of side at least ``min_side``, enough to hold every present
    joint with ``margin`` to spare; z runs from the floor (0) to the tallest person plus ``margin``
    (at least ``min_side``). Drawn with equal aspect (see :func:`box_aspect`) that is a cube for
    people close together and a flat box, not a tall empty one, for people far apart.

    When the whole clip fits the smallest box the limits are fixed. Otherwise the horizontal centre
    of the people (the middle of their bounding box; interpolated over frames with nobody) is
    smoothed with a centred mean over ``smooth_s`` seconds (straight paths pass unchanged), and the
    half side and the height are the running maximum of what each frame needs, then averaged over
    the same window: the people stay inside in every frame and the limits move smoothly (a person
    appearing far away moves them over ``smooth_s``, not in one frame).

    >>> walk = np.zeros((1, 50, 2, 3)); walk[0, :, 1, 2] = 1.7; walk[0, :, :, 0] = np.linspace(0, 10, 50)[:, None]
    >>> lim = axes_limits(walk, fps=25)
    >>> bool((lim[:, 0, 0] < walk[0, :, 0, 0]).all() and (walk[0, :, 0, 0] < lim[:, 0, 1]).all())
    True
    """
    poses = np.asarray(poses_world, np.float64)
    if poses.ndim != 4 or poses.shape[-1] != 3:
        raise ValueError(f"poses_world must be (P, T, J, 3), got {poses.shape}")
    frames = poses.shape[1]
    points = poses.transpose(1, 0, 2, 3).reshape(frames, -1, 3)  # (T, P J, 3)
    present = np.isfinite(points).all(-1)
    lo = np.where(present[..., None], points, np.inf).min(1, initial=np.inf)  # (T, 3)
    hi = np.where(present[..., None], points, -np.inf).max(1, initial=-np.inf)
    seen = present.any(1)
    limits = np.empty((frames, 3, 2))
    if not seen.any():
        limits[:] = [[-min_side / 2, min_side / 2], [-min_side / 2, min_side / 2], [0.0, min_side]]
        return limits
    all_lo, all_hi = lo[seen].min(0), hi[seen].max(0)
    if (all_hi[:2] - all_lo[:2]).max() + 2 * margin <= min_side and all_hi[2] + margin <= min_side:
        centre = np.broadcast_to((all_lo[:2] + all_hi[:2]) / 2, (frames, 2))
        half_side, height = np.full(frames, min_side / 2), np.full(frames, min_side)
    else:
        raw = np.where(seen[:, None], (lo[:, :2] + hi[:, :2]) / 2, np.nan)
        centre = _fill_gaps(raw)
        half = min(max(1, round(float(smooth_s) * float(fps) / 2)), frames - 1)
        reach = np.where(present, np.abs(points[..., :2] - centre[:, None]).max(-1), 0.0).max(1)  # (T,)
        if half >= 1:  # odd reflection at the ends: a straight path stays straight
            centre = _windows(centre, half, "reflect", reflect_type="odd").mean(-1)
            reach = np.where(present, np.abs(points[..., :2] - centre[:, None]).max(-1), 0.0).max(1)
        half_side = np.maximum(min_side / 2, reach + margin)
        height = np.maximum(min_side, np.where(seen, hi[:, 2], 0.0) + margin)
        if half >= 1:
            half_side, height = (_windows(_windows(v, half, "edge").max(-1), half, "edge").mean(-1)
                                 for v in (half_side, height))
    limits[:, 0] = centre[:, :1] + half_side[:, None] * [-1, 1]
    limits[:, 1] = centre[:, 1:] + half_side[:, None] * [-1, 1]
    limits[:, 2] = np.stack([np.zeros(frames), height], -1)
    return limits


def box_aspect(limits: np.ndarray) -> tuple[float, float, float]:
    """Equal-aspect box (x, y, z lengths) for one frame's ``limits`` (3, 2) metres: a metre is as long on every axis."""
    lengths = np.asarray(limits)[:, 1] - np.asarray(limits)[:, 0]
    x, y, z = (lengths / lengths.max()).tolist()
    return float(x), float(y), float(z)


def grid_step(side: float) -> float:
    """Spacing (metres) of the floor grid for axes of ``side`` metres: 0.5 m up to 6 m, then 1, 2, 5, 10 m
    (at most about 12 squares across).

    >>> grid_step(2.5), grid_step(10.0), grid_step(40.0)
    (0.5, 1.0, 5.0)
    """
    for step in (0.5, 1.0, 2.0, 5.0, 10.0):
        if side / step <= 12.0:
            return step
    return 10.0 * math.ceil(side / 120.0)


def grid_lines(low: float, high: float, step: float) -> np.ndarray:
    """World coordinates of the grid lines in ``[low, high]``: the multiples of ``step`` (metres).

    >>> grid_lines(-0.3, 1.2, 0.5).tolist()
    [0.0, 0.5, 1.0]
    """
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return np.arange(first, last + 1) * step


def figure_pixels(image_size: Sequence[int], max_width: int = 1280, max_height: int = 720) -> dict[str, int]:
    """Layout in pixels of the animation figure for a video of ``image_size`` (w, h) pixels.

    The 2D panel has the image's aspect ratio, the square 3D panel beside it has the same height,
    and the figure fits ``max_width`` x ``max_height`` (plus margins and titles). Returns
    ``width``, ``height`` (both even, for video encoders), ``panel`` (the panels' height),
    ``width_2d``, ``left``, ``gap``, ``bottom`` and ``top`` (margins).
    """
    w, h = (float(v) for v in image_size[:2])
    if not (w > 0 and h > 0):
        raise ValueError(f"image size must be positive, got {image_size}")
    left, gap, bottom, top = 10, 20, 26, 30
    panel = min(max_height, (max_width - 2 * left - gap) / (w / h + 1.0))
    width_2d = round(panel * w / h)
    panel = round(panel)
    width = left + width_2d + gap + panel + left
    height = bottom + panel + top
    return {"width": width + width % 2, "height": height + height % 2, "panel": panel, "width_2d": width_2d,
            "left": left, "gap": gap, "bottom": bottom, "top": top}


# ----------------------------------------------------------------------------- drawing
