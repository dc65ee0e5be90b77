"""The ``gastnet`` command: argument parsing and reporting. All work is done by library calls."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import gastnet
from gastnet.cli.deploy import add_commands as add_deploy_commands
from gastnet.cli.practice import add_commands as add_practice_commands
from gastnet.cli.research import add_commands as add_research_commands


def _cmd_models(args: argparse.Namespace) -> int:
    for name in gastnet.list_models(args.pattern):
        print(f"{name:34s} {gastnet.get_model_spec(name).description}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    spec = gastnet.get_model_spec(args.model)
    model = gastnet.create_model(args.model)
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
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import torch

    from gastnet.camera import normalize_screen_coordinates
    from gastnet.examples import synthetic_walk_2d
    from gastnet.fileio import save_npz

    torch.manual_seed(0)
    width = height = 1000
    keypoints = synthetic_walk_2d(args.frames, (width, height))
    model = gastnet.create_model(args.model).eval()
    inputs = torch.from_numpy(normalize_screen_coordinates(keypoints, width, height))[None]
    with torch.no_grad():
        poses = model.forward_sequence(inputs)[0].numpy()
    out = save_npz(Path(args.out) / "demo_poses.npz", keypoints_2d=keypoints, poses_3d=poses)
    print(f"lifted a built-in synthetic walk: {args.frames} frames of {model.num_joints} joints "
          f"with {args.model} (receptive field {model.receptive_field})")
    print("note: the weights are random (no pretrained weights ship yet), so the 3D poses are not meaningful")
    print(f"wrote {out}: keypoints_2d {keypoints.shape} pixels, poses_3d {poses.shape}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gastnet", description="Lift 2D human keypoint sequences to 3D poses with GAST-Net."
    )
    parser.add_argument("--version", action="version", version=f"gastnet {gastnet.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("models", help="list the registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'gastnet_rf27*'")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("info", help="receptive field, parameter count and widths of a model")
    p.add_argument("model", help="a registered model name (see 'gastnet models')")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="lift a built-in example sequence and save the result")
    p.add_argument("--out", default="gastnet_out", help="output folder (default: %(default)s)")
    p.add_argument("--model", default="gastnet_rf27", help="model name (default: %(default)s)")
    p.add_argument("--frames", type=int, default=100, help="length of the example (default: %(default)s)")
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
    try:
        return args.func(args)
    except ValueError as err:
        print(f"gastnet {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
