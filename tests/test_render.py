"""Renders: left/right and per-person colours, 3D axes that follow people over the floor, a floor grid
at fixed world coordinates, frames with the video's aspect ratio, absent (NaN) people."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from gastnet.examples import synthetic_walk_3d
from gastnet.skeleton import H36M_17, HUMANEVA_15
from gastnet.visualization.layout import (
    CENTRE_COLOUR,
    LEFT_COLOUR,
    RIGHT_COLOUR,
    axes_limits,
    bone_colours,
    bone_sides,
    box_aspect,
    figure_pixels,
    grid_lines,
    overlay_colours,
    person_colour,
)
from gastnet.visualization.render import contact_sheet, render_animation

FPS = 25.0


def walker(frames: int, start: tuple[float, float], velocity: tuple[float, float]) -> np.ndarray:
    """The synthetic walk in the world frame: (T, 17, 3) metres, z up, ankles on z = 0, facing and
    moving along ``velocity`` (m/s) from ``start`` (m)."""
    pose = synthetic_walk_3d(frames, FPS)  # y up, facing -z
    pose = np.stack([pose[..., 0], -pose[..., 2], pose[..., 1]], -1)  # z up, facing +y (a rotation)
    angle = np.arctan2(velocity[1], velocity[0]) - np.pi / 2
    turn = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    pose = pose @ turn.T
    pose[..., 2] -= pose[..., [3, 6], 2].min()
    seconds = np.arange(frames)[:, None, None] / FPS
    return pose + np.array([*start, 0.0]) + np.array([*velocity, 0.0]) * seconds


def camera_view(world: np.ndarray, size: tuple[int, int], height: float = 1.5) -> np.ndarray:
    """Pixels (..., 2) of world points seen by a level pinhole camera at (0, 0, height) looking along +y."""
    w, h = size
    focal = float(min(w, h))
    depth = world[..., 1]
    return np.stack([focal * world[..., 0] / depth + w / 2, focal * (height - world[..., 2]) / depth + h / 2], -1)


def inside(limits: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """(T,) whether every present joint of (P, T, J, 3) ``poses`` lies within that frame's (T, 3, 2) ``limits``."""
    lo, hi = limits[None, :, None, :, 0], limits[None, :, None, :, 1]
    ok = (poses >= lo) & (poses <= hi) | np.isnan(poses)
    return ok.all(axis=(0, 2, 3))


# ----------------------------------------------------------------------------- colours


@pytest.mark.parametrize("skeleton", [H36M_17, HUMANEVA_15])
def test_left_and_right_limbs_get_their_own_colours(skeleton):
    colours, sides = bone_colours(skeleton), bone_sides(skeleton)
    for (child, _), colour, side in zip(skeleton.bones(), colours, sides):
        expected = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR, "centre": CENTRE_COLOUR}[side]
        assert colour == expected
        assert side == ("left" if child in skeleton.joints_left else "right" if child in skeleton.joints_right else "centre")
    assert sides.count("left") == sides.count("right") >= 4  # arms and legs on both sides
    assert LEFT_COLOUR != RIGHT_COLOUR and "centre" in sides
    # the torso can take the person's colour instead of the neutral one
    assert bone_colours(skeleton, centre=person_colour(1))[sides.index("centre")] == person_colour(1)


def test_overlay_shades_left_light_right_dark_and_people_apart():
    sides = bone_sides(H36M_17)
    first, second = overlay_colours(H36M_17, 0), overlay_colours(H36M_17, 1)
    brightness = {side: np.mean(first[sides.index(side)]) for side in ("left", "centre", "right")}
    assert brightness["left"] > brightness["centre"] > brightness["right"]
    assert all(a != b for a, b in zip(first, second))
    assert len({person_colour(p) for p in range(6)}) == 6


# ----------------------------------------------------------------------------- axes and grid


def test_axes_follow_a_person_walking_10_m():
    frames = 125  # 5 s at 2 m/s, starting 3 m right of and 4 m in front of the origin
    poses = walker(frames, (3.0, 4.0), (2.0, 0.0))[None]
    assert np.ptp(poses[0, :, 0, 0]) == pytest.approx(9.92, abs=0.01)
    limits = axes_limits(poses, FPS)
    assert limits.shape == (frames, 3, 2)
    assert inside(limits, poses).all()
    sides = limits[:, :, 1] - limits[:, :, 0]
    np.testing.assert_allclose(sides[:, 0], sides[:, 1])  # square on the floor
    assert (sides[:, 0] >= 2.5 - 1e-9).all() and (sides[:, 0] < 4.0).all()  # not one box over the whole walk
    np.testing.assert_array_equal(limits[:, 2, 0], 0.0)  # from the floor up
    centre = limits[:, :2].mean(-1)
    np.testing.assert_allclose(centre[:, 0], poses[0, :, 0, 0], atol=0.3)  # centred on the walker
    step = np.abs(np.diff(limits, axis=0)).max()
    assert step < 0.1  # 2 m/s is 0.08 m a frame: the axes glide, they do not jump


def test_axes_hold_two_people_walking_apart_and_grow_smoothly():
    frames = 100
    poses = np.stack([walker(frames, (-0.3, 5.0), (-1.5, 0.2)), walker(frames, (0.3, 5.5), (1.5, 0.0))])
    limits = axes_limits(poses, FPS)
    assert inside(limits, poses).all()
    side = limits[:, 0, 1] - limits[:, 0, 0]
    assert side[0] < 4.5 and side[-1] > 12.0  # from a small box to one that spans 12 m
    assert np.abs(np.diff(limits, axis=0)).max() < 0.2
    assert (limits[:, 2, 1] < 3.0).all()  # the height stays a person's, not the width's
    aspect = box_aspect(limits[-1])
    assert aspect[0] == aspect[1] == 1.0 and aspect[2] < 0.3


def test_a_person_appearing_far_away_moves_the_axes_over_a_second():
    frames = 100
    poses = np.stack([walker(frames, (0.0, 4.0), (0.0, 0.0)), walker(frames, (8.0, 6.0), (0.0, 0.0))])
    poses[1, :50] = np.nan  # absent for the first 2 s
    poses[0, 80:] = np.nan  # and the first one leaves
    limits = axes_limits(poses, FPS)
    assert np.isfinite(limits).all() and inside(limits, poses).all()
    assert np.abs(np.diff(limits, axis=0)).max() < 0.5  # an 8 m jump spread over ~25 frames
    assert limits[10, 0, 1] < 3.0 and limits[60, 0, 1] > 8.0


def test_standing_people_get_fixed_axes_and_nobody_gets_a_default_box():
    poses = np.stack([walker(40, (0.0, 4.0), (0.0, 0.0)), walker(40, (0.0, 4.8), (0.0, 0.0))])  # 1 m strides
    limits = axes_limits(poses, FPS)
    np.testing.assert_array_equal(limits, np.broadcast_to(limits[0], limits.shape))
    np.testing.assert_allclose(limits[0, :, 1] - limits[0, :, 0], 2.5)
    empty = axes_limits(np.full((2, 5, 17, 3), np.nan), FPS)
    np.testing.assert_allclose(empty[0], [[-1.25, 1.25], [-1.25, 1.25], [0.0, 2.5]])


def test_grid_lines_stay_at_fixed_world_coordinates():
    np.testing.assert_allclose(grid_lines(-0.3, 1.2, 0.5), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(grid_lines(-1.0, 1.0, 0.5), [-1.0, -0.5, 0.0, 0.5, 1.0])
    poses = walker(125, (3.0, 4.0), (2.0, 0.0))[None]
    limits = axes_limits(poses, FPS)
    previous = None
    for t in range(0, 125, 5):
        (x0, x1), (y0, y1) = limits[t, 0], limits[t, 1]
        xs = grid_lines(x0, x1, 0.5)
        np.testing.assert_allclose(xs / 0.5, np.round(xs / 0.5), atol=1e-9)  # on multiples of the step
        assert xs[0] - x0 < 0.5 and x1 - xs[-1] < 0.5  # covering the visible floor
        assert len(grid_lines(y0, y1, 0.5)) >= 5
        if previous is not None:  # lines still in view are at the same place: the floor moves past
            assert len(np.intersect1d(np.round(previous, 6), np.round(xs, 6))) >= 3
        previous = xs


# ----------------------------------------------------------------------------- written files


def _magenta_box(rgb: np.ndarray) -> tuple[int, int]:
    """Width and height of the region of (near) magenta pixels in an RGB image."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    mask = (r > 200) & (g < 60) & (b > 200)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1


def _has_colour(rgb: np.ndarray, colour: str, tolerance: int = 40) -> int:
    """How many pixels of an RGB image are within ``tolerance`` of ``colour``."""
    target = np.array(to_rgb(colour)) * 255
    return int((np.abs(rgb.astype(float) - target).max(-1) < tolerance).sum())


@pytest.mark.parametrize("size, suffix", [((1920, 1080), ".mp4"), ((1080, 1920), ".gif")])
def test_frames_have_the_video_aspect_and_even_size(tmp_path, size, suffix):
    frames = 3
    poses = np.stack([walker(frames, (-0.5, 5.0), (-1.0, 0.0)), walker(frames, (0.5, 5.5), (1.0, 0.0))])
    poses[1, 0] = np.nan  # absent in the first frame
    keypoints = camera_view(poses, size)
    video = [np.tile(np.array([255, 0, 255], np.uint8), (size[1], size[0], 1)) for _ in range(frames)]
    path = render_animation(tmp_path / f"r{suffix}", keypoints, poses, size, fps=FPS, video=video, labels=["7", "9"])
    if suffix == ".mp4":
        cv2 = pytest.importorskip("cv2")
        capture = cv2.VideoCapture(str(path))
        images = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            images.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    else:
        from PIL import Image

        with Image.open(path) as gif:
            images = []
            for t in range(gif.n_frames):
                gif.seek(t)
                images.append(np.asarray(gif.convert("RGB")))
    assert len(images) == frames
    height, width = images[0].shape[:2]
    layout = figure_pixels(size)
    assert (width, height) == (layout["width"], layout["height"]) and width % 2 == 0 == height % 2
    assert 1000 <= width <= 1400 and height <= 900
    box_w, box_h = _magenta_box(images[-1])  # the video under the 2D skeletons
    assert box_w / box_h == pytest.approx(size[0] / size[1], rel=0.03)
    assert box_h == pytest.approx(layout["panel"], abs=3)  # the 2D panel is as tall as the 3D one
    if size[1] > size[0]:
        assert box_h > 1.5 * box_w  # portrait stays tall, not squashed
    assert _has_colour(images[-1], LEFT_COLOUR) > 20 and _has_colour(images[-1], RIGHT_COLOUR) > 20


def test_contact_sheet_draws_both_sides_and_absent_people(tmp_path):
    from PIL import Image

    frames, size = 50, (640, 480)
    poses = np.stack([walker(frames, (0.0, 4.0), (1.5, 0.0)), walker(frames, (-1.0, 6.0), (0.0, 0.0))])
    poses[1, 20:] = np.nan  # leaves
    keypoints = camera_view(poses, size)
    keypoints[0, :5] = np.nan  # 2D missing while 3D is there
    path = contact_sheet(tmp_path / "sheet.png", keypoints, poses, size, sheet_frames=3, fps=FPS)
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    assert _has_colour(rgb, LEFT_COLOUR) > 20 and _has_colour(rgb, RIGHT_COLOUR) > 20
    assert _has_colour(rgb, person_colour(0)) > 20 and _has_colour(rgb, person_colour(1)) > 20


def test_bad_shapes_and_labels_are_refused(tmp_path):
    poses = walker(4, (0.0, 4.0), (1.0, 0.0))[None]
    keypoints = camera_view(poses, (320, 240))
    with pytest.raises(ValueError, match="keypoints_2d must be"):
        render_animation(tmp_path / "r.gif", keypoints[:, :3], poses, (320, 240), fps=FPS)
    with pytest.raises(ValueError, match="expected 1 labels"):
        render_animation(tmp_path / "r.gif", keypoints, poses, (320, 240), fps=FPS, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        render_animation(tmp_path / "r.avi", keypoints, poses, (320, 240), fps=FPS)
    assert not list(tmp_path.iterdir())
