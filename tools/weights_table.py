"""Print the README's pretrained-weights section from src/gastnet/weights/index.json.

    python tools/weights_table.py
"""

from __future__ import annotations

from gastnet.evaluation.evaluate import H36M_ACTION_ORDER
from gastnet.model.weights import PRETRAINED

PAPER_HUMANEVA_P2 = {"Walking": (13.7, 9.2, 46.2), "Jog": (20.1, 12.5, 12.7), "Box": (21.8, 27.8, 27.0)}


def main() -> None:
    print("| model | data, 2D | epochs | CPU hours | Protocol #1 | Protocol #2 |")
    print("|---|---|---|---|---|---|")
    for name, w in sorted(PRETRAINED.items()):
        m = w.meta
        (key, metrics), = m["metrics"].items()
        causal = "causal, " if m["train_config"]["model"].get("name", "").endswith("_causal") else ""
        noise = m["train_config"]["train"].get("noise_std", 0)
        extra = f", 2D noise {noise:g}" if noise else ""
        if m.get("frame_rate_range"):
            lo, hi = m["frame_rate_range"]
            rate, extra = f"{lo:g}-{hi:g}", ", video-like: virtual cameras, bodies, detector joints and errors"
        else:
            rate = f"{m['frame_rate']:g}"
        init = m["train_config"]["train"].get("init")
        epochs = f"{m['epochs']} (fine-tuning `{init}`)" if init else m["epochs"]
        source = "mocap through virtual and real cameras" if m.get("frame_rate_range") else "ground-truth 2D"
        print(f"| `{name}` | {key.split('_')[0]}, {source} ({causal}{rate} fps{extra}) | "
              f"{epochs} | {m['wall_time_h']:.1f} | {metrics['protocol1_mm']:.1f} | {metrics['protocol2_mm']:.1f} |")
    print()
    robust = {name: {r["input_noise"]: r for r in w.meta["robustness"]} for name, w in sorted(PRETRAINED.items())
              if "robustness" in w.meta}
    levels = sorted({std for rows in robust.values() for std in rows})
    if robust:
        print("Protocol #1 / #2 (mm) on S9 and S11 with Gaussian noise added to the ground-truth 2D (standard")
        print("deviation in normalised units; 0.01 is 5 px on Human3.6M's 1000 px wide images; every cell:")
        print("`gastnet evaluate MODEL --dataset h36m --input-noise STD --data-dir ../shared/data`):\n")
        side_by_side("no noise", [f"noise {std:g}" for std in levels], robust, levels)
    cross_dataset_tables()
    for name, w in sorted(PRETRAINED.items()):
        (key, metrics), = w.meta["metrics"].items()
        groups = metrics["per_group"]
        print(f"`{name}` ({metrics['command']}):\n")
        if key.startswith("h36m"):
            actions = [a for a in H36M_ACTION_ORDER if a in groups]
            print("| mm | " + " | ".join(actions) + " | Avg |")
            print("|---" * (len(actions) + 2) + "|")
            for label, field in (("Protocol #1", "protocol1_mm"), ("Protocol #2", "protocol2_mm")):
                cells = [f"{groups[a][field]:.1f}" for a in actions]
                print(f"| {label} | " + " | ".join(cells) + f" | {metrics[field]:.1f} |")
        else:
            cols = [f"{a} S{s}" for a in ("Walking", "Jog", "Box") for s in (1, 2, 3)]
            print("| Protocol #2 (mm) | " + " | ".join(cols) + " |")
            print("|---" * (len(cols) + 1) + "|")
            print("| this model, ground-truth 2D | " + " | ".join(f"{groups[c]['protocol2_mm']:.1f}" for c in cols) + " |")
            print("| paper (Table IV), detected 2D | " + " | ".join(
                f"{PAPER_HUMANEVA_P2[c.split()[0]][int(c[-1]) - 1]:.1f}" for c in cols) + " |")
        print()


def _pair(row: dict) -> str:
    return f"{row['protocol1_mm']:.1f} / {row['protocol2_mm']:.1f}"


def side_by_side(clean_title: str, titles: list[str], results: dict[str, dict], keys: list) -> None:
    """A table of Protocol #1 / #2 per model: its clean Human3.6M result, then ``results[model][key]``."""
    print(f"| model | {clean_title} | " + " | ".join(titles) + " |")
    print("|---" * (len(titles) + 2) + "|")
    for model, rows in results.items():
        (clean,) = PRETRAINED[model].meta["metrics"].values()
        print(f"| `{model}` | {_pair(clean)} | " + " | ".join(_pair(rows[k]) if k in rows else "" for k in keys) + " |")
    print()


def cross_dataset_tables() -> None:
    """The cross-dataset benchmarks side by side (``tools/record_cross_dataset.py`` stores them)."""
    cross = {name: w.meta["cross_dataset"] for name, w in sorted(PRETRAINED.items()) if "cross_dataset" in w.meta}
    if not cross:
        return
    names = [b for b in ("h36m-vcam", "cmu-vcam", "humaneva-cross") if any(b in r for r in cross.values())]
    print("Protocol #1 / #2 (mm) on data the models never trained on (`gastnet evaluate MODEL --dataset NAME "
          "--data-dir ../shared/data`), beside Human3.6M S9/S11 through its real cameras:\n")
    side_by_side("h36m (real cameras)", names, cross, names)
    for bench in ("h36m-vcam", "cmu-vcam"):
        labels = list(next((r[bench]["breakdown"] for r in cross.values() if bench in r), {}))
        if not labels:
            continue
        print(f"{bench}, Protocol #2 (mm) by camera elevation and by where the hips are in the image:\n")
        print("| model | " + " | ".join(labels) + " |")
        print("|---" * (len(labels) + 1) + "|")
        for model, rows in cross.items():
            if bench in rows:
                print(f"| `{model}` | " + " | ".join(f"{rows[bench]['breakdown'][k]['protocol2_mm']:.1f}" for k in labels) + " |")
        print()


if __name__ == "__main__":
    main()
