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
import sys
from pathlib import Path

import torch

from gastnet import create_model, list_models

# the lean grid is shared with tests/test_video_lifting.py and lives with the tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import lean_grid  # noqa: E402


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
