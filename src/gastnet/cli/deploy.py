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


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="the paper's speed table (Table V) on this machine, plus streaming")
    p.add_argument("--rf", type=int, nargs="+", default=[27, 81, 243], choices=[9, 27, 81, 243])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--frames", type=int, default=2000, help="sequence length for layer-by-layer inference")
    p.add_argument("--budget", type=float, default=2.0, help="seconds of timing per mode and model")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=cmd_bench)
