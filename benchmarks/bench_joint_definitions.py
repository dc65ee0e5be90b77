"""How far apart three mocap systems put the same joints: mean distances (cm) over all frames.

    python benchmarks/bench_joint_definitions.py --data-dir ../shared/data

Human3.6M (the shared copy, S1's bones), HumanEva-I (all subjects) and the CMU walks (mapped to
Human3.6M-17 by :mod:`gastnet.data.cmu`): hip width, shoulder width, thorax to head (top) and the
limb bones. The torso rows differ by far more than bodies do; the limb rows do not, which is why
the cross-dataset benchmarks score only the limb joints.
"""

from __future__ import annotations

import argparse

import numpy as np

from gastnet.data.cmu import load_cmu_bvh
from gastnet.data.mocap import resolve_data_dir
from gastnet.data.sources import load_dataset_mocap

# Human3.6M-17 joint pairs, and the same pairs in HumanEva-15
PAIRS = {"hip width": ((1, 4), (8, 11)), "shoulder width": ((11, 14), (2, 5)), "thorax to head": ((8, 10), (1, 14)),
         "thigh": ((1, 2), (8, 9)), "shin": ((2, 3), (9, 10)), "upper arm": ((11, 12), (2, 3)),
         "forearm": ((12, 13), (3, 4))}


def mean_distance(poses: np.ndarray, a: int, b: int) -> float:
    return float(100 * np.linalg.norm(poses[:, a] - poses[:, b], axis=-1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    folder = resolve_data_dir(args.data_dir)
    h36m = load_dataset_mocap("h36m", folder)
    humaneva = load_dataset_mocap("humaneva", folder)
    poses = {
        "Human3.6M": np.concatenate([h36m.positions[s][a] for s, a in h36m.sequences(["S1"])]),
        "HumanEva-I": np.concatenate([humaneva.positions[s][a] for s, a in humaneva.sequences()]),
        "CMU": np.concatenate([load_cmu_bvh(f)[0] for f in sorted((folder / "cmu").glob("*.bvh"))]),
    }
    print("| cm | " + " | ".join(poses) + " |")
    print("|---" * (len(poses) + 1) + "|")
    for label, (h36m_pair, he_pair) in PAIRS.items():
        cells = [mean_distance(p, *(he_pair if name == "HumanEva-I" else h36m_pair)) for name, p in poses.items()]
        print(f"| {label} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
