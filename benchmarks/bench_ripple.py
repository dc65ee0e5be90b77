"""Frame-rate ripple: does lifting put a periodic artefact into the 3D that the 2D does not have?

    python benchmarks/bench_ripple.py --data-dir ../shared/data [--models gastnet_rf27_c32.h36m_noise ...]

The CMU walks (``<data>/cmu``) at 30 fps are projected through fixed virtual cameras and lifted
with each shipped Human3.6M model as ``gastnet lift`` lifts them; for a model trained at one
frame rate also as the earlier pipeline did (interleaved passes, not averaged). Printed: the
frequency where interleaving would leave a ripple (fps / stride) and the spectral peak ratio
there (:func:`gastnet.evaluation.metrics.spectral_peak_ratio`) of the 2D input and of the 3D
output, summed over joints and axes; a ratio well above the 2D's is a ripple.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gastnet import create_model, list_models
from gastnet.data.cmu import load_cmu_bvh
from gastnet.data.mocap import resolve_data_dir
from gastnet.data.virtual_cameras import CameraRanges, sample_cameras
from gastnet.evaluation.metrics import spectral_peak_ratio
from gastnet.runtime.predict import frame_stride, lift_at_model_rate, predict_sequence
from gastnet.skeleton import standing_height


def interleaved_unaveraged(model, inputs: np.ndarray, stride: int) -> np.ndarray:
    out = np.empty(inputs.shape[:-1] + (3,))
    for phase in range(stride):
        out[phase::stride] = predict_sequence(model, inputs[phase::stride], model.skeleton).numpy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--cameras", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(2)
    models = args.models or [m for m in list_models(pretrained=True) if "humaneva" not in m]
    fps = 30.0
    clips = []
    for path in sorted((resolve_data_dir(args.data_dir) / "cmu").glob("*.bvh")):
        world = torch.from_numpy(load_cmu_bvh(path, fps)[0])
        for k in range(args.cameras):
            middle = world[len(world) // 2]
            ranges = CameraRanges(person_height=(0.3, 0.4), position=0.3)  # the whole walk stays in view
            cam = sample_cameras(middle[None, 0], standing_height(middle)[None], ranges, torch.Generator().manual_seed(k))
            clips.append(cam.project(world[None])[0].numpy())
    print(f"{len(clips)} CMU walks through fixed virtual cameras at {fps:g} fps")
    print("| model | stride | ripple at | 2D peak ratio | 3D peak ratio (gastnet lift) | 3D, passes not averaged |")
    print("|---|---|---|---|---|---|")
    for name in models:
        model = create_model(name, pretrained=True)
        stride = frame_stride(model, fps)
        freq = fps / stride if stride > 1 else fps / 3  # the 10 Hz of the old 3-pass lifting at 30 fps
        r2d = np.mean([spectral_peak_ratio(c, fps, freq) for c in clips])
        with torch.no_grad():
            r3d = np.mean([spectral_peak_ratio(lift_at_model_rate(model, c, fps, model.skeleton), fps, freq) for c in clips])
            raw = (np.mean([spectral_peak_ratio(interleaved_unaveraged(model, c, stride), fps, freq) for c in clips])
                   if stride > 1 else float("nan"))
        print(f"| {name} | {stride} | {freq:g} Hz | {r2d:.2f} | {r3d:.2f} | {raw:.2f} |")


if __name__ == "__main__":
    main()
