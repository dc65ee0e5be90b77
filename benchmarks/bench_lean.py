"""Torso lean of an upright person moved across a wide frame, for each shipped Human3.6M model.

    python benchmarks/bench_lean.py [--models A B ...]

A standing person (the built-in synthetic figure, legs together) seen by a level 16:9 camera with
a 100-degree lens at 3.5 m, the hips placed on a grid of image positions (fractions of the half
width and half height from the centre); the 2D is lifted as ``gastnet lift`` lifts 30 fps input
and the printed angle is the mean lean of the torso (pelvis to thorax) from the camera's vertical,
in degrees: an upright person should stay upright wherever they stand.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gastnet import create_model, list_models
from gastnet.camera import normalize_screen_coordinates, project_to_2d
from gastnet.examples import synthetic_walk_3d
from gastnet.inference.lift import lift_at_model_rate

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(2)
    models = args.models or [m for m in list_models(pretrained=True) if "humaneva" not in m]
    print("| model | worst on the centre line (v = 0) | worst anywhere | where |")
    print("|---|---|---|---|")
    for name in models:
        leans = lean_grid(create_model(name, pretrained=True))
        level = max(lean for (u, v), lean in leans.items() if v == 0.0)
        worst = max(leans, key=leans.get)
        print(f"| `{name}` | {level:.1f} | {leans[worst]:.1f} | u = {worst[0]:g}, v = {worst[1]:g} |")


if __name__ == "__main__":
    main()
