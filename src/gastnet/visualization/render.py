"""Renders of lifted poses with matplotlib: an animation (GIF, or MP4 through OpenCV) and a contact sheet.

Each frame shows the 2D keypoints (image coordinates) beside the 3D skeleton in the upright world
frame (z up, fixed axes, a ground plane at z = 0), one colour per person.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from ..fileio import atomic_path  # noqa: E402
from .figure import save_figure  # noqa: E402
from ..skeleton import H36M_17, Skeleton  # noqa: E402

__all__ = ["render_animation", "contact_sheet"]

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _figure(image_size, poses_world, skeleton, people, with_video: bool):
    fig = plt.figure(figsize=(10, 5), dpi=80)
    ax2 = fig.add_subplot(1, 2, 1)
    background = ax2.imshow(np.zeros((2, 2, 3), np.uint8), extent=(0, image_size[0], image_size[1], 0)) if with_video else None
    ax2.set_xlim(0, image_size[0])
    ax2.set_ylim(image_size[1], 0)
    ax2.set_aspect("equal")
    ax2.set_title("video and 2D keypoints" if with_video else "2D keypoints")
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    finite = poses_world[np.isfinite(poses_world).all(-1)]
    radius = max(1.0, float(np.abs(finite[:, :2]).max()) if finite.size else 1.0)
    ax3.set_xlim(-radius, radius)
    ax3.set_ylim(-radius, radius)
    ax3.set_zlim(0, max(2.0, float(finite[:, 2].max()) if finite.size else 2.0))
    ax3.set_box_aspect((1, 1, 1))
    ax3.view_init(elev=15, azim=-70)
    ax3.set_title("3D (metres, z up)")
    grid = np.linspace(-radius, radius, 5)
    gx, gy = np.meshgrid(grid, grid)
    ax3.plot_surface(gx, gy, np.zeros_like(gx), alpha=0.15, color="grey")
    lines2 = [[ax2.plot([], [], color=COLOURS[p % len(COLOURS)], lw=2)[0] for _ in skeleton.bones()] for p in range(people)]
    lines3 = [[ax3.plot([], [], [], color=COLOURS[p % len(COLOURS)], lw=2)[0] for _ in skeleton.bones()] for p in range(people)]
    return fig, lines2, lines3, background


def _draw(t, keypoints_2d, poses_world, skeleton, lines2, lines3, offsets):
    for p in range(len(lines2)):
        for line2, line3, (c, q) in zip(lines2[p], lines3[p], skeleton.bones()):
            k, w = keypoints_2d[p, t], poses_world[p, t] + offsets[p]
            line2.set_data(k[[c, q], 0], k[[c, q], 1])
            line3.set_data_3d(w[[c, q], 0], w[[c, q], 1], w[[c, q], 2])


def _spread(people: int) -> np.ndarray:
    """Place several root-relative people side by side along x."""
    return np.stack([np.array([1.2 * (p - (people - 1) / 2), 0.0, 0.0]) for p in range(people)])


def render_animation(path: str | os.PathLike[str], keypoints_2d: np.ndarray, poses_world: np.ndarray,
                     image_size: Sequence[int], fps: float, skeleton: Skeleton = H36M_17,
                     video: Iterable[np.ndarray] | None = None, progress: bool = False) -> Path:
    """Write an animation of (P, T, J, 2) keypoints and (P, T, J, 3) world poses (NaN: absent).

    ``video``: the RGB frames the keypoints come from, drawn under the 2D skeleton. ``.gif`` is
    written with Pillow, ``.mp4`` with OpenCV (the ``video`` extra).
    """
    path = Path(path)
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise ValueError(f"animations are .gif or .mp4, got {path.suffix!r}")
    people, frames = poses_world.shape[:2]
    fig, lines2, lines3, background = _figure(image_size, poses_world, skeleton, people, video is not None)
    offsets = _spread(people)
    bar = tqdm(total=frames, desc="render", unit="frame", disable=not progress)
    video_frames = iter(video) if video is not None else None

    def update(t):
        if video_frames is not None:
            frame = next(video_frames, None)
            if frame is not None:
                background.set_data(frame)
        _draw(t, keypoints_2d, poses_world, skeleton, lines2, lines3, offsets)
        bar.update(1)

    def draw_first() -> None:  # draws frame 0 without taking a video frame or counting progress
        _draw(0, keypoints_2d, poses_world, skeleton, lines2, lines3, offsets)

    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".gif":
            # init_func: without one, matplotlib's first draw calls update(0) once more than there
            # are frames, which would take a video frame and put the background one frame late.
            FuncAnimation(fig, update, frames=frames, init_func=draw_first).save(tmp, writer=PillowWriter(fps=min(fps, 25)))
        else:
            from ..video.reader import require_cv2

            cv2 = require_cv2()
            draw_first()  # lines need data to draw
            fig.canvas.draw()
            h, w = np.asarray(fig.canvas.buffer_rgba()).shape[:2]
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            for t in range(frames):
                update(t)
                fig.canvas.draw()
                writer.write(cv2.cvtColor(np.asarray(fig.canvas.buffer_rgba()), cv2.COLOR_RGBA2BGR))
            writer.release()
    bar.close()
    plt.close(fig)
    return path


def contact_sheet(path: str | os.PathLike[str], keypoints_2d: np.ndarray, poses_world: np.ndarray,
                  image_size: Sequence[int], frames: int = 4, skeleton: Skeleton = H36M_17) -> Path:
    """A PNG with ``frames`` evenly spaced frames, 2D above 3D, for a quick look."""
    people, total = poses_world.shape[:2]
    picks = np.linspace(0, total - 1, frames).round().astype(int)
    fig = plt.figure(figsize=(3 * frames, 6), dpi=80)
    offsets = _spread(people)
    finite = poses_world[np.isfinite(poses_world).all(-1)]
    radius = max(1.0, float(np.abs(finite[:, :2]).max()) if finite.size else 1.0)
    for i, t in enumerate(picks):
        ax2 = fig.add_subplot(2, frames, i + 1)
        ax3 = fig.add_subplot(2, frames, frames + i + 1, projection="3d")
        ax2.set_xlim(0, image_size[0])
        ax2.set_ylim(image_size[1], 0)
        ax2.set_aspect("equal")
        ax2.set_title(f"frame {t}")
        ax3.set_xlim(-radius, radius)
        ax3.set_ylim(-radius, radius)
        ax3.set_zlim(0, 2)
        ax3.view_init(elev=15, azim=-70)
        for p in range(people):
            colour = COLOURS[p % len(COLOURS)]
            for c, q in skeleton.bones():
                k, w = keypoints_2d[p, t], poses_world[p, t] + offsets[p]
                ax2.plot([k[c, 0], k[q, 0]], [k[c, 1], k[q, 1]], color=colour, lw=2)
                ax3.plot([w[c, 0], w[q, 0]], [w[c, 1], w[q, 1]], [w[c, 2], w[q, 2]], color=colour, lw=2)
    fig.tight_layout()
    return save_figure(fig, path)
