"""The ``gastnet`` command: argument parsing and reporting. All work is done by library calls."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import gastnet
from gastnet.cli.deploy import add_commands as add_deploy_commands
from gastnet.cli.practice import add_commands as add_practice_commands
from gastnet.cli.research import add_commands as add_research_commands
from gastnet.pipeline.options import DEFAULT_MODELS


def _cmd_models(args: argparse.Namespace) -> int:
    from gastnet.model.weights import DEFAULT_TAGS, PRETRAINED, pretrained_tags

    if args.pretrained:
        for name in gastnet.list_models(args.pattern, pretrained=True):
            weights = PRETRAINED[name]
            default = " (default)" if DEFAULT_TAGS.get(weights.arch) == weights.tag else ""
            print(f"{name:36s} {weights.description}{default}")
        return 0
    for name in gastnet.list_models(args.pattern):
        tags = [t + ("*" if DEFAULT_TAGS.get(name) == t else "") for t in pretrained_tags(name)]
        mark = f" [weights: {', '.join(tags)}]" if tags else ""
        print(f"{name:34s} {gastnet.get_model_spec(name).description}{mark}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from gastnet.model import split_model_name
    from gastnet.model.weights import DEFAULT_TAGS, get_weights, pretrained_tags

    arch, tag = split_model_name(args.model)
    spec = gastnet.get_model_spec(arch)
    model = gastnet.create_model(arch)
    cfg = model.config
    print(f"model:            {spec.name}")
    print(f"description:      {spec.description}")
    print(f"receptive field:  {model.receptive_field} frames")
    print(f"filter widths:    {', '.join(map(str, model.filter_widths))}")
    print(f"channels:         {cfg['channels']} (final width {model.head.in_features})")
    print(f"parameters:       {gastnet.count_parameters(model):,}")
    print(f"skeleton:         {model.skeleton.name} ({model.num_joints} joints)")
    print(f"causal:           {model.causal}")
    print(f"local graphs:     {', '.join(cfg['local_graphs']) or 'none'}")
    print(f"global attention: B_k {'on' if cfg['adaptive_attention'] else 'off'}, "
          f"C_k {'on' if cfg['learned_attention'] else 'off'}, {cfg['num_heads']} heads")
    print(f"dropout:          {cfg['dropout']}")
    tags = [t + (" (default)" if DEFAULT_TAGS.get(arch) == t else "") for t in pretrained_tags(arch)]
    print(f"weights:          {', '.join(tags) or 'none shipped'}")
    if tag is not None:
        w = get_weights(f"{arch}.{tag}")
        print(f"\n{w.name}: {w.description}")
        print(f"training data:    {w.training_data}")
        print(f"2D:               {w.keypoints_2d}")
        if w.frame_rates is not None:
            low, high = w.frame_rates
            print(f"frame rate:       {low:g} fps" if low == high else f"frame rates:      {low:g}-{high:g} fps")
        for m in w.metrics:
            print(f"{m.name + ':':17s} Protocol #1 {m.protocol1_mm:.1f} mm, #2 {m.protocol2_mm:.1f} mm ({m.command})")
        print(f"licence:          {w.licence}")
    return 0


def _replace_renamed(args: argparse.Namespace) -> None:
    """Old model names given on the command line: replaced by their new ones, with a note (not an error)."""
    from gastnet.model.weights import RENAMED

    for key in ("model", "checkpoint", "source"):
        value = getattr(args, key, None)
        if isinstance(value, str) and value in RENAMED and not Path(value).exists():
            print(f"gastnet {args.command}: note: the model name {value} is deprecated and goes in the next release; "
                  f"using {RENAMED[value]}", file=sys.stderr)
            setattr(args, key, RENAMED[value])


DEMO_FILES = ("poses.npz", "poses.json", "demo.gif", "demo_sheet.png")
"""What ``gastnet demo`` writes (a rerun replaces them whole)."""

DEMO_STEP = 2
"""``gastnet demo`` animates every DEMO_STEP-th frame."""


def _cmd_demo(args: argparse.Namespace) -> int:
    import warnings

    from gastnet.evaluation.metrics import mpjpe, p_mpjpe
    from gastnet.examples import load_demo_sample
    from gastnet.extras import missing
    from gastnet.fileio import matching_files, output_set
    from gastnet.pipeline.options import LiftOptions
    from gastnet.pipeline.recording import lift

    sample = load_demo_sample()
    out = Path(args.out)
    renders = not missing("plot")  # said before the work: the demo goes on without its renders
    if not renders:
        print('no renders: matplotlib is missing (pip install "gastnet[plot]")')
    width, height = (int(v) for v in sample["image_size"])
    options = LiftOptions(layout="h36m", image_size=(width, height), fps=float(sample["fps"]), model=args.model,
                          focal_length=float(sample["focal_length"]), fit=not args.no_fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lift(sample["keypoints_2d"], options)
    person = result.people[0]
    print(f"demo input: {sample['source']}")
    for note in result.notes:
        print(note)
    error = 1000 * float(mpjpe(person.poses_camera, sample["poses_3d"]))
    aligned = 1000 * float(p_mpjpe(person.poses_camera, sample["poses_3d"]))
    print(f"error against the motion capture: MPJPE {error:.1f} mm, P-MPJPE {aligned:.1f} mm "
          f"(a different subject and skeleton than the training data)")
    earlier = matching_files(out, DEMO_FILES)
    with output_set(out, DEMO_FILES, overwrite=True) as stage:  # a rerun replaces the demo's own files, whole
        written = result.save(stage, ("npz", "json"))
        if renders:
            from gastnet.visualization.render import RenderOptions, contact_sheet, render_animation

            keypoints, world = result.padded("keypoints_2d", 2), result.padded("poses_world", 3)
            size = result.image_size
            render = RenderOptions(fps=result.fps, step=args.step)
            written.append(render_animation(stage / "demo.gif", keypoints, world, size, render, progress=True))
            # the sheet keeps its earlier axes smoothing and trail: those of the default render rate
            written.append(contact_sheet(stage / "demo_sheet.png", keypoints, world, size, RenderOptions()))
    paths = [out / p.name for p in written]
    if earlier:
        print(f"replaced the earlier demo results in {out}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gastnet", description="Lift 2D human keypoint sequences to 3D poses with GAST-Net."
    )
    parser.add_argument("--version", action="version", version=f"gastnet {gastnet.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("models", help="list the registered architectures and the tags of their shipped weights")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'gastnet_rf27*'")
    p.add_argument("--pretrained", action="store_true",
                   help="list every name.tag with shipped weights and what it was trained on")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("info", help="receptive field, parameter count and widths of a model; what its weights are")
    p.add_argument("model", help="a registered model name, or name.tag for its weights too (see 'gastnet models')")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="lift the built-in example (a real walk, 4 s), render it, save the poses")
    p.add_argument("--out", default="gastnet_demo", help="output folder (default: %(default)s)")
    p.add_argument("--model", default=None, help=f"model name (default: {DEFAULT_MODELS[False]}, the shipped weights "
                                                 "made for video, trained on video-like input)")
    p.add_argument("--step", type=int, default=DEMO_STEP, help="render every n-th frame (default: %(default)s)")
    p.add_argument("--no-fit", action="store_true", help="skip the kinematic fit, as 'gastnet lift --no-fit' does "
                                                         "(the error is then the network's alone)")
    p.set_defaults(func=_cmd_demo)

    add_research_commands(sub)
    add_deploy_commands(sub)
    add_practice_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _replace_renamed(args)

    # SIGTERM unwinds like Ctrl-C: staging folders and temporary files are removed
    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted) if threading.current_thread() is threading.main_thread() else None
    try:
        return args.func(args)
    except (ValueError, OSError) as err:  # bad input; a full disk, a missing permission
        print(f"gastnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gastnet {args.command}: interrupted; no partial outputs were left", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
