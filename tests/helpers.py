"""Helpers shared by the tests (and by the benchmarks that measure the same things).

Test files import from here (``from helpers import shared_file``), never from each other, from
``conftest`` or from ``benchmarks/``; pytest puts ``tests/`` on the path. The benchmarks put
``tests/`` on their path to use :func:`lean_grid`, :func:`place_camera` and ``reference_gastnet``
(see CONTRIBUTING.md).
Importing this module needs neither pytest nor the shared data.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from gastnet.data.cmu import load_cmu_bvh
from gastnet.data.sources import load_dataset_mocap
from gastnet.examples import synthetic_walk_3d
from gastnet.geometry.camera import focal_from_fov, look_at, normalize_screen_coordinates, project_to_2d
from gastnet.model import GlobalAttention, SemanticGraphConv
from gastnet.training import load_config
from gastnet.training.config import Config

# --- the shared research data (never committed) ---------------------------------------------------

DATA_ENV = "GASTNET_DATA"


def _shared_data() -> Path:
    for candidate in (os.environ.get(DATA_ENV), Path(__file__).resolve().parents[2] / "shared" / "data",
                      Path.cwd().parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path("../shared/data")


SHARED_DATA = _shared_data()
# the start of the skip reason of every test that lacks a shared file (conftest's summary counts them)
DATA_SKIP_PREFIX = "shared data"


def shared_file(*parts: str) -> Path:
    """A file of the shared research data, or skip the test with the reason.

    Tests that call this are marked ``@pytest.mark.data``.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        import pytest

        pytest.skip(f"{DATA_SKIP_PREFIX} {path} is absent (tests that use the real datasets need "
                    f"${DATA_ENV} or ../shared/data)")
    return path


# --- synthetic data ------------------------------------------------------------------------------


def walking_world(num_frames: int, phase: float = 0.0) -> np.ndarray:
    """A 17-joint walk in Human3.6M world coordinates: metres, z up, in the capture volume centre."""
    local = synthetic_walk_3d(num_frames + int(phase))[int(phase):]  # y up, facing -z
    world = np.stack([local[..., 0], local[..., 2], local[..., 1] + 0.95], axis=-1)
    return world.astype(np.float32)


def coco_person(offset: float, frame: int = 0) -> np.ndarray:
    """COCO-17 keypoints (17, 3) of a standing figure at x = offset, moving 2 px per frame."""
    k = np.arange(17)
    xy = np.stack([offset + 3.0 * (k % 3) + 2.0 * frame, 50.0 + 10.0 * k], axis=1)
    return np.concatenate([xy, np.full((17, 1), 0.9)], axis=1)


# --- models and configs --------------------------------------------------------------------------


def randomize(model: torch.nn.Module) -> torch.nn.Module:
    """Give the parameters that start constant (BatchNorm, graph logits, C_k = 0) random values."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
            elif isinstance(m, SemanticGraphConv):
                m.logits.normal_()
            elif isinstance(m, GlobalAttention) and m.learned:
                m.C.normal_(0, 0.3)
    return model


TINY = [
    'model.name="gastnet_rf9"', "model.channels=8", 'data.train_subjects=["S1"]', 'data.test_subjects=["S9"]',
    "train.batch_size=32", "train.epochs=2", "train.eval_sequences=2", "train.threads=1",
]


def tiny_config(*extra: str) -> Config:
    """A training config small enough for a test (RF 9, 8 channels, 2 epochs), with ``extra`` overrides."""
    return load_config(None, [*TINY, *extra])


# --- torso lean across a wide frame (benchmarks/bench_lean.py prints it per model) ---------------

GRID_U = (-0.8, -0.4, 0.0, 0.4, 0.8)
GRID_V = (-0.5, 0.0, 0.5)


def standing_person(frames: int = 60) -> np.ndarray:
    """A person standing upright, arms hanging (T, 17, 3) metres, y up, facing the camera (-z)."""
    pose = synthetic_walk_3d(frames)[:1].repeat(frames, 0)  # the walk's first frame: legs together
    sway = 0.01 * np.sin(np.arange(frames) / 7.0)[:, None, None] * np.array([1.0, 0.0, 0.0])
    return pose + sway


def lean_deg(poses: np.ndarray) -> float:
    """Mean angle (degrees) between the torso (pelvis to thorax) of camera-frame poses and the camera's up (-y)."""
    torso = poses[:, 8] - poses[:, 0]
    cos = -torso[:, 1] / np.linalg.norm(torso, axis=-1)
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())


def lean_grid(model, size: tuple[int, int] = (1920, 1080), fov_deg: float = 100.0,
              depth: float = 3.5) -> dict[tuple[float, float], float]:
    """Torso lean (degrees) for the hips at each (u, v) of the grid."""
    from gastnet.runtime.predict import lift_at_model_rate

    w, h = size
    focal = (w / 2) / np.tan(np.radians(fov_deg) / 2)
    person = standing_person() * np.array([1.0, -1.0, 1.0])  # camera frame: y down
    leans = {}
    for u in GRID_U:
        for v in GRID_V:
            hips = np.array([u * (w / 2) * depth / focal, v * (h / 2) * depth / focal, depth])
            pixels = project_to_2d(person + hips, np.array([focal, focal]), np.array([w / 2, h / 2]))
            if not ((pixels > 0) & (pixels < [w, h])).all():
                raise ValueError(f"the person leaves the frame with the hips at {(u, v)}")
            inputs = normalize_screen_coordinates(pixels, w, h).astype(np.float32)
            leans[(u, v)] = lean_deg(lift_at_model_rate(model, inputs, 30.0, model.skeleton))
    return leans


# --- a camera that sees a whole walk (benchmarks/bench_trajectory.py and tests/test_placement.py) -


def place_camera(world: np.ndarray, direction: str, fov: float, height: float, pitch: float,
                 size: tuple[int, int] = (1920, 1080)) -> tuple[np.ndarray, np.ndarray]:
    """World -> camera rotation and eye of the nearest camera along the view that sees every joint."""
    root = world[:, 0, :2]
    centre = root.mean(0)
    axis = np.linalg.svd(root - centre, full_matrices=False)[2][0]
    view = axis if direction == "toward/away" else np.array([-axis[1], axis[0]])
    focal = focal_from_fov(fov, size)
    for dist in np.arange(2.0, 40.0, 0.25):
        eye = np.append(centre - dist * view, height)
        target = eye + np.append(view * math.cos(math.radians(pitch)), -math.sin(math.radians(pitch)))
        rot = look_at(torch.tensor(eye), torch.tensor(target)).numpy()
        cam = (world - eye) @ rot.T
        if cam[..., 2].min() < 1.0:
            continue
        pix = project_to_2d(cam, focal, np.array(size) / 2)
        if (pix > 20).all() and (pix[..., 0] < size[0] - 20).all() and (pix[..., 1] < size[1] - 20).all():
            return rot, eye
    raise RuntimeError("no camera distance sees the whole walk")


def floor_frame(world: np.ndarray, rot: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """True world poses in the placement's convention: x = camera right on the floor, z up, origin below the camera."""
    x = rot[0] * np.array([1.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    axes = np.stack([x, np.cross([0.0, 0.0, 1.0], x), [0.0, 0.0, 1.0]])
    return (world - eye * np.array([1.0, 1.0, 0.0])) @ axes.T


def real_walks(data_dir: Path) -> list[tuple[str, np.ndarray, float]]:
    """(name, world poses (T, 17, 3) metres z up, fps) of the real walks of the trajectory and camera-motion
    benchmarks: Human3.6M S9 and S11 "Walking 1/2" at 25 fps, CMU 131_01 and 131_02 at 30 fps."""
    h36m = load_dataset_mocap("h36m", data_dir)
    walks = [(f"{s} {a}", h36m.positions[s][a][::2].astype(np.float64), 25.0)
             for s in ("S9", "S11") for a in ("Walking 1", "Walking 2")]
    for name in ("131_01", "131_02"):
        world, fps = load_cmu_bvh(data_dir / "cmu" / f"{name}.bvh", 30.0)
        walks.append((f"CMU {name}", world.astype(np.float64), fps))
    return walks


# --- two people who shake hands (tests/test_together.py and benchmarks/bench_together.py) ---------


def handshake(data_dir: Path, subject: str, action: str, size_ratio: float, frames: int = 30
              ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Two people whose hands meet, from Human3.6M motion (25 fps): ``a`` (T, 17, 3) world metres z up,
    the ``frames`` of ``subject``'s ``action`` around the steadiest moment its right hand reaches
    forward at handshake height, and ``b``, its mirror image facing it through the vertical plane at
    that hand (left and right relabelled, so b's left hand meets a's right hand there), scaled by
    ``size_ratio`` about the floor below the hands (a smaller or taller person; their hands then
    meet ``(1 - size_ratio)`` of the hand's height apart). Returns (a, b, (a's hand, b's hand))."""
    from gastnet.skeleton import H36M_17

    seq = load_dataset_mocap("h36m", data_dir).positions[subject][action][::2].astype(np.float64)
    right_wrist, left_wrist = H36M_17.index("right_wrist"), H36M_17.index("left_wrist")
    hips = seq[:, H36M_17.index("left_hip")] - seq[:, H36M_17.index("right_hip")]
    forward = np.stack([hips[:, 1], -hips[:, 0]], 1)
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    hand = seq[:, right_wrist]
    reach = ((hand - seq[:, 0])[:, :2] * forward).sum(1)
    raised = hand[:, 2] - seq[:, [3, 6], 2].min(1)
    speed = np.r_[0.0, np.linalg.norm(np.diff(hand, axis=0), axis=1)]
    score = reach - 5 * speed - 10 * ((raised < 0.8) | (raised > 1.5))
    middle = int(np.argmax(score[frames:-frames])) + frames
    a = seq[middle - frames // 2: middle - frames // 2 + frames]
    normal = np.append(forward[middle], 0.0)
    b = (a - 2 * ((a - seq[middle, right_wrist]) @ normal)[..., None] * normal)[:, H36M_17.flip_permutation()]
    below = np.array([*seq[middle, right_wrist, :2], 0.0])
    return a, below + size_ratio * (b - below), (right_wrist, left_wrist)


def two_person_view(a: np.ndarray, b: np.ndarray, azimuth_deg: float, fov_deg: float = 65.0,
                    size: tuple[int, int] = (1920, 1080), height: float = 1.6) -> tuple[np.ndarray, float]:
    """Pixels (2, T, 17, 2) of people ``a`` and ``b`` (T, 17, 3) world metres seen by a camera ``height``
    m up, ``azimuth_deg`` from the line square to the one joining them, as near as keeps every joint
    40 px inside the image; and its focal length in pixels."""
    both = np.concatenate([a, b], 1)
    centre = both[..., :2].reshape(-1, 2).mean(0)
    joining = b[:, 0, :2].mean(0) - a[:, 0, :2].mean(0)
    joining /= np.linalg.norm(joining)
    angle = math.radians(azimuth_deg)
    view = math.cos(angle) * np.array([-joining[1], joining[0]]) + math.sin(angle) * joining
    focal = focal_from_fov(fov_deg, size)
    for dist in np.arange(2.0, 30.0, 0.25):
        eye = np.append(centre - dist * view, height)
        rot = look_at(torch.tensor(eye), torch.tensor(np.append(centre, 1.0))).numpy()
        pixels = project_to_2d((both - eye) @ rot.T, focal, np.array(size) / 2)
        if (pixels > 40).all() and (pixels[..., 0] < size[0] - 40).all() and (pixels[..., 1] < size[1] - 40).all():
            return np.stack([pixels[:, :17], pixels[:, 17:]]), focal
    raise RuntimeError("no camera distance sees both people")


def detector_joints(world: np.ndarray, seed: int, index: int = 0, dtype: type = np.float32) -> np.ndarray:
    """Poses (T, 17, 3) metres (any frame) with the joints a detector defines otherwise moved as training moves
    them (:func:`gastnet.data.augment.displace_joint_definitions` with the default ranges: one offset in the
    body's frame, std 3% of the standing height, and in half the draws the pelvis, spine and thorax re-made as
    midpoints), drawn from ``seed`` and ``index`` and computed in ``dtype``; returned as float64."""
    from gastnet.data.augment import JointDefinitionRanges, displace_joint_definitions
    from gastnet.data.virtual_cameras import seeded_generator
    from gastnet.skeleton import standing_height

    poses = torch.from_numpy(np.ascontiguousarray(world, dtype=dtype))
    height = standing_height(poses[len(poses) // 2])[None]
    moved = displace_joint_definitions(poses[None], height, JointDefinitionRanges(), seeded_generator(seed, index, 2))
    return moved[0].double().numpy()


def detector_pixels(pixels: np.ndarray, seed: int, size: tuple[int, int] = (1920, 1080)) -> np.ndarray:
    """Pixels (T, 17, 2) or (B, T, 17, 2) of an image ``size`` (w, h) with training's detector errors added (noise, blur,
    swaps, outliers: :func:`gastnet.data.augment.detector_errors`, in normalised screen units)."""
    from gastnet.data.augment import DetectorErrorRanges, detector_errors
    from gastnet.data.virtual_cameras import seeded_generator

    w, h = size
    batch = pixels.reshape(-1, *pixels.shape[-3:])  # (B, T, 17, 2)
    normalised = torch.from_numpy(np.stack([batch[..., 0] * 2 / w - 1, (batch[..., 1] - h / 2) * 2 / w], -1))
    noisy = detector_errors(normalised.float(), DetectorErrorRanges(), seeded_generator(seed, 0, 1)).double().numpy()
    return np.stack([(noisy[..., 0] + 1) * w / 2, noisy[..., 1] * w / 2 + h / 2], -1).reshape(pixels.shape)
