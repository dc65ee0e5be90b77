"""Would the fit gain from the person's true proportions? The fit's skeleton takes the network's bone
lengths; this fits the same clips with the truth's skeleton instead (scaled to the network's height).

    python benchmarks/bench_fit_proportions.py --data-dir ../shared/data [--clips 40] [--sets cmu humaneva]

The CMU walks through seeded virtual cameras and HumanEva-I through its own cameras, both with a
detector's joint definitions and errors, as ``bench_fit.py --joints detector`` builds them; P-MPJPE
(mm, the joints both skeletons share) without the fit, with it (the default skeleton) and with the
truth's proportions, and the ratios to the network alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_fit  # noqa: E402
import gastnet.pipeline.placing as placing  # noqa: E402
from gastnet import create_model  # noqa: E402
from gastnet.animation.rig import Rig  # noqa: E402
from gastnet.data.cmu import load_cmu_bvh  # noqa: E402
from gastnet.data.virtual_cameras import CameraRanges  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--sets", nargs="+", choices=("cmu", "humaneva"), default=["cmu", "humaneva"])
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = create_model("gastnet_rf27_c32.video", pretrained=True).eval()
    fit_person = placing.fit_person
    truth: dict[str, np.ndarray | None] = {"poses": None}

    def with_true_proportions(poses, keypoints, scores, focal, principal, fps, options=None, rig=None, targets=None):
        if truth["poses"] is not None:
            lifted = Rig.from_poses(poses, weights=0.1 + scores)
            true = Rig.from_poses(truth["poses"])
            rig = true.scaled(lifted.height / true.height)
        return fit_person(poses, keypoints, scores, focal, principal, fps, options, rig, targets)

    placing.fit_person = with_true_proportions
    print("| set | clips | fit off | fit (the network's proportions) | fit (the truth's proportions) |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        if name == "cmu":
            walks = [(f.stem, load_cmu_bvh(f, 30.0)[0]) for f in sorted((args.data_dir / "cmu").glob("*.bvh"))]
            clips = bench_fit.synthetic_clips(walks, 30.0, args.clips, 0, CameraRanges(person_height=(0.2, 0.5)),
                                              views=8, definitions=True)
        else:
            clips = bench_fit.humaneva_clips(args.data_dir, args.clips, 0, True)
        errors = []
        for mode in ("off", "fit", "true"):
            rows = []
            for clip in clips:
                truth["poses"] = clip["truth"] if mode == "true" else None
                result = bench_fit.evaluate(model, [clip], mode != "off", bench_fit.SHARED_JOINTS)
                if result["clips"]:
                    rows.append(result["pmpjpe"])
            errors.append(float(np.mean(rows)))
        off, fit, true = errors
        print(f"| {name} | {len(rows)} | {off:.1f} | {fit:.1f} ({fit / off - 1:+.1%}) | {true:.1f} ({true / off - 1:+.1%}) |",
              flush=True)
    placing.fit_person = fit_person


if __name__ == "__main__":
    main()
