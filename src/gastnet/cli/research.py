"""Research commands: prepare, train, evaluate, ablate."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
from pathlib import Path

from ..fileio import atomic_path, folder_lock, remove_stale_temporaries

ABLATIONS = {
    "1": ["gastnet_rf27_ablation_plain", "gastnet_rf27_ablation_ac", "gastnet_rf27_ablation_ac_as",
          "gastnet_rf27_ablation_ac_as_bk", "gastnet_rf27"],
    "2": ["gastnet_rf27", "gastnet_rf27_ablation_no_ac", "gastnet_rf27_ablation_no_as"],
}


def _setup_logging() -> None:
    if int(os.environ.get("RANK", 0)) == 0:
        logging.basicConfig(level=logging.INFO, format="%(message)s")


def cmd_prepare(args: argparse.Namespace) -> int:
    from ..data.mocap import find_data_file, get_dataset_spec, resolve_data_dir
    from ..data.prepare import prepare_ground_truth_2d, prepare_h36m_from_cdf

    out_dir = Path(args.out)
    if args.what == "h36m":
        if not args.cdf_dir:
            raise ValueError("gastnet prepare h36m needs --cdf-dir (the folder holding S1, S5, ... of the original dataset)")
        path = prepare_h36m_from_cdf(args.cdf_dir, out_dir / "data_3d_h36m.npz", progress=True)
    else:
        dataset = "h36m" if args.what == "h36m-2d" else "humaneva"
        spec = get_dataset_spec(dataset)
        source = Path(args.data_3d) if args.data_3d else find_data_file(resolve_data_dir(args.data_dir), spec, spec.file_3d)
        if source is None:
            raise ValueError(f"no {spec.file_3d} found; pass --data-3d")
        path = prepare_ground_truth_2d(dataset, source, out_dir / spec.file_2d("gt"))
    print(f"wrote {path}")
    return 0


def _load_run_config(args: argparse.Namespace):
    from ..training.config import Config, apply_overrides, load_config
    from ..training.trainer import LAST, read_run_checkpoint

    checkpoint = None
    if args.resume:
        checkpoint = read_run_checkpoint(Path(args.out) / LAST)
        config = Config.from_dict(apply_overrides(checkpoint["config"], args.set or []))
        if args.config:
            logging.getLogger(__name__).info("resuming with the run's own config; %s is not read", args.config)
        return config, checkpoint
    if not args.config:
        raise ValueError("gastnet train needs a CONFIG file (see configs/), or --resume with --out")
    return load_config(args.config, args.set), checkpoint


def cmd_train(args: argparse.Namespace) -> int:
    from ..training.trainer import Trainer

    _setup_logging()
    config, checkpoint = _load_run_config(args)
    # one run per folder: a second `gastnet train` into it is refused (only rank 0 of a DDP run holds the lock)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with folder_lock(args.out, "gastnet train") if main_rank else contextlib.nullcontext():
        if main_rank:
            remove_stale_temporaries(args.out)  # half-written checkpoints of a killed run
        trainer = Trainer(config, args.out, data_dir=args.data_dir, resume=args.resume, checkpoint=checkpoint,
                          progress=not args.no_progress)
        history = trainer.run()
    if trainer.is_main:
        last = history[-1] if history else {}
        summary = ", ".join(f"{k} {v:.4g}" for k, v in last.items())
        print(f"finished: {summary}\noutputs in {args.out}")
    return 0


def _table_paths(out_dir: Path, stem: str, overwrite: bool) -> list[Path]:
    """The JSON and CSV result paths; ValueError if they exist and ``overwrite`` is off."""
    paths = [out_dir / f"{stem}.json", out_dir / f"{stem}.csv"]
    for path in paths:
        if path.exists() and not overwrite:
            raise ValueError(f"{path} already exists; pass --overwrite or choose another --out")
    return paths


def _results_dir(args: argparse.Namespace) -> Path:
    """``--out``, else the checkpoint's folder, else the current one (for a shipped model's name)."""
    if args.out:
        return Path(args.out)
    return Path(args.checkpoint).parent if Path(args.checkpoint).is_file() else Path(".")


def _write_table(table, out_dir: Path, stem: str, overwrite: bool) -> list[Path]:
    paths = _table_paths(out_dir, stem, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in zip(paths, (table.to_json(), table.to_csv())):
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    return paths


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation.cross_dataset import BENCHMARKS
    from ..evaluation.evaluate import evaluate_checkpoint

    if args.dataset in BENCHMARKS:
        return _cmd_benchmark(args)
    # the result files' names, checked before the (long) evaluation, not after it
    from ..data.mocap import get_dataset_spec
    from ..model.registry import create_model

    weights = create_model(args.checkpoint, pretrained=True).pretrained_weights
    trained = {} if weights is None else weights.train_config
    dataset = get_dataset_spec(args.dataset or trained.get("data", {}).get("dataset", "h36m")).name
    noise = f"_noise{args.input_noise:g}" if args.input_noise else ""
    _table_paths(_results_dir(args), f"eval_{dataset}_{args.keypoints}{noise}", args.overwrite)
    table = evaluate_checkpoint(args.checkpoint, args.dataset, args.keypoints, args.data_dir, args.downsample,
                                flip=not args.no_flip, progress=True, input_noise=args.input_noise)
    info = table.info
    out_dir = _results_dir(args)
    noise = f"_noise{args.input_noise:g}" if args.input_noise else ""
    paths = _write_table(table, out_dir, f"eval_{info['dataset']}_{info['keypoints']}{noise}", args.overwrite)
    print(f"{info['dataset']}: {', '.join(info['subjects'])}; {info['frames']} frames per camera view pooled; "
          f"downsampling {info['downsample']}; flip averaging {'on' if info['flip'] else 'off'}; {info['source']}"
          + (f"; 2D input noise {args.input_noise:g} (normalised units)" if args.input_noise else ""))
    print(table.to_markdown())
    print(f"wrote {paths[0]} and {paths[1]}")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from ..evaluation.cross_dataset import evaluate_benchmark

    if args.input_noise or args.downsample or args.keypoints != "gt":
        raise ValueError(f"--dataset {args.dataset} is a fixed benchmark: --input-noise, --downsample and "
                         "--keypoints do not apply")
    out_dir, stem = _results_dir(args), f"eval_{args.dataset}"
    _table_paths(out_dir, stem, args.overwrite)  # fail before the work, not after it
    table = evaluate_benchmark(args.checkpoint, args.dataset, args.data_dir, flip=not args.no_flip, progress=True)
    info = table.info
    paths = _write_table(table, out_dir, stem, args.overwrite)
    print(f"{args.dataset}: {info['clips']} clips, {info['frames']} frames at {'/'.join(f'{f:g}' for f in info['fps'])} fps; "
          f"{len(info['scored_joints'])} joints scored; flip averaging {'on' if info['flip'] else 'off'}")
    print(table.to_markdown(("mpjpe", "p_mpjpe")))
    print("| breakdown | frames | Protocol #1 (MPJPE) | Protocol #2 (P-MPJPE) |\n|---|---|---|---|")
    for label, row in info["breakdown"].items():
        print(f"| {label} | {row['frames']} | {row['mpjpe']:.1f} | {row['p_mpjpe']:.1f} |")
    print(f"wrote {paths[0]} and {paths[1]}")
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    from ..evaluation.evaluate import evaluate_checkpoint
    from ..training.config import load_config
    from ..training.trainer import Trainer

    _setup_logging()
    out_root = Path(args.out)
    rows = []
    for name in ABLATIONS[args.table]:
        config = load_config(args.config, [*(args.set or []), f'model.name="{name}"'])
        run_dir = out_root / name
        resume = (run_dir / "checkpoint_last.pt").exists()  # continue runs an earlier call began
        Trainer(config, run_dir, data_dir=args.data_dir, resume=resume, progress=not args.no_progress).run()
        table = evaluate_checkpoint(run_dir / "checkpoint_last.pt", data_dir=args.data_dir, flip=config.eval.flip)
        rows.append({"model": name, **table.average})
        print(f"{name}: Protocol #1 {table.average['mpjpe']:.1f} mm, Protocol #2 {table.average['p_mpjpe']:.1f} mm")
    lines = [f"| Table {args.table} variant | Protocol #1 (mm) | Protocol #2 (mm) |", "|---|---|---|"]
    lines += [f"| {r['model']} | {r['mpjpe']:.1f} | {r['p_mpjpe']:.1f} |" for r in rows]
    with atomic_path(out_root / f"ablation_table{args.table}.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    data_dir_help = "data folder (default: $GASTNET_DATA, else ../shared/data)"

    p = sub.add_parser("prepare", help="build the standard npz files (3D from CDF, ground-truth 2D)")
    p.add_argument("what", choices=["h36m", "h36m-2d", "humaneva-2d"],
                   help="h36m: data_3d_h36m.npz from the CDF files; h36m-2d / humaneva-2d: project 3D into data_2d_*_gt.npz")
    p.add_argument("--cdf-dir", help="folder with S1, S5, ... of the original Human3.6M (for 'h36m')")
    p.add_argument("--data-3d", help="the 3D file to project (default: found in the data folder)")
    p.add_argument("--data-dir", help=data_dir_help)
    p.add_argument("--out", default=".", help="output folder (default: the current one); existing files are never replaced")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("train", help="train a model from a config file (torchrun for several GPUs)")
    p.add_argument("config", nargs="?", help="TOML config, e.g. configs/h36m_rf27.toml")
    p.add_argument("--out", required=True, help="output folder for checkpoints, metrics and curves")
    p.add_argument("--set", nargs="*", metavar="SECTION.KEY=VALUE", help="override config fields, e.g. train.epochs=10")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--data-dir", help=data_dir_help)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="Protocol #1/#2, N-MPJPE and MPJVE tables for a checkpoint")
    p.add_argument("checkpoint", help="a checkpoint file (ours or the GAST-Net authors'), or shipped weights by name "
                                      "(name.tag, e.g. gastnet_rf27_c32.video; see 'gastnet models --pretrained')")
    p.add_argument("--dataset", choices=["h36m", "humaneva", "h36m-vcam", "cmu-vcam", "humaneva-cross"],
                   help="default: the dataset the checkpoint was trained on; h36m-vcam, cmu-vcam and humaneva-cross are "
                        "the cross-dataset benchmarks of Human3.6M-17 models (virtual cameras, another subject and skeleton)")
    p.add_argument("--keypoints", default="gt", help="2D source: data_2d_<dataset>_<keypoints>.npz (default: gt)")
    p.add_argument("--downsample", type=int, help="keep every n-th frame (default: as in training)")
    p.add_argument("--no-flip", action="store_true", help="no test-time flip averaging")
    p.add_argument("--input-noise", type=float, default=0.0, metavar="STD",
                   help="add fixed Gaussian noise to the 2D input (normalised units; 0.01 ~ 5 px at 1000 px width)")
    p.add_argument("--data-dir", help=data_dir_help)
    p.add_argument("--out", help="folder for the JSON and CSV tables (default: the checkpoint's folder)")
    p.add_argument("--overwrite", action="store_true", help="replace existing result files")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("ablate", help="train and evaluate the paper's Table I or II variants")
    p.add_argument("--table", choices=sorted(ABLATIONS), required=True)
    p.add_argument("--config", default=None, help="base config (default: built-in defaults); model.name is replaced")
    p.add_argument("--out", required=True)
    p.add_argument("--set", nargs="*", metavar="SECTION.KEY=VALUE")
    p.add_argument("--data-dir", help=data_dir_help)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_ablate)
