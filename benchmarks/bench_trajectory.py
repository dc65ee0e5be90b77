"""Global trajectory: how well lifted people are placed in the world (gastnet.world.placement).

    python benchmarks/bench_trajectory.py --data-dir ../shared/data [--noise-px 3] [--per-case]

Real walks (Human3.6M S9 and S11 "Walking 1/2" at 25 fps, CMU 131_01 and 131_02 at 30 fps) are
seen by three fixed virtual cameras (1920 x 1080; lenses 60, 75 and 90 degrees across; heights
1.6, 1.3 and 1.0 m looking 10, 6 and 3 degrees down), placed either beside the walk's main axis
("across" the frame) or on it ("toward/away"), as near as keeps every joint in the image. The
joints are projected to pixels, then the root trajectory is recovered from the 2D with the
ground-truth root-relative pose (oracle: the method alone) or with the pose lifted by the shipped
default model (as ``gastnet lift`` does), with the true focal length, the default field of view, or
the focal length estimated from the lifted person (``gastnet.world.focal.estimate_focal``, then
``combine_focal`` with the prior of typical lenses; the default where it cannot tell).

Columns (means over the cases of a row, nothing aligned): root error in the camera frame (m) and
as a percentage of the distance the root travelled; error of the horizontal pelvis path in the
world frame (the placement's frame built on the true floor for the truth); angle between the
fitted and the true floor normal; camera height error (the truth is the height above the standing
ankle, the floor of the placement) and pitch error; and which floor fit was used. Rows are split
by data: the Human3.6M walks have the body size the model was trained on, while the CMU subject
is smaller than the bodies the model returns, and monocular depth scales with the body's size.

"detector 2D" rows see the walk as a detector would: the joints a detector defines otherwise moved
as training moves them (``helpers.detector_joints``: one seeded offset per case in the body's frame,
std 3% of the height, half the cases with the pelvis, spine and thorax made midpoints) and
training's detector errors added (``helpers.detector_pixels``: noise, blur, swaps, outliers); the
truth stays the mocap's joints.

A second table compares the lenses per group (data and view, over walks and cameras): the root
error in % of the path with the true lens, the default and the estimated one, the ratio estimated /
true lens (the target of issue 21: within 2), the mean error of the estimated focal length, and in
how many cases the people could not tell (the default was used).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch

from gastnet import create_model
from gastnet.geometry.camera import DEFAULT_FOV_DEG, focal_from_fov, normalize_screen_coordinates, project_to_2d
from gastnet.pipeline.recording import DEFAULT_MODELS
from gastnet.runtime.predict import lift_at_model_rate
from gastnet.skeleton import H36M_17
from gastnet.world.focal import combine_focal, estimate_focal
from gastnet.world.placement import place_in_world, root_translation

# the camera placement is shared with tests/test_placement.py and lives with the tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import detector_joints, detector_pixels, floor_frame, place_camera, real_walks  # noqa: E402

SIZE = (1920, 1080)
CAMERAS = ((60.0, 1.6, 10.0), (75.0, 1.3, 6.0), (90.0, 1.0, 3.0))  # lens across (deg), height (m), pitch down (deg)


def lift(model: torch.nn.Module, pixels: np.ndarray, fps: float) -> np.ndarray:
    """Root-relative camera-frame poses (T, 17, 3) metres lifted from pixels (T, 17, 2), as ``gastnet lift`` does."""
    rel = lift_at_model_rate(model, normalize_screen_coordinates(pixels.astype(np.float32), *SIZE), fps, H36M_17)
    return rel - rel[:, :1]


def evaluate(rel: np.ndarray, pixels: np.ndarray, focal: float, fps: float, cam: np.ndarray, world: np.ndarray,
             rot: np.ndarray, eye: np.ndarray) -> dict[str, float | str]:
    root = root_translation(rel, pixels, None, focal, np.array(SIZE) / 2, fps)
    placed = place_in_world([rel + root[:, None]], fps)
    truth = cam[:, 0]
    error = np.linalg.norm(root - truth, axis=-1).mean()
    path = np.linalg.norm(np.diff(truth, axis=0), axis=-1).sum()
    true_world = floor_frame(world, rot, eye)
    horizontal = np.linalg.norm(placed.poses_world[0][:, 0, :2] - true_world[:, 0, :2], axis=-1).mean()
    normal = math.degrees(math.acos(np.clip(placed.rotation[2] @ rot[:, 2], -1.0, 1.0)))
    ankle = np.median(world[:, [3, 6], 2].min(1))
    true_pitch = math.degrees(math.asin(-rot[2, 2]))
    return {"root": error, "pct": 100 * error / path, "horizontal": horizontal, "normal": normal,
            "height": abs(placed.camera_height - (eye[2] - ankle)), "pitch": abs(placed.camera_pitch_deg - true_pitch),
            "method": placed.plane_method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--noise-px", type=float, default=3.0, help="std of the 2D noise row (pixels)")
    parser.add_argument("--per-case", action="store_true", help="also print every case")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = create_model(DEFAULT_MODELS[False], pretrained=True)
    rng = np.random.default_rng(0)
    rows: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    lenses: dict[tuple[str, str, str], list[dict]] = defaultdict(list)  # (data, direction, 2D) -> per case
    cases = []
    for name, world, fps in real_walks(args.data_dir):
        for direction in ("across", "toward/away"):
            for fov, height, pitch in CAMERAS:
                rot, eye = place_camera(world, direction, fov, height, pitch)
                cam = (world - eye) @ rot.T
                focal = focal_from_fov(fov, SIZE)
                clean = project_to_2d(cam, focal, np.array(SIZE) / 2)
                noisy = clean + rng.normal(0.0, args.noise_px, clean.shape)
                seed = len(cases)
                detected = detector_pixels(project_to_2d(detector_joints(cam, seed), focal, np.array(SIZE) / 2), seed, SIZE)
                oracle = cam - cam[:, :1]
                lift_clean, lift_noisy, lift_detected = (lift(model, p, fps) for p in (clean, noisy, detected))
                noise, detector = f"{args.noise_px:g} px noise", "detector 2D"
                estimated = {two_d: combine_focal([estimate_focal(rel, pixels, None, SIZE, fps)])
                             for two_d, rel, pixels in (("clean", lift_clean, clean), (noise, lift_noisy, noisy),
                                                        (detector, lift_detected, detected))}
                variants = {"oracle pose, true lens": (oracle, clean, focal),
                            f"oracle pose, true lens, {noise}": (oracle, noisy, focal),
                            "lifted, true lens": (lift_clean, clean, focal),
                            f"lifted, true lens, {noise}": (lift_noisy, noisy, focal),
                            f"lifted, default {DEFAULT_FOV_DEG:g} deg (true {fov:g})": (
                                lift_clean, clean, focal_from_fov(DEFAULT_FOV_DEG, SIZE)),
                            "lifted, lens estimated": (lift_clean, clean, estimated["clean"].focal_px),
                            f"lifted, lens estimated, {noise}": (lift_noisy, noisy, estimated[noise].focal_px),
                            f"lifted, true lens, {detector}": (lift_detected, detected, focal),
                            f"lifted, lens estimated, {detector}": (lift_detected, detected,
                                                                    estimated[detector].focal_px)}
                data = "CMU" if name.startswith("CMU") else "H36M"
                results = {}
                for variant, (rel, pixels, f) in variants.items():
                    results[variant] = result = evaluate(rel, pixels, f, fps, cam, world, rot, eye)
                    rows[(data, direction, variant)].append(result)
                    cases.append((name, direction, fov, variant, result))
                default_pct = results[f"lifted, default {DEFAULT_FOV_DEG:g} deg (true {fov:g})"]["pct"]
                for two_d, suffix in (("clean", ""), (noise, f", {noise}"), (detector, f", {detector}")):
                    chosen = estimated[two_d]
                    lenses[(data, direction, two_d)].append({
                        "true": results[f"lifted, true lens{suffix}"]["pct"], "default": default_pct,
                        "estimated": results[f"lifted, lens estimated{suffix}"]["pct"],
                        "focal": 100 * abs(chosen.focal_px / focal - 1), "default_used": not chosen.informative,
                        "case": f"{name}, {direction}, {fov:g} deg, {two_d}: estimated {chosen.fov_deg:.1f} deg "
                                f"(+-{chosen.sigma_log:.2f} in ln f; {chosen.method})"})
    header = ("| {} | root err (m) | % of path | horiz. path err (m) | normal err (deg) | cam height err (m) "
              "| pitch err (deg) | floor fit |")
    rule = "|---|---|---|---|---|---|---|---|"
    if args.per_case:
        print(header.format("case") + "\n" + rule)
        for name, direction, fov, variant, r in cases:
            print(f"| {name}, {direction}, {fov:g} deg, {variant} | {r['root']:.3f} | {r['pct']:.2f} "
                  f"| {r['horizontal']:.3f} | {r['normal']:.2f} | {r['height']:.3f} | {r['pitch']:.2f} "
                  f"| {r['method']} |")
        print()
    print(header.format("walks: view, pose, lens (means over walks and cameras)") + "\n" + rule)
    for (data, direction, variant), results in sorted(rows.items(), key=lambda item: item[0][0] != "H36M"):
        mean = {k: np.mean([r[k] for r in results]) for k in ("root", "pct", "horizontal", "normal", "height", "pitch")}
        methods = ", ".join(f"{m} {c}" for m, c in Counter(r["method"] for r in results).most_common())
        print(f"| {data}: {direction}, {variant} | {mean['root']:.3f} | {mean['pct']:.2f} | {mean['horizontal']:.3f} "
              f"| {mean['normal']:.2f} | {mean['height']:.3f} | {mean['pitch']:.2f} | {methods} |")
    if args.per_case:
        print()
        for key in sorted(lenses):
            for r in lenses[key]:
                print(f"{r['case']}: root error {r['estimated']:.2f}% of the path (true lens {r['true']:.2f}%, "
                      f"default {r['default']:.2f}%)")
    print("\n| lifted walks: data, view, 2D | true lens (% of path) | default lens | estimated lens "
          "| estimated / true | default / true | focal length error (%) | default used |\n|---|---|---|---|---|---|---|---|")
    for (data, direction, two_d), results in sorted(lenses.items(), key=lambda item: item[0][0] != "H36M"):
        mean = {k: np.mean([r[k] for r in results]) for k in ("true", "default", "estimated", "focal")}
        unsure = sum(r["default_used"] for r in results)
        print(f"| {data}: {direction}, {two_d} | {mean['true']:.2f} | {mean['default']:.2f} | {mean['estimated']:.2f} "
              f"| {mean['estimated'] / mean['true']:.1f} | {mean['default'] / mean['true']:.1f} | {mean['focal']:.1f} "
              f"| {unsure} of {len(results)} |")


if __name__ == "__main__":
    main()
