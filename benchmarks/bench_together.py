"""People placed together: two people who shake hands, seen from several sides, lifted alone or together.

    python benchmarks/bench_together.py --data-dir ../shared/data [--ratios 0.85 0.92 1.0] [--detector-2d]

Scenes with known truth (``tests/helpers.handshake``): a Human3.6M subject (S9, S11; "Greeting")
reaching out a hand, and their mirror image facing them, the hands meeting, scaled by a size
ratio (a shorter person: their hands then meet ``1 - ratio`` of the hand's height apart, which
the "true" column gives). A camera 1.6 m up at 1920 x 1080 with a 65-degree lens sees both from
-60 to 60 degrees off the line square to the one joining them (``two_person_view``); the 2D gets
2 px of noise; both are lifted by ``lift_tracks`` with the default model and the true focal
length, once with each person placed alone (the scales of :mod:`gastnet.world.together` forced
to 1: the release before) and once together (the default). Printed per scene and as medians: the
distance (m) between the meeting hands in ``poses_world`` at the middle frame, and the error (m)
of the distance between the two pelvises, over all frames.

With ``--detector-2d`` the 2D is a detector's instead: each person's joints moved to a detector's
definitions as training moves them (:func:`gastnet.data.augment.displace_joint_definitions`, one
seeded draw per person) and the detector errors of training added on top
(:func:`~gastnet.data.augment.detector_errors`: noise, blur, left/right swaps, outliers); the truth
stays the mocap's joints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import gastnet.pipeline.placing as placing  # noqa: E402
from gastnet import create_model  # noqa: E402
from gastnet.keypoints.tracks import PersonTrack  # noqa: E402
from gastnet.pipeline.tracks_to_3d import lift_tracks  # noqa: E402
from gastnet.world.together import Together  # noqa: E402
from helpers import detector_joints, detector_pixels, handshake, two_person_view  # noqa: E402

SIZE = (1920, 1080)


def lift_pair(pixels: np.ndarray, focal: float, model, together: bool, seed: int = 0, noise_px: float = 2.0):
    """The LiftResult of two people's pixels (2, T, 17, 2) with ``noise_px`` of noise, placed together or alone."""
    noisy = pixels + np.random.default_rng(seed).normal(0.0, noise_px, pixels.shape)
    frames = pixels.shape[1]
    tracks = [PersonTrack(i, np.arange(frames), noisy[i], np.full((frames, 17), 0.9)) for i in range(2)]
    original = placing.scale_together
    if not together:
        placing.scale_together = lambda poses, *args, **kwargs: Together(np.ones(len(poses)))
    try:
        return lift_tracks(tracks, SIZE, model, frames, 25.0, focal_length=focal)
    finally:
        placing.scale_together = original


def measure(result, a: np.ndarray, b: np.ndarray, hands: tuple[int, int]) -> tuple[float, float]:
    """(distance between the meeting hands at the middle frame, mean error of the pelvis distance), metres."""
    first, second = result.people
    middle = len(a) // 2
    gap = float(np.linalg.norm(first.poses_world[middle, hands[0]] - second.poses_world[middle, hands[1]]))
    lifted = np.linalg.norm(first.poses_world[:, 0] - second.poses_world[:, 0], axis=1)
    true = np.linalg.norm(a[:, 0] - b[:, 0], axis=1)
    return gap, float(np.abs(lifted - true).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.85, 0.92, 1.0])
    parser.add_argument("--azimuths", type=float, nargs="+", default=[-60.0, -30.0, 0.0, 30.0, 60.0])
    parser.add_argument("--detector-2d", action="store_true",
                        help="a detector's joint definitions and errors instead of the mocap's joints and 2 px of noise")
    args = parser.parse_args()
    model = create_model("gastnet_rf27_c32.video", pretrained=True).eval()
    rows = []
    print("scene                      azimuth  true gap | hands apart: alone  together | pelvis distance error: alone  together")
    for subject, action in (("S9", "Greeting 1"), ("S11", "Greeting 1"), ("S11", "Greeting 2")):
        for ratio in args.ratios:
            a, b, hands = handshake(args.data_dir, subject, action, ratio)
            true_gap = float(np.linalg.norm(a[len(a) // 2, hands[0]] - b[len(a) // 2, hands[1]]))
            seen = (detector_joints(a, 1), detector_joints(b, 2)) if args.detector_2d else (a, b)
            for azimuth in args.azimuths:
                pixels, focal = two_person_view(*seen, azimuth)
                noise = 0.0 if args.detector_2d else 2.0
                if args.detector_2d:
                    pixels = detector_pixels(pixels, int(azimuth) % 1000)
                alone = measure(lift_pair(pixels, focal, model, False, noise_px=noise), a, b, hands)
                together = measure(lift_pair(pixels, focal, model, True, noise_px=noise), a, b, hands)
                rows.append((true_gap, *alone, *together))
                print(f"{subject} {action} x{ratio:.2f}".ljust(27) + f"{azimuth:7.0f}  {true_gap:8.2f} | "
                      f"{alone[0]:19.2f} {together[0]:9.2f} | {alone[1]:29.2f} {together[1]:9.2f}")
    r = np.array(rows)
    print(f"median over {len(r)} scenes: true gap {np.median(r[:, 0]):.2f} m; hands apart {np.median(r[:, 1]):.2f} m "
          f"alone, {np.median(r[:, 3]):.2f} m together (together / alone {np.median(r[:, 3]) / np.median(r[:, 1]):.2f}); "
          f"pelvis distance error {np.median(r[:, 2]):.2f} m alone, {np.median(r[:, 4]):.2f} m together; "
          f"hands within 0.15 m of the truth's gap in {int((r[:, 1] - r[:, 0] <= 0.15).sum())} scenes alone, "
          f"{int((r[:, 3] - r[:, 0] <= 0.15).sum())} together")


if __name__ == "__main__":
    main()
