"""Put a trained checkpoint into the package as shipped weights ``architecture.tag``, with measured metadata.

    python tools/publish_weights.py runs/h36m_rf27_c32/checkpoint_last.pt gastnet_rf27_c32.h36m \\
        --data-dir ../shared/data --wall-time-h 2.0 --run-dir runs/h36m_rf27_c32 --description "..." [--default]

Writes ``src/gastnet/weights/<architecture>.<tag>.pt`` (float16 state dict) and its entry in
``src/gastnet/weights/index.json`` (every field of :class:`gastnet.model.weights.Weights`): the
sha256 of the file, the training config, epochs and wall time, the Protocol #1/#2 table of the
float16 weights on the training dataset's test split (ground-truth 2D, flip averaging) with the
command that reproduces it, and outputs on a fixed input for the tests. ``--default`` makes the
tag the one ``create_model(architecture, pretrained=True)`` loads (the first tag of an
architecture becomes its default anyway).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path

import torch

from gastnet import create_model
from gastnet.evaluation.evaluate import evaluate_checkpoint
from gastnet.fileio import atomic_path
from gastnet.model.checkpoint import load_checkpoint
from gastnet.model.registry import get_model_spec
from gastnet.model.weights import INDEX_FORMAT, Metric, Weights, recorded_input

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "gastnet" / "weights"
HUMANEVA_LICENCE = ("Trained on HumanEva-I: for research use only, under the HumanEva licence. The code is "
                    "MIT-licensed; the weights inherit the dataset's terms.")
LICENCE = ("Trained on Human3.6M motion: for non-commercial research use only, under the Human3.6M licence. "
           "The code is MIT-licensed; the weights inherit the dataset's terms.")


def load_index() -> dict:
    path = WEIGHTS / "index.json"
    return json.loads(path.read_text()) if path.exists() else {"format": INDEX_FORMAT, "defaults": {}, "weights": {}}


def save_index(index: dict) -> None:
    """Write ``weights/index.json`` atomically, its entries sorted by name."""
    index["weights"] = dict(sorted(index["weights"].items()))
    with atomic_path(WEIGHTS / "index.json") as tmp:
        tmp.write_text(json.dumps(index, indent=1) + "\n")


def put_metric(entry: dict, metric: Metric) -> None:
    """Add ``metric`` to an index entry, replacing the one of the same name (the headline stays first)."""
    rows = [m for m in entry["metrics"] if m["name"] != metric.name]
    entry["metrics"] = rows + [dataclasses.asdict(metric)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("name", help="architecture.tag: the registered architecture and what the weights were trained on")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--wall-time-h", type=float, required=True)
    parser.add_argument("--run-dir", help="the training folder (its metrics.jsonl is summarised)")
    parser.add_argument("--description", required=True, help="what the weights are, in one line")
    parser.add_argument("--default", action="store_true", help="the architecture's default tag from now on")
    args = parser.parse_args()

    arch, _, tag = args.name.partition(".")
    spec = get_model_spec(arch)
    if not tag:
        raise SystemExit(f"expected architecture.tag, e.g. {arch}.h36m, found {args.name}")
    payload = load_checkpoint(args.checkpoint)
    model = create_model(arch, checkpoint=args.checkpoint)  # ValueError unless the file holds the architecture
    half = {k: v.half() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    with tempfile.TemporaryDirectory() as tmp:  # evaluate exactly what ships: the float16 weights
        rounded = Path(tmp) / "rounded.pt"
        torch.save({**payload, "state_dict": {k: v.float() if v.is_floating_point() else v for k, v in half.items()}}, rounded)
        dataset = payload["config"]["data"]["dataset"]
        table = evaluate_checkpoint(rounded, dataset, data_dir=args.data_dir, progress=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    with torch.no_grad():
        outputs = model.eval().forward_sequence(recorded_input(model.num_joints, 40))[0]
    history = []
    if args.run_dir:
        history = [json.loads(line) for line in (Path(args.run_dir) / "metrics.jsonl").read_text().splitlines()]
    config = payload["config"]
    humaneva = dataset == "humaneva"
    video = config.get("augment", {}).get("enabled", False)
    groups = {(g["action"] + (" " + g["subject"].split("/")[-1] if "subject" in g else "")):
              {"protocol1_mm": round(g["mpjpe"], 1), "protocol2_mm": round(g["p_mpjpe"], 1)} for g in table.groups}
    headline = Metric(
        name="humaneva_gt_validate" if humaneva else "h36m_gt_s9_s11", dataset=dataset, input_noise=0.0,
        protocol1_mm=round(table.average["mpjpe"], 1), protocol2_mm=round(table.average["p_mpjpe"], 1),
        command=f"gastnet evaluate {args.name} --dataset {dataset} --data-dir ../shared/data",
        details={"per_group": groups, "downsample": table.info["downsample"], "flip": True},
    )
    file = f"{args.name}.pt"
    with atomic_path(WEIGHTS / file) as tmp:
        torch.save(half, tmp)
    weights = Weights(
        arch=arch, tag=tag, source="shipped", file=file,
        sha256=hashlib.sha256((WEIGHTS / file).read_bytes()).hexdigest(), description=args.description,
        training_data=("HumanEva-I Train/S1-S3, Walk, Jog, Box, 3 cameras" if humaneva else
                       "Human3.6M S1, S5, S6, S7, S8 (all actions, 4 cameras; the project's shared copy: real "
                       "motion capture re-rendered with S1's bone lengths)"),
        keypoints_2d=("ground truth 2D of HumanEva-I (the dataset's own file)" if humaneva else
                      "video-like: the 3D joints with random body proportions and detector joint definitions, "
                      "projected through a random virtual camera per window, with detector errors, 10-60 fps "
                      "(gastnet.data.video_windows)" if video else
                      "ground truth: the 3D joints projected through the real Human3.6M cameras with distortion"),
        joint_layout=model.skeleton.name, input=model.pretrained_weights.input, output=model.pretrained_weights.output,
        frame_rates=model.pretrained_weights.frame_rates, metrics=(headline,),
        licence=HUMANEVA_LICENCE if humaneva else LICENCE, train_config=config,
        epochs=payload["state"]["epoch"], steps=payload["state"]["step"], wall_time_h=args.wall_time_h,
        training_curve=tuple({k: round(v, 2) for k, v in row.items() if k in ("epoch", "train_mpjpe_mm", "test_mpjpe_mm")}
                             for row in history),
        recorded_frames=40, recorded_outputs=tuple(round(v, 6) for v in outputs.flatten().tolist()),
    )
    index = load_index()
    index["weights"][args.name] = weights.to_dict()
    if args.default or spec.name not in index["defaults"]:
        index["defaults"][spec.name] = tag
    save_index(index)
    print(table.to_markdown(("mpjpe", "p_mpjpe")))
    print(f"published {args.name}: Protocol #1 {table.average['mpjpe']:.1f} mm, Protocol #2 {table.average['p_mpjpe']:.1f} mm")


if __name__ == "__main__":
    main()
