"""Training curves as a PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .figure import save_figure  # noqa: E402

__all__ = ["plot_training_curves"]


def plot_training_curves(history: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Plot train/test MPJPE (mm) and the learning rate against the epoch; written atomically."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key, label in (("train_mpjpe_mm", "train MPJPE"), ("test_mpjpe_mm", "test MPJPE")):
        points = [(row["epoch"], row[key]) for row in history if key in row]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (mm)")
    ax.grid(alpha=0.3)
    rates = [(row["epoch"], row["lr"]) for row in history if "lr" in row]
    if rates:
        lr_ax = ax.twinx()
        lr_ax.plot(*zip(*rates), color="grey", linestyle="--", linewidth=1, label="learning rate")
        lr_ax.set_ylabel("learning rate")
        lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    ax.legend(loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path)
