"""Deployment commands: bench (the paper's speed table) and export (ONNX, TorchScript)."""

from __future__ import annotations

import argparse
import json

import torch


def cmd_bench(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from ..inference.speed import measure_speed

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device here")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    rows = [measure_speed(rf, device, args.frames, args.budget) for rf in tqdm(args.rf, desc="bench", unit="model")]
    print(f"GAST-Net speed on {name} (torch {torch.__version__}, batch 1, BatchNorms folded, frames per second)\n")
    print("| RF | parameters | VideoPose3D | reduction | layer by layer | one frame (strided) | window (dilated) "
          "| streaming | streaming / window (dilated) | layer by layer / streaming |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        vp = f"{r.videopose3d_parameters / 1e6:.2f}M" if r.videopose3d_parameters else "-"
        red = f"{r.reduction_percent:.1f}%" if r.reduction_percent is not None else "-"
        print(f"| {r.receptive_field} | {r.parameters / 1e6:.2f}M | {vp} | {red} | {r.layer_by_layer_fps:.0f} | "
              f"{r.one_frame_fps:.1f} | {r.dilated_window_fps:.1f} | {r.streaming_fps:.1f} | "
              f"{r.streaming_fps / r.dilated_window_fps:.1f}x | {r.layer_by_layer_fps / r.streaming_fps:.2f}x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.to_dict() for r in rows], f, indent=2)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..inference.export import export_model
    from ..model.checkpoint import model_from_checkpoint
    from ..model.registry import create_model, list_models

    if Path(args.source).is_file():
        model = model_from_checkpoint(args.source)
    elif args.source in list_models():
        model = create_model(args.source).eval()
        print(f"note: {args.source} is a bare architecture: the exported weights are random")
    else:
        raise ValueError(f"{args.source!r} is neither a checkpoint file nor a registered model name")
    suffix = ".onnx" if args.format == "onnx" else ".pt"
    out = Path(args.out or Path(args.source).stem + f"_{args.form}{suffix}")
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} already exists; pass --overwrite or choose another --out")
    export_model(model, out, args.format, args.form)
    frames = "T >= %d frames in, T - %d out" % (model.receptive_field, model.receptive_field - 1) \
        if args.form == "dilated" else f"exactly {model.receptive_field} frames in, one out"
    print(f"wrote {out} ({args.format}, {args.form} form: {frames}; input 'keypoints' (B, T, {model.num_joints}, 2), "
          f"output 'poses')")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="the paper's speed table (Table V) on this machine, plus streaming")
    p.add_argument("--rf", type=int, nargs="+", default=[27, 81, 243], choices=[9, 27, 81, 243])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--frames", type=int, default=2000, help="sequence length for layer-by-layer inference")
    p.add_argument("--budget", type=float, default=2.0, help="seconds of timing per mode and model")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("export", help="export a checkpoint (or a bare model) to ONNX or TorchScript")
    p.add_argument("source", help="a checkpoint file, or a registered model name (random weights)")
    p.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    p.add_argument("--form", choices=["dilated", "strided"], default="dilated",
                   help="dilated: whole sequences, dynamic length; strided: one frame from exactly RF frames")
    p.add_argument("--out", help="output file (default: SOURCE_FORM.onnx / .pt)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)
