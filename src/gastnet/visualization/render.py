"""Renders of lifted people with matplotlib: an animation (GIF, or MP4 through OpenCV) and a contact sheet.

Each frame shows the 2D keypoints on the video frame beside the 3D skeletons in the world frame of
``poses_world`` (metres, z up, the floor at z = 0, people at their true positions).

Colours: in 3D the person's left limbs are blue and the right limbs red (the field's convention),
the torso and head take the person's own colour, which also marks the ring on the floor under the
pelvis, the fading pelvis trail and the label above the head. In the 2D overlay every bone has the
person's colour, the left limbs a lighter and the right limbs a darker shade, with a dark outline
that keeps them readable on any video.

The 3D axes follow the people (:func:`~gastnet.visualization.layout.axes_limits`): an equal-aspect box from the floor up (a cube
when the people are close together), centred on their horizontal centre smoothed over about a
second, large enough to hold everybody;
the floor grid (:func:`~gastnet.visualization.layout.grid_lines`) has its lines at fixed world coordinates, so that moving over
the floor shows as moving over the grid.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator
from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the "3d" projection on older matplotlib)

from ..fileio import atomic_path
from ..progress import progress_bar
from ..skeleton import H36M_17, Skeleton
from .figure import save_figure
from .layout import (
    DPI,
    LEFT_COLOUR,
    RIGHT_COLOUR,
    VIEW,
    axes_limits,
    bone_sides,
    box_aspect,
    figure_pixels,
    grid_lines,
    grid_step,
    overlay_colours,
    person_colour,
)

__all__ = ["DEFAULT_RENDER_FPS", "RenderOptions", "contact_sheet", "render_animation", "render_options"]

DEFAULT_RENDER_FPS = 25.0
"""Frames per second of a render (and of a contact sheet's axes smoothing and trail) when none is given."""

DEFAULT_TRAIL_S = 1.5
"""Seconds of pelvis trail drawn on the floor."""

DEFAULT_MAX_WIDTH, DEFAULT_MAX_HEIGHT = 1280, 720
"""Bound on an animation's panels, pixels."""

DEFAULT_MIN_SIDE_M = 2.5
"""The smallest side of the 3D axes, metres."""

DEFAULT_SHEET_FRAMES = 4
"""Frames on a contact sheet."""

DEFAULT_COLUMN_WIDTH = 320
"""Pixels per frame column of a contact sheet."""

MIN_GIF_FRAME_MS = 20
"""The shortest GIF frame time browsers honour, milliseconds."""


@dataclass(frozen=True)
class RenderOptions:
    """How to render lifted people (:func:`render_animation`, :func:`contact_sheet`); frozen, checked when made."""

    fps: float = DEFAULT_RENDER_FPS
    """Frames per second of the poses (the animation plays at ``fps / step``; GIF frames last at least 20 ms)."""
    labels: tuple[str, ...] | None = None
    """One short label per person, drawn at the head; ``None``: ``A``, ``B``, ..."""
    step: int = 1
    """Animate every ``step``-th frame (the contact sheet picks its own frames)."""
    view: tuple[float, float] = VIEW
    """3D view (elevation, azimuth), degrees."""
    trail_s: float = DEFAULT_TRAIL_S
    """Seconds of pelvis trail on the floor (0: none)."""
    max_width: int = DEFAULT_MAX_WIDTH
    """Bound on the animation's panels, pixels (see :func:`~gastnet.visualization.layout.figure_pixels`)."""
    max_height: int = DEFAULT_MAX_HEIGHT
    """Bound on the animation's panels, pixels."""
    min_side: float = DEFAULT_MIN_SIDE_M
    """The smallest side of the 3D axes cube, metres (see :func:`~gastnet.visualization.layout.axes_limits`)."""
    sheet_frames: int = DEFAULT_SHEET_FRAMES
    """Frames on a contact sheet, evenly spaced."""
    column_width: int = DEFAULT_COLUMN_WIDTH
    """Pixels per frame column of a contact sheet."""

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if not (isinstance(self.fps, numbers.Real) and self.fps > 0):
            raise ValueError(f"fps must be positive, got {self.fps}")
        for name in ("step", "max_width", "max_height", "sheet_frames", "column_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a whole number, at least 1, got {value!r}")
        if not self.trail_s >= 0:
            raise ValueError(f"trail_s must be seconds, 0 or more, got {self.trail_s}")
        if not self.min_side > 0:
            raise ValueError(f"min_side must be a positive number of metres, got {self.min_side}")


def render_options(options: RenderOptions | None = None, **overrides: Any) -> RenderOptions:
    """``options`` (default: :class:`RenderOptions` ()) with ``overrides`` (field names) changed."""
    base = options if options is not None else RenderOptions()
    return dataclasses.replace(base, **overrides) if overrides else base


def _outline(width: float) -> list:
    return [patheffects.Stroke(linewidth=width, foreground=(0, 0, 0), alpha=0.7), patheffects.Normal()]


def _labels(labels: Sequence[str] | None, people: int) -> list[str]:
    """The given labels (one per person) or ``A``, ``B``, ... (``27``, ``28``, ... after ``Z``)."""
    if labels is None:
        return [chr(ord("A") + p) if p < 26 else str(p + 1) for p in range(people)]
    if len(labels) != people:
        raise ValueError(f"expected {people} labels, got {len(labels)}")
    return [str(label) for label in labels]


def _segments(points: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Polyline data drawing ``bones`` (B, 2) joint pairs of ``points`` (J, D) as separate segments: (3 B, D), NaN-separated."""
    out = np.full((len(bones), 3, points.shape[-1]), np.nan)
    out[:, 0], out[:, 1] = points[bones[:, 0]], points[bones[:, 1]]
    return out.reshape(-1, points.shape[-1])


def _fit_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGB(A) uint8 frame resized to ``width`` x ``height`` pixels, as RGBA (cheaper for matplotlib to draw)."""
    frame = np.asarray(frame)
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, -1)
    try:
        import cv2
    except ImportError:
        from PIL import Image

        frame = np.asarray(Image.fromarray(frame[..., :3]).resize((width, height), Image.Resampling.BOX))
    else:
        interpolation = cv2.INTER_AREA if frame.shape[1] > width else cv2.INTER_LINEAR
        frame = cv2.resize(np.ascontiguousarray(frame[..., :3]), (width, height), interpolation=interpolation)
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3], out[..., 3] = frame, 255
    return out


class _Scene:
    """The artists of one 2D panel and one 3D panel, updated in place frame by frame with :meth:`draw`.

    Per person and side (``"left"``, ``"right"``, ``"centre"``) one line in each panel draws all the
    bones of that side (NaN-separated segments), so a frame costs few artists whatever the skeleton.
    """

    SIDES = ("left", "right", "centre")
    RING = np.stack([np.cos(np.linspace(0, 2 * np.pi, 25)), np.sin(np.linspace(0, 2 * np.pi, 25))], -1) * 0.3
    TRAIL_PIECES = 6

    def __init__(self, ax2, ax3, keypoints_2d: np.ndarray, poses_world: np.ndarray, image_size: Sequence[int],
                 skeleton: Skeleton, limits: np.ndarray, fps: float, labels: Sequence[str], with_video: bool,
                 trail_s: float, view: tuple[float, float]) -> None:
        self.kp, self.world, self.limits, self.fps = keypoints_2d, poses_world, limits, fps
        bones, sides = np.asarray(skeleton.bones(), int).reshape(-1, 2), bone_sides(skeleton)
        self.groups = {side: bones[[s == side for s in sides]] for side in self.SIDES}
        self.root = skeleton.root
        self.trail = max(0, round(trail_s * fps))
        people = poses_world.shape[0]
        w, h = image_size[:2]
        self.ax2, self.ax3 = ax2, ax3
        self.background = None
        if with_video:
            self.background = ax2.imshow(np.zeros((2, 2, 4), np.uint8), extent=(0, w, h, 0), interpolation="none")
        else:
            ax2.set_facecolor("0.93")
        ax2.set_xlim(0, w)
        ax2.set_ylim(h, 0)
        ax2.set_aspect("equal")
        ax2.set_xticks([])
        ax2.set_yticks([])
        self.label_lift = 0.02 * h  # pixels between the top joint and its label
        lw2 = max(1.5, min(3.0, ax2.bbox.height / 200))
        self.lines2 = []
        for p in range(people):
            shade = dict(zip(bone_sides(skeleton), overlay_colours(skeleton, p)))
            self.lines2.append({side: ax2.plot([], [], color=shade.get(side, person_colour(p)), lw=lw2,
                                               solid_capstyle="round", solid_joinstyle="round",
                                               path_effects=_outline(lw2 + 1.8))[0] for side in self.SIDES})
        self.labels2 = [ax2.text(0, 0, labels[p], color=person_colour(p), fontsize=11, fontweight="bold", ha="center",
                                 va="bottom", path_effects=_outline(2.5), visible=False) for p in range(people)]

        ax3.computed_zorder = False  # drawing order from the depth sort in draw() (the floor first)
        self.aspect: tuple[float, float, float] | None = None
        ax3.view_init(elev=view[0], azim=view[1])
        ax3.grid(False)
        for axis, name in ((ax3.xaxis, "x"), (ax3.yaxis, "y"), (ax3.zaxis, "z")):
            axis.set_pane_color((0.97, 0.97, 0.97, 1.0) if name != "z" else (0.88, 0.88, 0.86, 1.0))
        ax3.tick_params(labelsize=7, pad=0)
        side = float((limits[:, :2, 1] - limits[:, :2, 0]).max()) if len(limits) else 2.5
        self.step = grid_step(side)
        for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
            axis.set_major_locator(MultipleLocator(max(1.0, self.step)))
        # the grid: lines on multiples of 2 steps darker ("major"), the others lighter
        self.grid = {"major": ax3.plot([], [], [], color="0.5", lw=0.8, zorder=0.5)[0],
                     "minor": ax3.plot([], [], [], color="0.72", lw=0.6, zorder=0.4)[0]}
        self.rings = [ax3.plot([], [], [], color=person_colour(p), lw=1.6, zorder=1.5)[0] for p in range(people)]
        self.trails = [[ax3.plot([], [], [], color=person_colour(p), lw=2.0, zorder=1.0,
                                 alpha=0.75 * (1 - i / self.TRAIL_PIECES))[0] for i in range(self.TRAIL_PIECES)]
                       for p in range(people)]
        self.lines3 = []
        for p in range(people):
            colour = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR, "centre": person_colour(p)}
            self.lines3.append({side: ax3.plot([], [], [], color=colour[side], lw=3.0 if side == "centre" else 2.2,
                                               solid_capstyle="round",
                                               solid_joinstyle="round")[0] for side in self.SIDES})
        self.labels3 = [ax3.text(0, 0, 0, labels[p], color=person_colour(p), fontsize=10, fontweight="bold",
                                 ha="center", va="bottom", zorder=10, visible=False) for p in range(people)]
        elev, azim = np.radians(view)
        self.eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])

    def show_frame(self, frame: np.ndarray | None) -> None:
        """Put a video frame (H, W, 3) RGB uint8 under the 2D skeletons."""
        if frame is not None and self.background is not None:
            bbox = self.ax2.bbox
            self.background.set_data(_fit_frame(frame, max(1, round(bbox.width)), max(1, round(bbox.height))))

    def draw(self, t: int) -> None:
        """Put frame ``t`` on the artists (the canvas is drawn by the caller)."""
        (x0, x1), (y0, y1), (z0, z1) = self.limits[t]
        self.ax3.set_xlim(x0, x1)
        self.ax3.set_ylim(y0, y1)
        self.ax3.set_zlim(z0, z1)
        aspect = box_aspect(self.limits[t])
        if aspect != self.aspect:
            self.ax3.set_box_aspect(aspect)
            self.aspect = aspect
        self._draw_grid(x0, x1, y0, y1)
        depth = []
        for p in range(len(self.lines3)):
            k, w = self.kp[p, t], self.world[p, t]
            for side, bones in self.groups.items():
                xy = _segments(k, bones)
                self.lines2[p][side].set_data(xy[:, 0], xy[:, 1])
                xyz = _segments(w, bones)
                self.lines3[p][side].set_data_3d(xyz[:, 0], xyz[:, 1], xyz[:, 2])
                ends = w[bones.ravel()]
                ends = ends[np.isfinite(ends).all(-1)]
                depth.append((float(ends.mean(0) @ self.eye) if len(ends) else -np.inf, self.lines3[p][side]))
            ok2 = np.isfinite(k).all(-1)
            self.labels2[p].set_visible(bool(ok2.any()))
            if ok2.any():
                top = int(np.argmin(np.where(ok2, k[:, 1], np.inf)))
                self.labels2[p].set_position((k[top, 0], k[top, 1] - self.label_lift))
            ok3 = np.isfinite(w).all(-1)
            self.labels3[p].set_visible(bool(ok3.any()))
            if ok3.any():
                head = int(np.argmax(np.where(ok3, w[:, 2], -np.inf)))
                self.labels3[p].set_position_3d((w[head, 0], w[head, 1], w[head, 2] + 0.12))
            root = w[self.root]
            ring = root[:2] + self.RING if np.isfinite(root).all() else np.zeros((0, 2))
            self.rings[p].set_data_3d(ring[:, 0], ring[:, 1], np.zeros(len(ring)))
            self._draw_trail(p, t)
        for rank, (_, line) in enumerate(sorted(depth, key=lambda item: item[0])):
            line.set_zorder(3 + rank / max(1, len(depth)))  # the far side of the far person first

    def _draw_grid(self, x0: float, x1: float, y0: float, y1: float) -> None:
        xs, ys = grid_lines(x0, x1, self.step), grid_lines(y0, y1, self.step)
        for kind, line in self.grid.items():
            wanted = kind == "major"
            lines = [np.array([[x, y0], [x, y1], [np.nan, np.nan]]) for x in xs if _is_major(x, self.step) == wanted]
            lines += [np.array([[x0, y], [x1, y], [np.nan, np.nan]]) for y in ys if _is_major(y, self.step) == wanted]
            data = np.concatenate(lines) if lines else np.zeros((0, 2))
            line.set_data_3d(data[:, 0], data[:, 1], np.zeros(len(data)))

    def _draw_trail(self, p: int, t: int) -> None:
        pieces = self.trails[p]
        start = max(0, t - self.trail)
        path = self.world[p, start: t + 1, self.root, :2] if self.trail >= 2 else np.zeros((0, 2))
        bounds = np.linspace(len(path) - 1, 0, len(pieces) + 1).round().astype(int)  # newest piece first
        for i, line in enumerate(pieces):
            seg = path[max(0, bounds[i + 1]): bounds[i] + 1] if len(path) else path
            if len(seg) < 2:
                seg = np.zeros((0, 2))
            line.set_data_3d(seg[:, 0], seg[:, 1], np.zeros(len(seg)))


def _is_major(value: float, step: float) -> bool:
    """Whether a grid line at ``value`` metres lies on a multiple of ``2 step`` (every other line)."""
    return abs(value / (2 * step) - round(value / (2 * step))) < 1e-6


def _check(keypoints_2d: np.ndarray, poses_world: np.ndarray, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    kp, world = np.asarray(keypoints_2d, np.float64), np.asarray(poses_world, np.float64)
    joints = skeleton.num_joints
    if world.ndim != 4 or world.shape[2:] != (joints, 3):
        raise ValueError(f"poses_world must be (P, T, {joints}, 3) for skeleton {skeleton.name}, got {world.shape}")
    if kp.shape != world.shape[:3] + (2,):
        raise ValueError(f"keypoints_2d must be {world.shape[:3] + (2,)} to match poses_world, got {kp.shape}")
    return kp, world


def _legend(fig, x: float, y: float) -> None:
    """'left'/'right' limb colours, lower left corner at figure fraction (x, y)."""
    handles = [Line2D([], [], color=LEFT_COLOUR, lw=2.2, label="left limbs"),
               Line2D([], [], color=RIGHT_COLOUR, lw=2.2, label="right limbs")]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(x, y), fontsize=8, frameon=False,
               handlelength=1.5, borderaxespad=0.0, ncol=2)


def _figure(width: int, height: int) -> Figure:
    """A figure of ``width`` x ``height`` pixels on its own Agg canvas (no pyplot state, no GUI backend)."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _even_rgb(fig) -> np.ndarray:
    """The drawn canvas as RGB uint8 (H, W, 3), cropped to even dimensions."""
    rgba = np.asarray(fig.canvas.buffer_rgba())
    h, w = rgba.shape[:2]
    return np.ascontiguousarray(rgba[: h - h % 2, : w - w % 2, :3])


def render_animation(path: str | os.PathLike[str], keypoints_2d: np.ndarray, poses_world: np.ndarray,
                     image_size: Sequence[int], options: RenderOptions | None = None, *,
                     video: Iterable[np.ndarray] | None = None, skeleton: Skeleton = H36M_17, progress: bool = False,
                     **overrides: Any) -> Path:
    """Write an animation of the people: 2D keypoints on the video beside the 3D world.

    Args:
        path: ``.gif`` (Pillow) or ``.mp4`` (H.264 with PyAV, the ``video`` extra; browsers play it).
        keypoints_2d: (P, T, J, 2) pixels; NaN where a person is absent.
        poses_world: (P, T, J, 3) metres, z up, feet on the floor z = 0; NaN where absent.
        image_size: (width, height) of the video in pixels; the 2D panel has its aspect ratio.
        options: frame rate, labels, every n-th frame, view, trail and size (:class:`RenderOptions`,
            with ``overrides`` of its fields: ``render_animation(path, kp, world, size, fps=25)``).
        video: the RGB frames (H, W, 3) the keypoints come from, drawn under the 2D skeletons (all
            of them: with ``step`` > 1 every ``step``-th is shown).
        skeleton: the joints of the poses.
        progress: show a progress bar (:func:`gastnet.progress.progress_bar`).

    Returns the path written; the frames are ``figure_pixels(image_size)`` (even) in size.
    """
    opts = render_options(options, **overrides)
    fps = opts.fps / opts.step
    if opts.step > 1:
        keypoints_2d, poses_world = np.asarray(keypoints_2d)[:, :: opts.step], np.asarray(poses_world)[:, :: opts.step]
        if video is not None:
            video = itertools.islice(video, 0, None, opts.step)
    path = Path(path)
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise ValueError(f"animations are .gif or .mp4, got {path.suffix!r}")
    kp, world = _check(keypoints_2d, poses_world, skeleton)
    people, frames = world.shape[:2]
    labels = _labels(opts.labels, people)
    size = figure_pixels(image_size, opts.max_width, opts.max_height)
    W, H = size["width"], size["height"]
    fig = _figure(W, H)
    panel, bottom = size["panel"], size["bottom"]
    ax2 = fig.add_axes((size["left"] / W, bottom / H, size["width_2d"] / W, panel / H))
    x3 = size["left"] + size["width_2d"] + size["gap"]
    ax3 = fig.add_axes((x3 / W, (bottom - 12) / H, panel / W, (panel + 24) / H), projection="3d")
    title_y = (bottom + panel + 8) / H
    fig.text((size["left"] + size["width_2d"] / 2) / W, title_y, "video and 2D keypoints" if video is not None
             else "2D keypoints", fontsize=11, ha="center", va="bottom")
    fig.text((x3 + panel / 2) / W, title_y, "3D world (metres, z up, floor z = 0)", fontsize=11, ha="center",
             va="bottom")
    _legend(fig, x3 / W, 4 / H)
    clock = fig.text(size["left"] / W, 6 / H, "", fontsize=9, color="0.3")
    scene = _Scene(ax2, ax3, kp, world, image_size, skeleton, axes_limits(world, fps, min_side=opts.min_side),
                   fps, labels, video is not None, opts.trail_s, opts.view)
    video_frames = iter(video) if video is not None else None

    def frame_images() -> Iterator[np.ndarray]:
        with progress_bar(total=frames, desc="render", unit="frame", disable=not progress) as bar:
            for t in range(frames):
                if video_frames is not None:
                    scene.show_frame(next(video_frames, None))  # a short video keeps its last frame
                scene.draw(t)
                clock.set_text(f"frame {t}   {t / fps:.2f} s")
                fig.canvas.draw()
                yield _even_rgb(fig)
                bar.update(1)

    try:
        if path.suffix.lower() == ".gif":
            from PIL import Image

            with atomic_path(path) as tmp:
                images = [Image.fromarray(rgb).quantize(256, dither=Image.Dither.NONE) for rgb in frame_images()]
                if images:
                    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], loop=0,
                                   duration=max(MIN_GIF_FRAME_MS, round(1000 / fps)))
        else:
            from ..video.writer import write_video

            write_video(path, frame_images(), fps)  # H.264 (avc1, yuv420p) that browsers play, written atomically
    finally:
        fig.clear()
    return path


def contact_sheet(path: str | os.PathLike[str], keypoints_2d: np.ndarray, poses_world: np.ndarray,
                  image_size: Sequence[int], options: RenderOptions | None = None, *, skeleton: Skeleton = H36M_17,
                  **overrides: Any) -> Path:
    """A PNG of ``options.sheet_frames`` evenly spaced frames: the 2D keypoints (image aspect) above the 3D world.

    ``keypoints_2d`` (P, T, J, 2) pixels and ``poses_world`` (P, T, J, 3) metres (z up, floor
    z = 0), NaN where absent; the colours, grid and per-frame axes are those of
    :func:`render_animation` (``options.fps`` sets the smoothing of the axes and the trail length;
    ``step`` and the animation's size bounds do not apply).
    """
    opts = render_options(options, **overrides)
    fps = opts.fps
    kp, world = _check(keypoints_2d, poses_world, skeleton)
    people, total = world.shape[:2]
    labels = _labels(opts.labels, people)
    picks = np.linspace(0, max(total - 1, 0), opts.sheet_frames).round().astype(int) if total else np.zeros(0, int)
    w, h = (float(v) for v in image_size[:2])
    cw, left, gap, top, mid, bottom = opts.column_width, 8, 12, 26, 16, 24
    h2 = round(cw * h / w)
    W = left * 2 + len(picks) * cw + max(0, len(picks) - 1) * gap
    H = top + h2 + mid + cw + bottom
    W, H = W + W % 2, H + H % 2
    fig = _figure(W, H)
    limits = axes_limits(world, fps, min_side=opts.min_side)
    _legend(fig, left / W, 4 / H)
    for i, t in enumerate(picks):
        x = left + i * (cw + gap)
        ax2 = fig.add_axes((x / W, (bottom + cw + mid) / H, cw / W, h2 / H))
        ax3 = fig.add_axes((x / W, bottom / H, cw / W, cw / H), projection="3d")
        ax2.set_title(f"frame {t} ({t / fps:.2f} s)", fontsize=10)
        scene = _Scene(ax2, ax3, kp, world, image_size, skeleton, limits, fps, labels, False, opts.trail_s, opts.view)
        scene.draw(int(t))
    return save_figure(fig, path)
