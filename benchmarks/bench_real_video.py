"""Lifting a real video with each shipped model: posture, body consistency and smoothness.

    python benchmarks/bench_real_video.py ../shared/data/video/walk_apart_2persons.avi [--models A B ...] [--no-fit]

There is no 3D ground truth for a real video, so this prints what can be checked without it, per
model, over every tracked person and frame (2D from MediaPipe Pose, detected once and shared by
all models): the torso's lean from the camera's vertical (people walking upright through a
roughly level camera should lean a few degrees), how much each bone's length varies over time
(coefficient of variation; a rigid body has 0), and the mean 3D acceleration of the joints
(jitter, mm per frame squared).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gastnet import create_model, list_models
from gastnet.pipeline.recording import detect_video
from gastnet.pipeline.tracks_to_3d import lift_tracks
from gastnet.skeleton import H36M_17


def posture(poses: np.ndarray) -> tuple[float, float, float]:
    """Torso lean (deg), bone-length variation (%) and jitter (mm/frame^2) of camera-frame poses (T, 17, 3)."""
    torso = poses[:, 8] - poses[:, 0]
    lean = np.degrees(np.arccos(np.clip(-torso[:, 1] / np.linalg.norm(torso, axis=-1), -1, 1))).mean()
    lengths = np.stack([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for c, p in H36M_17.bones()], -1)
    variation = 100 * (lengths.std(0) / lengths.mean(0)).mean()
    jitter = 1000 * np.linalg.norm(np.diff(poses, 2, axis=0), axis=-1).mean()
    return float(lean), float(variation), float(jitter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--people", type=int, default=2)
    parser.add_argument("--no-fit", action="store_true", help="the network's own 3D (no kinematic fit)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data, fps = detect_video(args.video, args.people)
    models = args.models or [m for m in list_models(pretrained=True) if "humaneva" not in m]
    print(f"{args.video}: {data.num_frames} frames at {fps:g} fps, {len(data.tracks)} tracks "
          f"({', '.join(str(len(t)) for t in data.tracks)} frames)\n")
    print("| model | torso lean (deg) | bone-length variation (%) | jitter (mm/frame^2) |")
    print("|---|---|---|---|")
    for name in models:
        model = create_model(name, pretrained=True)
        result = lift_tracks(data.tracks, data.image_size, model, data.num_frames, fps, fit=not args.no_fit)
        rows = np.array([posture(p.poses_camera) for p in result.people])
        weights = np.array([len(p.frames) for p in result.people], dtype=float)
        lean, variation, jitter = (rows * weights[:, None]).sum(0) / weights.sum()
        print(f"| `{name}` | {lean:.1f} | {variation:.1f} | {jitter:.1f} |")


if __name__ == "__main__":
    main()
