"""Record the cross-dataset benchmarks of shipped Human3.6M models in their weights' metadata.

    python tools/record_cross_dataset.py gastnet_rf27_c32.h36m_noise gastnet_rf27_c32.video --data-dir ../shared/data

Runs ``gastnet evaluate MODEL --dataset NAME`` for NAME in h36m-vcam, cmu-vcam and humaneva-cross
(see :mod:`gastnet.evaluation.cross_dataset`) on the shipped weights and stores MPJPE, P-MPJPE and
the elevation and image-position breakdowns, with the command, among the weights' ``metrics`` in
``src/gastnet/weights/index.json`` (named after the benchmark); ``tools/weights_table.py`` prints
them side by side.
"""

from __future__ import annotations

import argparse

from publish_weights import load_index, put_metric, save_index  # the tool beside this one

from gastnet.evaluation.cross_dataset import BENCHMARKS, evaluate_benchmark
from gastnet.model.weights import Metric


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="shipped Human3.6M-17 weights, architecture.tag")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--benchmarks", nargs="*", default=list(BENCHMARKS))
    args = parser.parse_args()

    for model in args.models:
        results = []
        for name in args.benchmarks:
            table = evaluate_benchmark(model, name, args.data_dir, progress=True)
            results.append(Metric(
                name=name, dataset=name, input_noise=0.0,
                protocol1_mm=round(table.average["mpjpe"], 1), protocol2_mm=round(table.average["p_mpjpe"], 1),
                command=f"gastnet evaluate {model} --dataset {name} --data-dir ../shared/data",
                details={"frames": table.info["frames"], "clips": table.info["clips"],
                         "breakdown": {k: {"frames": v["frames"], "protocol1_mm": round(v["mpjpe"], 1),
                                           "protocol2_mm": round(v["p_mpjpe"], 1)}
                                       for k, v in table.info["breakdown"].items()}}))
            print(f"{model}: {name}: Protocol #1 {results[-1].protocol1_mm} mm, #2 {results[-1].protocol2_mm} mm")
        index = load_index()  # read again: another run may have written meanwhile
        for metric in results:
            put_metric(index["weights"][model], metric)
        save_index(index)


if __name__ == "__main__":
    main()
