"""Put a trained checkpoint into the package as pretrained weights, with measured metadata.

    python tools/publish_weights.py runs/h36m_rf27_c32/checkpoint_last.pt gastnet_rf27_c32 \\
        --data-dir ../shared/data --wall-time-h 2.0 --run-dir runs/h36m_rf27_c32

Writes ``src/gastnet/weights/<model>.pt`` (float16 state dict) and its entry in
``src/gastnet/weights/index.json``: the training config, epochs, wall time, the Human3.6M
Protocol #1/#2 table of the float16 weights (S9, S11, ground-truth 2D, flip averaging) with the
command that reproduces it, and outputs on a fixed input for the tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from gastnet.evaluation.evaluate import evaluate_checkpoint
from gastnet.fileio import atomic_path
from gastnet.model.checkpoint import load_checkpoint, model_from_checkpoint
from gastnet.model.registry import get_model_spec
from gastnet.model.weights import recorded_input

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "gastnet" / "weights"
HUMANEVA_LICENCE = ("Trained on HumanEva-I: for research use only, under the HumanEva licence. The code is "
                    "MIT-licensed; the weights inherit the dataset's terms.")
LICENCE = ("Trained on Human3.6M motion: for non-commercial research use only, under the Human3.6M licence. "
           "The code is MIT-licensed; the weights inherit the dataset's terms.")


def load_index() -> dict:
    path = WEIGHTS / "index.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_index(index: dict) -> None:
    """Write ``weights/index.json`` atomically."""
    with atomic_path(WEIGHTS / "index.json") as tmp:
        tmp.write_text(json.dumps(index, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("model", help="the registered architecture these weights belong to")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--wall-time-h", type=float, required=True)
    parser.add_argument("--run-dir", help="the training folder (its metrics.jsonl is summarised)")
    parser.add_argument("--description", default="")
    args = parser.parse_args()

    payload = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(payload)
    spec = get_model_spec(args.model)
    expected = {**model.config, **{k: v for k, v in spec.config.items() if k != "skeleton"}}
    mismatch = {k for k, v in spec.config.items() if k not in ("skeleton", "dropout") and model.config.get(k) != (list(v) if isinstance(v, tuple) else v)}
    if mismatch:
        raise SystemExit(f"the checkpoint does not match {args.model}: {sorted(mismatch)} differ ({expected})")
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
    downsample = config["data"]["downsample"]
    humaneva = dataset == "humaneva"
    groups = {(g["action"] + (" " + g["subject"].split("/")[-1] if "subject" in g else "")):
              {"protocol1_mm": round(g["mpjpe"], 1), "protocol2_mm": round(g["p_mpjpe"], 1)} for g in table.groups}
    metrics_key = "humaneva_gt_validate" if humaneva else "h36m_gt_s9_s11"
    video = config.get("augment", {}).get("enabled", False)
    meta = {
        "description": args.description or get_model_spec(args.model).description,
        "training_data": ("HumanEva-I Train/S1-S3, Walk, Jog, Box, 3 cameras" if humaneva else
                          "Human3.6M S1, S5, S6, S7, S8 (all actions, 4 cameras; the project's shared copy: real "
                          "motion capture re-rendered with S1's bone lengths)"),
        "keypoints_2d": ("ground truth 2D of HumanEva-I (the dataset's own file)" if humaneva else
                         "video-like: the 3D joints with random body proportions and detector joint definitions, "
                         "projected through a random virtual camera per window, with detector errors, 10-60 fps "
                         "(gastnet.data.video_windows)" if video else
                         "ground truth: the 3D joints projected through the real Human3.6M cameras with distortion"),
        "joint_layout": "humaneva15" if humaneva else "h36m17",
        "input": "keypoints (B, T, 17, 2) in normalised screen coordinates: x' = 2x/w - 1, y' = 2y/w - h/w",
        "output": "root-relative 3D joints in the camera frame, metres",
        "frame_rate": None if video else (60.0 if humaneva else 50.0) / downsample,
        **({"frame_rate_range": config["augment"]["fps"]} if video else {}),
        "train_config": config,
        "epochs": payload["state"]["epoch"],
        "steps": payload["state"]["step"],
        "wall_time_h": args.wall_time_h,
        "training_curve": [{k: round(v, 2) for k, v in row.items() if k in ("epoch", "train_mpjpe_mm", "test_mpjpe_mm")}
                           for row in history],
        "metrics": {metrics_key: {
            "protocol1_mm": round(table.average["mpjpe"], 1), "protocol2_mm": round(table.average["p_mpjpe"], 1),
            "per_group": groups, "downsample": table.info["downsample"], "flip": True,
            "command": f"gastnet evaluate {args.model} --dataset {dataset} --data-dir ../shared/data",
        }},
        "licence": HUMANEVA_LICENCE if humaneva else LICENCE,
        "recorded": {"frames": 40, "outputs": [round(v, 6) for v in outputs.flatten().tolist()]},
    }
    with atomic_path(WEIGHTS / f"{args.model}.pt") as tmp:
        torch.save(half, tmp)
    index = load_index()
    index[args.model] = {"file": f"{args.model}.pt", "meta": meta}
    save_index(index)
    print(table.to_markdown(("mpjpe", "p_mpjpe")))
    print(f"published {args.model}: Protocol #1 {table.average['mpjpe']:.1f} mm, Protocol #2 {table.average['p_mpjpe']:.1f} mm")


if __name__ == "__main__":
    main()
