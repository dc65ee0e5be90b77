"""Synthetic footage with known truth for the camera-motion tests and benchmark.

A mocap walk (or the synthetic walk of :func:`helpers.walking_world`) is seen by a virtual camera
over a textured background generated here, and the walker is drawn in as thick striped limbs along
its projected skeleton (texture that moves with the body, so a feature tracker finds corners on
it). The camera can

- stand still (``follow_walk(..., motion="static")``),
- turn about its centre to follow the walker: pan and tilt, optionally with a handheld roll and
  tilt wobble (``motion="follow"``); the background is a panorama at infinity (an equirectangular
  texture on a sphere), so the image motion is exactly the rotation's homography ``K R K^-1``,
- zoom (``zoom=(1.0, 1.3)``: the focal length grows over the clip, the orientation is kept),
- translate (``truck_walk``): the camera slides beside the walker in a scene with depth, a
  textured ground plane and a wall behind, so the background moves with parallax.

Every :class:`Footage` knows its truth: per-frame world-to-camera rotations, camera centres,
focal lengths, the walker's world joints and 2D keypoints. Frames are rendered on demand
(:meth:`Footage.frame`), so 1080p clips cost no memory. Conventions follow gastnet: camera x
right, y down, z forward; world z up; pixels with the principal point at ``(w / 2, h / 2)`` and
pixel centres at integer coordinates (OpenCV's).

Importing this module needs neither pytest nor the shared data (the benchmarks put ``tests/`` on
``sys.path`` and import it, as they import ``helpers``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from gastnet.geometry.camera import focal_from_fov, look_at, project_to_2d
from helpers import walking_world

# bones drawn as limbs (Human3.6M-17) and their widths in metres
LIMBS = ((0, 1, 0.16), (1, 2, 0.14), (2, 3, 0.11), (0, 4, 0.16), (4, 5, 0.14), (5, 6, 0.11), (0, 7, 0.30),
         (7, 8, 0.30), (8, 9, 0.10), (8, 11, 0.12), (11, 12, 0.10), (12, 13, 0.08), (8, 14, 0.12),
         (14, 15, 0.10), (15, 16, 0.08))
HEAD, HEAD_RADIUS = 10, 0.11
STRIPE_M = 0.06  # the spacing of the stripes across the limbs (metres)


# --- textures --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A seeded RGB texture (height, width, 3) uint8 with structure at several scales.

    Smooth colour noise at three scales, then rectangles, ellipses and line segments of random
    colours whose sizes run log-uniformly from 3/1024 to 1/32 of the texture height, then a light
    blur (0.7 texels) against aliasing. Positions and sizes are relative to the texture, so the
    same seed gives the same picture at any resolution.
    """
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.float32)
    for cells, amplitude in ((8, 90.0), (48, 60.0), (256, 35.0)):
        small = rng.random((cells, 2 * cells, 3)).astype(np.float32)
        image += amplitude * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    image = np.clip(image, 0, 255).astype(np.uint8)
    count = 25000
    kinds = rng.integers(0, 3, count).tolist()
    colours = rng.integers(0, 256, (count, 3)).tolist()
    xs, ys = (rng.random(count) * width).tolist(), (rng.random(count) * height).tolist()
    sizes = (min(height, width / 2) * np.exp(rng.uniform(math.log(3 / 1024), math.log(1 / 32), count))).tolist()
    a, b = rng.uniform(0.2, 1.0, count).tolist(), rng.uniform(0.2, 1.0, count).tolist()
    angles = rng.uniform(0, math.pi, count).tolist()
    for kind, colour, x, y, size, p, q, angle in zip(kinds, colours, xs, ys, sizes, a, b, angles):
        if kind == 0:
            cv2.rectangle(image, (int(x), int(y)), (int(x + size * p), int(y + size * q)), colour, -1)
        elif kind == 1:
            axes = (max(1, int(size * p / 2)), max(1, int(size * q / 2)))
            cv2.ellipse(image, (int(x), int(y)), axes, math.degrees(angle), 0, 360, colour, -1)
        else:
            end = (int(x + size * math.cos(angle)), int(y + size * math.sin(angle)))
            cv2.line(image, (int(x), int(y)), end, colour, max(1, int(size / 12)))
    return cv2.GaussianBlur(image, (0, 0), 0.7)


@functools.lru_cache(maxsize=8)
def _pixel_rays(size: tuple[int, int], focal: float) -> np.ndarray:
    """Camera-frame rays (h, w, 3) through every pixel centre (z = 1), read-only."""
    w, h = size
    u, v = np.meshgrid((np.arange(w, dtype=np.float32) - w / 2) / focal,
                       (np.arange(h, dtype=np.float32) - h / 2) / focal)
    rays = np.stack([u, v, np.ones_like(u)], -1)
    rays.flags.writeable = False
    return rays


class _Panorama:
    """A background at infinity: an equirectangular texture on the sphere of world directions."""

    def __init__(self, max_focal: float, seed: int):
        # about 1.3 pixels per texel or more at the image centre (magnified a little, so not aliased),
        # in two sizes only (2048 or 4096 texels around; larger would take seconds to draw)
        width = 2048 if 2 * math.pi * max_focal / 1.3 <= 2048 else 4096
        self.tex = texture(width // 2, width, seed)

    def render(self, size: tuple[int, int], focal: float, world_to_cam: np.ndarray, eye: np.ndarray) -> np.ndarray:
        rays = _pixel_rays(size, focal) @ world_to_cam.astype(np.float32)  # rows: R^T d, world directions
        th, tw = self.tex.shape[:2]
        lon = np.arctan2(rays[..., 0], rays[..., 1])  # 0 along world +y
        lat = np.arctan2(rays[..., 2], np.hypot(rays[..., 0], rays[..., 1]))
        map_x = (lon / (2 * np.pi) + 0.5) * tw - 0.5
        map_y = (0.5 - lat / np.pi) * th - 0.5
        return cv2.remap(self.tex, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_WRAP)


class _Planes:
    """A scene with depth: a textured ground (z = 0) and a wall facing the camera (y = ``wall_y``)."""

    def __init__(self, wall_y: float, seed: int, texels_per_m: float = 100.0):
        self.wall_y, self.density = wall_y, texels_per_m
        self.ground, self.wall = texture(1024, 2048, seed), texture(1024, 2048, seed + 1)

    def render(self, size: tuple[int, int], focal: float, world_to_cam: np.ndarray, eye: np.ndarray) -> np.ndarray:
        d = _pixel_rays(size, focal) @ world_to_cam.astype(np.float32)
        e = eye.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ground = -e[2] / np.minimum(d[..., 2], -1e-9)  # rays going up never reach the ground
            t_wall = (self.wall_y - e[1]) / np.maximum(d[..., 1], 1e-9)
        layers = []
        for tex, t, (a, b) in ((self.ground, t_ground, (0, 1)), (self.wall, t_wall, (0, 2))):
            u = (e[a] + t * d[..., a]) * self.density  # the texture repeats (BORDER_WRAP)
            v = -(e[b] + t * d[..., b]) * self.density
            layers.append(cv2.remap(tex, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP))
        return np.where((t_ground < t_wall)[..., None], layers[0], layers[1])


# --- people ----------------------------------------------------------------------------------------


def draw_person(image: np.ndarray, camera_joints: np.ndarray, focal: float, centre: tuple[float, float],
                seed: int = 0) -> None:
    """Draw a person, camera-frame joints (17, 3) metres, into ``image`` (h, w, 3) uint8 in place.

    Limbs are filled quadrilaterals as wide as :data:`LIMBS` says (metres, scaled by depth), with
    dark stripes across them every :data:`STRIPE_M` metres along the bone; the head is a disc with
    a stripe. The stripes move with the limbs, so they give a feature tracker corners that move
    with the body rather than with the background."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(60, 256, (len(LIMBS), 3))
    pix = project_to_2d(camera_joints, np.array([focal, focal]), np.asarray(centre, np.float64))
    depth = camera_joints[:, 2]
    shift = 4  # sub-pixel drawing: coordinates in 1/16 px

    def fixed(p: np.ndarray) -> np.ndarray:
        return np.round(p * (1 << shift)).astype(np.int32)

    order = np.argsort([-(depth[a] + depth[b]) for a, b, _ in LIMBS])  # far limbs first
    for i in order:
        a, b, width = LIMBS[i]
        pa, pb = pix[a], pix[b]
        axis = pb - pa
        length = float(np.linalg.norm(axis))
        if length < 1e-3 or min(depth[a], depth[b]) <= 0.1:
            continue
        normal = np.array([-axis[1], axis[0]]) / length
        half_a, half_b = focal * width / 2 / depth[a], focal * width / 2 / depth[b]
        quad = np.array([pa + normal * half_a, pb + normal * half_b, pb - normal * half_b, pa - normal * half_a])
        colour = tuple(int(c) for c in colours[i])
        dark = tuple(int(c) // 4 for c in colours[i])
        cv2.fillConvexPoly(image, fixed(quad), colour, cv2.LINE_AA, shift)
        bone_m = float(np.linalg.norm(camera_joints[b] - camera_joints[a]))
        for s in np.arange(STRIPE_M / 2, bone_m, STRIPE_M) / max(bone_m, 1e-6):
            p, half = pa + s * axis, (1 - s) * half_a + s * half_b
            thick = max(1, int(round(0.4 * STRIPE_M / bone_m * length)))
            cv2.line(image, tuple(fixed(p + normal * half)), tuple(fixed(p - normal * half)), dark, thick,
                     cv2.LINE_AA, shift)
    if depth[HEAD] > 0.1:
        radius = focal * HEAD_RADIUS / depth[HEAD]
        cv2.circle(image, tuple(fixed(pix[HEAD])), int(radius * (1 << shift)), (230, 190, 160), -1, cv2.LINE_AA, shift)
        cv2.line(image, tuple(fixed(pix[HEAD] - [radius, 0])), tuple(fixed(pix[HEAD] + [radius, 0])), (40, 30, 20),
                 max(1, int(radius / 4)), cv2.LINE_AA, shift)


def person_box(keypoints: np.ndarray, camera_joints: np.ndarray, focal: float) -> tuple[float, float, float, float]:
    """A detector-like box (x0, y0, x1, y1) px around a drawn person: the keypoints (17, 2) px widened by the limbs."""
    margin = focal * (0.5 * max(w for _, _, w in LIMBS) + HEAD_RADIUS) / camera_joints[:, 2].min()
    x0, y0 = keypoints.min(0) - margin
    x1, y1 = keypoints.max(0) + margin
    return float(x0), float(y0), float(x1), float(y1)


# --- footage ---------------------------------------------------------------------------------------


@dataclass
class Footage:
    """A rendered clip with its truth.

    ``world_to_camera`` (T, 3, 3) and ``eyes`` (T, 3) metres: ``X_cam_t = world_to_camera[t] @ (X_world -
    eyes[t])``; ``focal`` (T,) pixels; ``world`` (T, 17, 3) the walker (metres, z up);
    ``keypoints`` (T, 17, 2) its pixels; ``kind``: "static", "rotating", "zooming" or "translating".
    """

    kind: str
    size: tuple[int, int]
    fps: float
    focal: np.ndarray
    world_to_camera: np.ndarray
    eyes: np.ndarray
    world: np.ndarray
    people: bool = True
    seed: int = 0
    _scene: _Panorama | _Planes | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.world)

    @property
    def camera_joints(self) -> np.ndarray:
        """The walker in each frame's camera (T, 17, 3) metres."""
        return np.einsum("tij,tkj->tki", self.world_to_camera, self.world - self.eyes[:, None])

    @property
    def keypoints(self) -> np.ndarray:
        """The walker's 2D keypoints (T, 17, 2) pixels."""
        return project_to_2d(self.camera_joints, self.focal[:, None, None], np.array(self.size) / 2)

    @property
    def rotations(self) -> np.ndarray:
        """True rotations (T, 3, 3) from the frame-0 camera to frame t's: ``X_cam_t = R_t @ X_cam_0`` (no translation)."""
        return self.world_to_camera @ self.world_to_camera[0].T

    def resized(self, size: tuple[int, int]) -> Footage:
        """The same clip rendered at another ``size`` (w, h) pixels with the same lens (field of view)."""
        return replace(self, size=size, focal=self.focal * size[0] / self.size[0])

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` rendered (h, w, 3) uint8 RGB."""
        assert self._scene is not None
        image = self._scene.render(self.size, float(self.focal[t]), self.world_to_camera[t], self.eyes[t])
        if self.people:
            draw_person(image, self.camera_joints[t], float(self.focal[t]), (self.size[0] / 2, self.size[1] / 2),
                        self.seed)
        return image

    def frames(self) -> Iterator[np.ndarray]:
        for t in range(len(self)):
            yield self.frame(t)

    def boxes(self, t: int) -> list[tuple[float, float, float, float]]:
        """The person boxes a detector would give in frame ``t`` (a list with one box; empty without people)."""
        if not self.people:
            return []
        return [person_box(self.keypoints[t], self.camera_joints[t], float(self.focal[t]))]


def straight_walk(seconds: float, fps: float = 25.0, speed: float = 1.3) -> np.ndarray:
    """The synthetic walk cycle of :func:`helpers.walking_world` carried along world -y at ``speed`` m/s: (T, 17, 3)."""
    frames = int(round(seconds * fps))
    world = walking_world(int(round(frames * 50 / fps)))[:: max(1, int(round(50 / fps)))][:frames].astype(np.float64)
    world[..., 1] -= speed * np.arange(frames)[:, None] / fps
    world[..., 1] += speed * frames / fps / 2  # centred on the origin
    return world


def mocap_walk(data_dir: Path | None, seconds: float | None = None, start_s: float = 0.0
               ) -> tuple[str, np.ndarray, float]:
    """(name, world joints (T, 17, 3) metres z up, fps): Human3.6M S9 "Walking 1" at 25 fps when
    ``data_dir`` holds it, else :func:`straight_walk`. ``seconds`` trims it (None: all of it)."""
    path = None if data_dir is None else Path(data_dir) / "h36m" / "data_3d_h36m.npz"
    if path is not None and path.is_file():
        from gastnet.data.sources import load_dataset_mocap

        world = load_dataset_mocap("h36m", Path(data_dir)).positions["S9"]["Walking 1"][::2].astype(np.float64)
        first = int(round(start_s * 25))
        last = len(world) if seconds is None else first + int(round(seconds * 25))
        return "H36M S9 Walking 1", world[first:last], 25.0
    return "synthetic walk", straight_walk(seconds or 4.0), 25.0


def _smooth(x: np.ndarray, fps: float, lag_s: float) -> np.ndarray:
    """A camera operator's lag: exponential smoothing over ``lag_s`` seconds, forwards in time (T, ...)."""
    alpha = 1.0 - math.exp(-1.0 / (lag_s * fps)) if lag_s > 0 else 1.0
    out = np.empty_like(x)
    out[0] = x[0]
    for t in range(1, len(x)):
        out[t] = out[t - 1] + alpha * (x[t] - out[t - 1])
    return out


def follow_walk(world: np.ndarray, fps: float, size: tuple[int, int] = (640, 360), fov_deg: float = 65.0,
                motion: str = "follow", distance: float = 4.0, height: float = 1.5, aim_height: float = 0.9,
                wobble_deg: float = 0.0, zoom: tuple[float, float] = (1.0, 1.0), people: bool = True,
                seed: int = 0, direction: str = "across", lag_s: float = 0.25) -> Footage:
    """A camera ``distance`` metres from the middle of the walk (beside its main axis for
    "across", on it for "toward/away"), ``height`` m up, over a panorama at infinity.

    ``motion``: "follow" turns the camera to aim at the walker's pelvis (with an operator's lag of
    ``lag_s`` s, at ``aim_height`` m above the floor): pan and tilt; ``wobble_deg`` adds a handheld
    roll and tilt of that amplitude (slow sines). "static" aims at the middle of the walk for the
    whole clip. ``zoom``: the focal length goes linearly from ``zoom[0]`` to ``zoom[1]`` times the
    focal length of ``fov_deg`` (across the long side) over the clip (the kind is then "zooming").
    """
    world = np.asarray(world, np.float64)
    root = world[:, 0, :2]
    centre = root.mean(0)
    axis = np.linalg.svd(root - centre, full_matrices=False)[2][0]
    view = axis if direction == "toward/away" else np.array([-axis[1], axis[0]])
    eye = np.append(centre - distance * view, height)
    frames = len(world)
    if motion == "follow":
        target = np.concatenate([_smooth(root, fps, lag_s), np.full((frames, 1), aim_height)], axis=1)
    elif motion == "static":
        target = np.tile(np.append(centre, aim_height), (frames, 1))
    else:
        raise ValueError(f"motion must be 'follow' or 'static', got {motion!r}")
    time = np.arange(frames) / fps
    roll = np.radians(wobble_deg) * np.sin(2 * np.pi * 0.4 * time + 0.3)
    bob = np.radians(wobble_deg) * np.sin(2 * np.pi * 0.27 * time + 1.1)  # extra tilt, as the aim bobs
    target = target + np.tan(bob)[:, None] * np.linalg.norm(target - eye, axis=1, keepdims=True) * [0, 0, 1]
    rot = look_at(torch.tensor(np.tile(eye, (frames, 1))), torch.tensor(target), torch.tensor(roll)).numpy()
    focal = focal_from_fov(fov_deg, size) * np.linspace(zoom[0], zoom[1], frames)
    moving = motion == "follow" and float(np.ptp(target[:, :2], axis=0).max()) > 0
    kind = "zooming" if zoom[0] != zoom[1] else ("rotating" if moving or wobble_deg > 0 else "static")
    return Footage(kind, size, fps, focal, rot, np.tile(eye, (frames, 1)), world, people, seed,
                   _Panorama(float(focal.max()), seed))


def fixed_camera(world: np.ndarray, fps: float, world_to_camera: np.ndarray, eye: np.ndarray,
                 size: tuple[int, int] = (640, 360), fov_deg: float = 65.0, people: bool = True,
                 seed: int = 0) -> Footage:
    """A camera that never moves (``X_cam = world_to_camera @ (X_world - eye)``, e.g. from
    :func:`helpers.place_camera`) over the panorama: a "static" clip."""
    world = np.asarray(world, np.float64)
    frames = len(world)
    focal = np.full(frames, focal_from_fov(fov_deg, size))
    return Footage("static", size, fps, focal, np.tile(world_to_camera, (frames, 1, 1)), np.tile(eye, (frames, 1)),
                   world, people, seed, _Panorama(float(focal[0]), seed))


def truck_walk(world: np.ndarray, fps: float, size: tuple[int, int] = (640, 360), fov_deg: float = 65.0,
               distance: float = 3.5, height: float = 1.5, pitch_deg: float = 10.0, wall_behind: float = 4.0,
               people: bool = True, seed: int = 0) -> Footage:
    """A translating camera: it slides beside the walker (``distance`` m from the walk's main line,
    ``height`` m up, pitched ``pitch_deg`` down, never turning), keeping the walker's pelvis
    centred left-right. The scene has depth: a textured ground and a textured wall
    ``wall_behind`` m beyond the walk, so the background moves with parallax."""
    world = np.asarray(world, np.float64)
    root = world[:, 0, :2]
    centre = root.mean(0)
    axis = np.linalg.svd(root - centre, full_matrices=False)[2][0]
    # a frame where the walk runs along x and the camera looks along +y
    turn = np.array([[axis[0], axis[1], 0.0], [-axis[1], axis[0], 0.0], [0.0, 0.0, 1.0]])
    local = (world - np.append(centre, 0.0)) @ turn.T
    along = local[:, 0, 0]
    frames = len(world)
    eyes = np.stack([along, np.full(frames, -distance), np.full(frames, height)], axis=1)
    forward = np.array([0.0, math.cos(math.radians(pitch_deg)), -math.sin(math.radians(pitch_deg))])
    rot = look_at(torch.tensor(eyes), torch.tensor(eyes + forward)).numpy()
    focal = np.full(frames, focal_from_fov(fov_deg, size))
    return Footage("translating", size, fps, focal, rot, eyes, local, people, seed, _Planes(wall_behind, seed))



def dolly_walk(world: np.ndarray, fps: float, size: tuple[int, int] = (640, 360), fov_deg: float = 65.0,
               near: float = 2.9, drift_m: float = 0.6, height: float = 1.5, pitch_deg: float = 5.0,
               wall_behind: float = 6.0, people: bool = True, seed: int = 0) -> Footage:
    """A camera that drifts forward while the walker comes toward it: the camera looks along the walk
    (``height`` m up, pitched ``pitch_deg`` down, never turning) and moves ``drift_m`` metres toward
    the walker over the clip, ending ``near`` metres from the walker's last root position. The scene
    is the ground and a wall ``wall_behind`` m beyond the walk's start, facing the camera, so the
    background grows a little (the wall by ``1 + drift / distance``) while the walker grows a lot."""
    world = np.asarray(world, np.float64)
    root = world[:, 0, :2]
    centre = root.mean(0)
    axis = np.linalg.svd(root - centre, full_matrices=False)[2][0]
    if (root[-1] - root[0]) @ axis > 0:
        axis = -axis  # the walk goes along -axis
    # a frame where the walk runs along -y (toward the camera, which looks along +y)
    turn = np.array([[-axis[1], axis[0], 0.0], [axis[0], axis[1], 0.0], [0.0, 0.0, 1.0]])
    local = (world - np.append(centre, 0.0)) @ turn.T
    frames = len(world)
    end_y = local[-1, 0, 1] - near
    y = end_y - drift_m * (1.0 - np.linspace(0.0, 1.0, frames))
    eyes = np.stack([np.full(frames, local[:, 0, 0].mean()), y, np.full(frames, height)], axis=1)
    forward = np.array([0.0, math.cos(math.radians(pitch_deg)), -math.sin(math.radians(pitch_deg))])
    rot = look_at(torch.tensor(eyes), torch.tensor(eyes + forward)).numpy()
    focal = np.full(frames, focal_from_fov(fov_deg, size))
    return Footage("translating", size, fps, focal, rot, eyes, local, people, seed,
                   _Planes(float(local[0, 0, 1]) + wall_behind, seed))


# --- a scene with straight lines (a room or street corner) ------------------------------------------


@functools.lru_cache(maxsize=4)
def lined_texture(kind: str, seed: int = 0) -> np.ndarray:
    """A texture (1024, 2048, 3) uint8 at 100 texels per metre with straight lines along its axes.

    ``kind`` "tiles": the seeded :func:`texture` crossed by dark joints every 0.64 m (floor tiles,
    paving); "facade": the texture with window and door frames (light rectangles with dark
    outlines, 0.6-1.6 m wide) in rows, as on a wall or a building."""
    image = texture(1024, 2048, seed).copy()
    if kind == "tiles":
        for i in range(0, 2048, 64):
            cv2.line(image, (i, 0), (i, 1023), (30, 30, 30), 3)
        for j in range(0, 1024, 64):
            cv2.line(image, (0, j), (2047, j), (30, 30, 30), 3)
        return image
    if kind != "facade":
        raise ValueError(f"kind must be 'tiles' or 'facade', got {kind!r}")
    rng = np.random.default_rng(seed + 100)
    for row, (top, tall) in enumerate(((40, 160), (300, 170), (560, 150), (800, 200))):
        x = int(rng.integers(0, 60))
        while x < 2000:
            wide = int(rng.integers(60, 160))
            if x + wide >= 2040:
                break
            cv2.rectangle(image, (x, top), (x + wide, top + tall), (200, 205, 210), -1)
            cv2.rectangle(image, (x, top), (x + wide, top + tall), (20, 20, 25), 5)
            cv2.line(image, (x + wide // 2, top), (x + wide // 2, top + tall), (20, 20, 25), 3)
            x += wide + int(rng.integers(40, 140)) + 4 * row
    return image


class _Room:
    """Axis-aligned textured planes: the ground (z = 0, tiles), a back wall (y = ``back_y``) and a side
    wall (x = ``side_x``), both facades; each ray takes the nearest plane in front of the camera."""

    def __init__(self, back_y: float, side_x: float, seed: int, texels_per_m: float = 100.0):
        self.density = texels_per_m
        # (axis of the plane's normal, its coordinate, texture, texture axes u and v)
        self.planes = ((2, 0.0, lined_texture("tiles", seed), (0, 1)),
                       (1, back_y, lined_texture("facade", seed + 1), (0, 2)),
                       (0, side_x, lined_texture("facade", seed + 2), (1, 2)))

    def render(self, size: tuple[int, int], focal: float, world_to_cam: np.ndarray, eye: np.ndarray) -> np.ndarray:
        d = _pixel_rays(size, focal) @ world_to_cam.astype(np.float32)
        e = eye.astype(np.float32)
        best = np.full(d.shape[:2], np.inf, np.float32)
        image = np.zeros(d.shape[:2] + (3,), np.uint8)
        for axis, value, tex, (a, b) in self.planes:
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (value - e[axis]) / d[..., axis]
            t = np.where(np.isfinite(t) & (t > 1e-3), t, np.inf).astype(np.float32)
            with np.errstate(invalid="ignore"):  # inf * 0 where a ray runs along the plane: never drawn
                u = (e[a] + t * d[..., a]) * self.density
                v = -(e[b] + t * d[..., b]) * self.density
            u, v = np.nan_to_num(u, posinf=0.0, neginf=0.0), np.nan_to_num(v, posinf=0.0, neginf=0.0)
            layer = cv2.remap(tex, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
            nearer = t < best
            image[nearer] = layer[nearer]
            best = np.minimum(best, t)
        return image


def room_walk(world: np.ndarray, fps: float, size: tuple[int, int] = (640, 360), fov_deg: float = 65.0,
              yaw_deg: float = 30.0, pitch_deg: float = 8.0, distance: float | None = 5.0, height: float = 1.5,
              people: bool = True, seed: int = 0) -> Footage:
    """A fixed camera in a scene full of straight lines: a tiled ground, a back wall and a side wall
    with windows and doors (:class:`_Room`). The walk is centred on the origin; the camera stands
    ``distance`` m from it, ``height`` m up, looking at the walk's middle ``yaw_deg`` degrees off the
    room's +y axis (0: square to the back wall, where the wall's horizontal lines meet at infinity)
    and pitched ``pitch_deg`` degrees down (``distance`` None: the nearest, in steps of 0.25 m, from
    which every joint is in the image). The walls stand 4 m beyond the walk."""
    world = np.asarray(world, np.float64)
    world = world - np.append(world[:, 0, :2].mean(0), 0.0)
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    view = np.array([math.sin(yaw), math.cos(yaw)])
    forward = np.array([view[0] * math.cos(pitch), view[1] * math.cos(pitch), -math.sin(pitch)])
    frames = len(world)
    focal = np.full(frames, focal_from_fov(fov_deg, size))
    for step in ([distance] if distance is not None else np.arange(2.0, 40.0, 0.25)):
        eye = np.append(-step * view, height)
        rot = look_at(torch.tensor(eye[None]), torch.tensor((eye + forward)[None])).numpy()[0]
        cam = (world - eye) @ rot.T
        pix = project_to_2d(cam, focal[0], np.array(size) / 2)
        if (cam[..., 2] > 0.5).all() and (pix >= 0.03 * np.array(size)).all() and (pix <= 0.97 * np.array(size)).all():
            break
    reach = float(np.abs(world[:, 0, :2]).max()) + 4.0
    side = math.copysign(reach, view[0]) if abs(view[0]) > 1e-6 else reach
    return Footage("static", size, fps, focal, np.tile(rot, (frames, 1, 1)), np.tile(eye, (frames, 1)), world,
                   people, seed, _Room(reach, side, seed))


def imperfect_lens(image: np.ndarray, focal: float, offset: tuple[float, float] = (0.0, 0.0),
                   k1: float = 0.0) -> np.ndarray:
    """A pinhole frame (h, w, 3) (principal point at the centre, focal length ``focal`` pixels) as a
    real lens would show it: the principal point ``offset`` (dx, dy) pixels from the centre and radial
    distortion ``x_d = x (1 + k1 |x|^2)`` (normalised coordinates; k1 < 0: barrel, as wide phone
    lenses are before their software corrects them)."""
    h, w = image.shape[:2]
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    xd, yd = (u - w / 2 - offset[0]) / focal, (v - h / 2 - offset[1]) / focal
    x, y = xd.copy(), yd.copy()
    for _ in range(5):  # undistort by fixed-point iteration
        scale = 1 + k1 * (x * x + y * y)
        x, y = xd / scale, yd / scale
    map_x, map_y = (x * focal + w / 2).astype(np.float32), (y * focal + h / 2).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def moving_walk(world: np.ndarray, fps: float, mode: str, size: tuple[int, int] = (640, 360), fov_deg: float = 65.0,
                distance: float = 4.0, yaw_deg: float = 25.0, pitch_deg: float = 8.0, height: float = 1.5,
                drift: float = 0.3, lag_s: float = 0.5, people: bool = True, seed: int = 0) -> Footage:
    """A camera that moves through a room (:class:`_Room`) without turning, as someone filming while walking:

    - "beside": it walks beside the walker, ``distance`` m to the side of the walk's main line, its
      position following the walker's pelvis (with an operator's lag of ``lag_s`` s);
    - "behind": it walks behind the walker, ``distance`` m back along the walk, following likewise;
    - "toward": it drifts ``drift`` m/s toward a walker who comes toward it, starting ``distance`` m
      beyond the walk's near end.

    It looks along one direction for the whole clip (square to the walk for "beside", along it
    otherwise), pitched ``pitch_deg`` down; the room's walls are turned ``yaw_deg`` from that
    direction (so that their edges meet at vanishing points inside the view)."""
    world = np.asarray(world, np.float64)
    root = world[:, 0, :2]
    centre = root.mean(0)
    axis = np.linalg.svd(root - centre, full_matrices=False)[2][0]
    if (root[-1] - root[0]) @ axis < 0:
        axis = -axis  # along the walk
    if mode == "beside":
        look = np.array([-axis[1], axis[0]])
    elif mode == "behind":
        look = axis
    elif mode == "toward":
        look = -axis
    else:
        raise ValueError(f"mode must be 'beside', 'behind' or 'toward', got {mode!r}")
    # the room's frame: the look direction turned yaw_deg from the room's +y axis
    yaw = math.radians(yaw_deg)
    want = np.array([math.sin(yaw), math.cos(yaw)])
    angle = math.atan2(want[1], want[0]) - math.atan2(look[1], look[0])
    turn = np.array([[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0], [0, 0, 1.0]])
    local = (world - np.append(centre, 0.0)) @ turn.T
    frames = len(world)
    path = local[:, 0, :2]
    if mode == "toward":
        start = path[np.argmin(path @ want)] - distance * want  # beyond the near end, looking at the walker
        eyes2 = start[None] + drift * np.arange(frames)[:, None] / fps * want[None]
    else:
        eyes2 = _smooth(path, fps, lag_s) - distance * want[None]
    eyes = np.concatenate([eyes2, np.full((frames, 1), height)], axis=1)
    pitch = math.radians(pitch_deg)
    forward = np.array([want[0] * math.cos(pitch), want[1] * math.cos(pitch), -math.sin(pitch)])
    rot = look_at(torch.tensor(eyes), torch.tensor(eyes + forward)).numpy()
    focal = np.full(frames, focal_from_fov(fov_deg, size))
    points = np.concatenate([path, eyes2])  # the walls 4 m beyond everything, on the side the camera looks to
    side = float(np.abs(points[:, 0]).max()) + 4.0
    return Footage("translating", size, fps, focal, rot, eyes, local, people, seed,
                   _Room(float(points[:, 1].max()) + 4.0, side if want[0] >= 0 else -side, seed))
