"""What each video-like augmentation buys: models on virtual-camera clips with one perturbation at a time.

    python benchmarks/bench_augmentations.py --data-dir ../shared/data [--models A B ...] [--every 4]

Clips: Human3.6M S9/S11 at 25 fps through the seeded virtual cameras of the ``h36m-vcam``
benchmark (every ``--every``-th clip). Columns: the clips as they are (a new camera only), then
each perturbation of :mod:`gastnet.data.augment` alone, drawn with a fixed seed per clip: other
body proportions (the targets follow), detector joint definitions (input only), detector errors
(input only), and a 12 fps recording instead of 25. Cells are P-MPJPE (mm). A model trained
with an augmentation should lose little in its column; the gap to a model trained without it is
that augmentation's measured effect.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gastnet import create_model, list_models
from gastnet.data.augment import (
    BodyRanges,
    DetectorErrorRanges,
    JointDefinitionRanges,
    detector_errors,
    displace_joint_definitions,
    scale_bodies,
)
from gastnet.data.mocap import action_group, get_dataset_spec
from gastnet.data.sources import load_dataset_mocap
from gastnet.data.virtual_cameras import CameraRanges, sample_cameras
from gastnet.evaluation.cross_dataset import BenchmarkClip, evaluate_clips
from gastnet.skeleton import standing_height

PERTURBATIONS = ("camera only", "bodies", "joint definitions", "detector errors", "12 fps")


def clips_for(data_dir, every: int, perturbation: str) -> list[BenchmarkClip]:
    spec = get_dataset_spec("h36m")
    mocap = load_dataset_mocap("h36m", data_dir)
    step, fps, length = (4, 12.5, 50) if perturbation == "12 fps" else (2, 25.0, 100)
    clips, index = [], 0
    for s, a in mocap.sequences(spec.test_subjects):
        world = mocap.positions[s][a][::step]
        for start in range(0, len(world), length):
            piece = torch.from_numpy(np.ascontiguousarray(world[start:start + length]))[None]
            index += 1
            if len(piece[0]) < length // 2 or index % every:
                continue
            g = torch.Generator().manual_seed(index)
            if perturbation == "bodies":
                piece = scale_bodies(piece, BodyRanges(), g)
            middle = piece[0, len(piece[0]) // 2]
            cam = sample_cameras(middle[None, 0], standing_height(middle)[None], CameraRanges(), g)
            seen = piece
            if perturbation == "joint definitions":
                seen = displace_joint_definitions(piece, standing_height(middle)[None], JointDefinitionRanges(), g)
            inputs = cam.project(seen)
            if perturbation == "detector errors":
                inputs = detector_errors(inputs, DetectorErrorRanges(noise=(0.01, 0.02), missing_probability=0.5), g)
            clips.append(BenchmarkClip(action_group(a), inputs[0].numpy(), cam.to_camera(piece)[0].numpy(), fps,
                                       float(cam.elevation_deg[0])))
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--every", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(2)
    models = args.models or [m for m in list_models(pretrained=True) if "humaneva" not in m]
    sets = {p: clips_for(args.data_dir, args.every, p) for p in PERTURBATIONS}
    print(f"{len(sets['camera only'])} Human3.6M S9/S11 clips through seeded virtual cameras; P-MPJPE (mm)\n")
    print("| model | " + " | ".join(PERTURBATIONS) + " |")
    print("|---" * (len(PERTURBATIONS) + 1) + "|")
    for name in models:
        model = create_model(name, pretrained=True)
        cells = [evaluate_clips(model, clips, tuple(range(17))).average["p_mpjpe"] for clips in sets.values()]
        print(f"| `{name}` | " + " | ".join(f"{c:.1f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
