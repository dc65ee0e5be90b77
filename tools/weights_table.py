"""Print the README's pretrained-weights section from src/gastnet/weights/index.json.

    python tools/weights_table.py
"""

from __future__ import annotations

from gastnet.evaluation.cross_dataset import BENCHMARKS
from gastnet.evaluation.evaluate import H36M_ACTION_ORDER
from gastnet.model.registry import get_model_spec
from gastnet.model.weights import DEFAULT_TAGS, PRETRAINED, RENAMED, Metric

PAPER_HUMANEVA_P2 = {"Walking": (13.7, 9.2, 46.2), "Jog": (20.1, 12.5, 12.7), "Box": (21.8, 27.8, 27.0)}


def weights_name(name: str) -> str:
    """The ``architecture.tag`` a model name of a training config (``train.init``) stands for."""
    return RENAMED.get(name) or (f"{name}.{DEFAULT_TAGS[name]}" if name in DEFAULT_TAGS else name)


def main() -> None:
    print("| weights | data, 2D | epochs | CPU hours | Protocol #1 | Protocol #2 |")
    print("|---|---|---|---|---|---|")
    for name, w in sorted(PRETRAINED.items()):
        headline = w.metrics[0]
        causal = "causal, " if get_model_spec(w.arch).config.get("causal") else ""
        noise = w.train_config["train"].get("noise_std", 0)
        extra = f", 2D noise {noise:g}" if noise else ""
        low, high = w.frame_rates
        video = low != high
        if video:
            rate, extra = f"{low:g}-{high:g}", ", video-like: virtual cameras, bodies, detector joints and errors"
        else:
            rate = f"{low:g}"
        init = w.train_config["train"].get("init")
        epochs = f"{w.epochs} (fine-tuning `{weights_name(init)}`)" if init else w.epochs
        source = "mocap through virtual and real cameras" if video else "ground-truth 2D"
        print(f"| `{name}` | {headline.dataset}, {source} ({causal}{rate} fps{extra}) | "
              f"{epochs} | {w.wall_time_h:.1f} | {headline.protocol1_mm:.1f} | {headline.protocol2_mm:.1f} |")
    print()
    robust = {name: {m.input_noise: m for m in w.metrics if m.input_noise > 0} for name, w in sorted(PRETRAINED.items())}
    robust = {name: rows for name, rows in robust.items() if rows}
    levels = sorted({std for rows in robust.values() for std in rows})
    if robust:
        print("Protocol #1 / #2 (mm) on S9 and S11 with Gaussian noise added to the ground-truth 2D (standard")
        print("deviation in normalised units; 0.01 is 5 px on Human3.6M's 1000 px wide images; every cell:")
        print("`gastnet evaluate WEIGHTS --dataset h36m --input-noise STD --data-dir ../shared/data`):\n")
        side_by_side("no noise", [f"noise {std:g}" for std in levels], robust, levels)
    cross_dataset_tables()
    for name, w in sorted(PRETRAINED.items()):
        headline = w.metrics[0]
        groups = headline.details["per_group"]
        print(f"`{name}` ({headline.command}):\n")
        if headline.dataset == "h36m":
            actions = [a for a in H36M_ACTION_ORDER if a in groups]
            print("| mm | " + " | ".join(actions) + " | Avg |")
            print("|---" * (len(actions) + 2) + "|")
            for label, field in (("Protocol #1", "protocol1_mm"), ("Protocol #2", "protocol2_mm")):
                cells = [f"{groups[a][field]:.1f}" for a in actions]
                print(f"| {label} | " + " | ".join(cells) + f" | {getattr(headline, field):.1f} |")
        else:
            cols = [f"{a} S{s}" for a in ("Walking", "Jog", "Box") for s in (1, 2, 3)]
            print("| Protocol #2 (mm) | " + " | ".join(cols) + " |")
            print("|---" * (len(cols) + 1) + "|")
            print("| this model, ground-truth 2D | " + " | ".join(f"{groups[c]['protocol2_mm']:.1f}" for c in cols) + " |")
            print("| paper (Table IV), detected 2D | " + " | ".join(
                f"{PAPER_HUMANEVA_P2[c.split()[0]][int(c[-1]) - 1]:.1f}" for c in cols) + " |")
        print()


def _pair(metric: Metric) -> str:
    return f"{metric.protocol1_mm:.1f} / {metric.protocol2_mm:.1f}"


def side_by_side(clean_title: str, titles: list[str], results: dict[str, dict], keys: list) -> None:
    """A table of Protocol #1 / #2 per set of weights: its headline result, then ``results[name][key]``."""
    print(f"| weights | {clean_title} | " + " | ".join(titles) + " |")
    print("|---" * (len(titles) + 2) + "|")
    for name, rows in results.items():
        clean = PRETRAINED[name].metrics[0]
        print(f"| `{name}` | {_pair(clean)} | " + " | ".join(_pair(rows[k]) if k in rows else "" for k in keys) + " |")
    print()


def cross_dataset_tables() -> None:
    """The cross-dataset benchmarks side by side (``tools/record_cross_dataset.py`` stores them)."""
    cross = {name: {m.dataset: m for m in w.metrics if m.dataset in BENCHMARKS} for name, w in sorted(PRETRAINED.items())}
    cross = {name: rows for name, rows in cross.items() if rows}
    if not cross:
        return
    names = [b for b in BENCHMARKS if any(b in r for r in cross.values())]
    print("Protocol #1 / #2 (mm) on data the models never trained on (`gastnet evaluate WEIGHTS --dataset NAME "
          "--data-dir ../shared/data`), beside Human3.6M S9/S11 through its real cameras:\n")
    side_by_side("h36m (real cameras)", names, cross, names)
    for bench in ("h36m-vcam", "cmu-vcam"):
        labels = list(next((r[bench].details["breakdown"] for r in cross.values() if bench in r), {}))
        if not labels:
            continue
        print(f"{bench}, Protocol #2 (mm) by camera elevation and by where the hips are in the image:\n")
        print("| weights | " + " | ".join(labels) + " |")
        print("|---" * (len(labels) + 1) + "|")
        for name, rows in cross.items():
            if bench in rows:
                print(f"| `{name}` | " + " | ".join(f"{rows[bench].details['breakdown'][k]['protocol2_mm']:.1f}"
                                                   for k in labels) + " |")
        print()


if __name__ == "__main__":
    main()
