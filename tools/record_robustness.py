"""Record how a shipped Human3.6M model copes with noisy 2D input, in its weights' metadata.

    python tools/record_robustness.py gastnet_rf27_c32.h36m_noise --noise 0.005 0.01 0.02 --data-dir ../shared/data

Evaluates the shipped weights on S9 and S11 with fixed Gaussian noise added to the ground-truth
2D (``gastnet evaluate MODEL --input-noise STD``; 0.01 normalised units is 5 px on a 1000 px wide
image, about a good detector's error) and stores Protocol #1/#2 per noise level, with the command,
among the weights' ``metrics`` in ``src/gastnet/weights/index.json`` (named ``h36m_gt_s9_s11_noiseSTD``).
"""

from __future__ import annotations

import argparse

from publish_weights import load_index, put_metric, save_index  # the tool beside this one

from gastnet.evaluation.evaluate import evaluate_checkpoint
from gastnet.model.weights import Metric


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="shipped Human3.6M weights, architecture.tag")
    parser.add_argument("--noise", type=float, nargs="+", required=True, help="noise levels, normalised units")
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()

    rows = []
    for std in args.noise:
        table = evaluate_checkpoint(args.model, "h36m", data_dir=args.data_dir, progress=True, input_noise=std)
        rows.append(Metric(
            name=f"h36m_gt_s9_s11_noise{std:g}", dataset="h36m", input_noise=std,
            protocol1_mm=round(table.average["mpjpe"], 1), protocol2_mm=round(table.average["p_mpjpe"], 1),
            command=f"gastnet evaluate {args.model} --dataset h36m --input-noise {std:g} --data-dir ../shared/data"))
        print(f"{args.model}: noise {std:g}: Protocol #1 {rows[-1].protocol1_mm} mm, #2 {rows[-1].protocol2_mm} mm")
    index = load_index()
    for row in rows:
        put_metric(index["weights"][args.model], row)
    save_index(index)


if __name__ == "__main__":
    main()
