"""Deployment commands: bench (the paper's speed table), export (ONNX, TorchScript) and convert (the
GAST-Net authors' checkpoints to ours)."""

from __future__ import annotations

import argparse
import json

import torch


def cmd_bench(args: argparse.Namespace) -> int:
    from ..progress import progress_bar
    from ..runtime.speed import measure_speed

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device here")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    rows = [measure_speed(rf, device, args.frames, args.budget) for rf in progress_bar(args.rf, desc="bench", unit="model")]
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
        from ..fileio import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps([r.to_dict() for r in rows], indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..extras import require
    from ..model.registry import create_model
    from ..model.weights import list_pretrained
    from ..runtime.export import export_model

    if args.format == "onnx":
        require("onnx", "ONNX export")
    model = create_model(args.source, pretrained=args.source in list_pretrained()).eval()
    if model.pretrained_weights is None:
        print(f"note: {args.source} is a bare architecture: the exported weights are random")
    suffix = ".onnx" if args.format == "onnx" else ".pt"
    stem = Path(args.source).stem if Path(args.source).is_file() else args.source  # a model name keeps its tag
    out = Path(args.out or f"{stem}_{args.form}{suffix}")
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} already exists; pass --overwrite or choose another --out")
    export_model(model, out, args.format, args.form)
    frames = f"T >= {model.receptive_field} frames in, T - {model.receptive_field - 1} out" \
        if args.form == "dilated" else f"exactly {model.receptive_field} frames in, one out"
    print(f"wrote {out} ({args.format}, {args.form} form: {frames}; input 'keypoints' (B, T, {model.num_joints}, 2), "
          f"output 'poses')")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..model.checkpoint import save_checkpoint
    from ..model.registry import create_model

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} already exists; pass --overwrite or choose another --out")
    model = create_model(None, checkpoint=args.source, **({} if args.causal is None else {"causal": args.causal}))
    found = model.pretrained_weights
    if found is None or found.source != "authors":
        raise ValueError(f"{args.source} is a gastnet checkpoint already, not one of the authors' files")
    save_checkpoint(out, model, converted_from=Path(args.source).name,
                    description=f"gastnet checkpoint converted from the {found.description}")
    print(found.description)
    print(f"wrote {out} (use it with --checkpoint, or gastnet.create_model(path))")
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    import contextlib
    import os
    import statistics
    import time

    from ..extras import require

    require("video", "gastnet live")  # before the model loads (PyAV, OpenCV, MediaPipe Pose)
    from ..runtime.live import live_poses
    from ..runtime.streaming import StreamingLifter
    from ..video.detectors import MediaPipePoseDetector
    from ..video.draw import draw_skeleton_2d, render_pose_3d, side_by_side
    from ..video.reader import open_source, require_cv2
    from ..video.writer import VideoWriter

    cv2 = require_cv2()
    torch.set_num_threads(args.threads)  # batch-1 lifting gains nothing from more threads, which fight the detector's
    if args.no_display and not args.out:
        raise ValueError("--no-display needs --out FILE.mp4 to record the view")
    if not args.no_display and not os.environ.get("DISPLAY"):
        raise ValueError("no screen here (DISPLAY is unset): use --no-display --out FILE.mp4")
    if (args.source is None) == (args.camera is None):
        raise ValueError("give a VIDEO or --camera N (one of them)")
    from ..pipeline.recording import _lifter

    model, described = _lifter(args.model, args.checkpoint, causal=True)
    lifter = StreamingLifter(model)
    source = open_source(args.camera if args.camera is not None else args.source)
    detector = MediaPipePoseDetector()
    print(f"live: {source.name} ({source.width}x{source.height} at {source.fps:.0f} fps), MediaPipe Pose -> "
          f"{described}, causal, receptive field {lifter.receptive_field}")
    frames = iter(source)
    if args.max_frames:
        frames = (f for _, f in zip(range(args.max_frames), frames))
    timings: dict[str, list[float]] = {"detect": [], "lift": [], "render": []}
    found = 0
    start = last_report = time.perf_counter()
    recording = VideoWriter(args.out, source.fps) if args.out else None  # H.264 mp4, written atomically
    with source, recording if recording is not None else contextlib.nullcontext():
        for item in live_poses(frames, detector, lifter, source.width, source.height):
            t0 = time.perf_counter()
            view = item.frame.copy()
            if item.keypoints is not None:
                found += 1
                draw_skeleton_2d(view, item.keypoints, model.skeleton, item.scores)
            canvas = side_by_side(view, render_pose_3d(item.pose, model.skeleton, azimuth_deg=args.azimuth))  # RGB
            if recording is not None:
                recording.write(canvas)
            if not args.no_display:
                cv2.imshow("gastnet live", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    break
            item.seconds["render"] = time.perf_counter() - t0
            for key, value in item.seconds.items():
                timings[key].append(value)
            now = time.perf_counter()
            if now - last_report > 2.0:
                print(f"  frame {item.index + 1}: {(item.index + 1) / (now - start):.1f} fps, latency "
                      f"{1000 * (item.seconds['detect'] + item.seconds['lift']):.1f} ms")
                last_report = now
    total = time.perf_counter() - start
    n = len(timings["detect"])
    if n == 0:
        raise ValueError("the source gave no frames")
    mean = {k: 1000 * statistics.fmean(v) for k, v in timings.items()}
    latency = sorted(1000 * (d + f) for d, f in zip(timings["detect"], timings["lift"]))
    print(f"{n} frames, a person in {found}; {n / total:.1f} fps end to end (with rendering)")
    print(f"per frame: detection {mean['detect']:.1f} ms, lifting {mean['lift']:.1f} ms, rendering {mean['render']:.1f} ms;"
          f" latency (detection + lifting) median {latency[n // 2]:.1f} ms,"
          f" 95th percentile {latency[int(0.95 * (n - 1))]:.1f} ms")
    if args.out:
        print(f"wrote {args.out}")
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

    p = sub.add_parser("export", help="export a checkpoint or a model (shipped weights, else random) to ONNX or TorchScript")
    p.add_argument("source", help="a checkpoint file, or a model name: name.tag or an architecture (its shipped "
                                  "weights, else random ones)")
    p.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    p.add_argument("--form", choices=["dilated", "strided"], default="dilated",
                   help="dilated: whole sequences, dynamic length; strided: one frame from exactly RF frames")
    p.add_argument("--out", help="output file (default: SOURCE_FORM.onnx / .pt)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("convert", help="convert a checkpoint of the GAST-Net authors' code to a gastnet checkpoint")
    p.add_argument("source", help="the authors' file, e.g. 27_frame_model.bin (torch.save({..., 'model_pos': ...}))")
    p.add_argument("--out", required=True, help="the gastnet checkpoint to write (.pt)")
    p.add_argument("--causal", action=argparse.BooleanOptionalAction, default=None,
                   help="the file does not record causality; default: causal if its name contains 'causal'")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("live", help="real-time 3D poses from a camera or video (2D detection + streaming lifting)")
    p.add_argument("source", nargs="?", help="a video file (or use --camera)")
    p.add_argument("--camera", type=int, help="camera index, e.g. 0")
    p.add_argument("--model", help="a causal model name (default: gastnet_rf27_c32_causal.video, the shipped causal "
                                   "weights trained on video-like input)")
    p.add_argument("--checkpoint", help="a trained causal checkpoint (instead of --model)")
    p.add_argument("--no-display", action="store_true", help="headless: no window (record with --out)")
    p.add_argument("--out", help="record the view (video and 3D side by side) to this mp4")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--azimuth", type=float, default=30.0, help="viewing angle of the 3D panel, degrees")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads for lifting (default: %(default)s)")
    p.set_defaults(func=cmd_live)
