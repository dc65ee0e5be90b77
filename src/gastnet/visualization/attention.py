"""The global attention B_k of one joint across the layers (the paper's Fig. 7), as a PNG."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..model.gastnet import GASTNet  # noqa: E402
from ..model.layers import GlobalAttention  # noqa: E402
from .figure import save_figure  # noqa: E402

__all__ = ["attention_maps", "plot_attention"]


@torch.no_grad()
def attention_maps(model: GASTNet, window: torch.Tensor) -> list[np.ndarray]:
    """B_k (softmaxed, without C_k) of every graph attention block for the centre frame of a window.

    ``window`` (RF, J, 2) normalised coordinates; returns one (K, J, J) array per block.
    """
    maps: list[np.ndarray] = []

    def hook(module: GlobalAttention, inputs, _output) -> None:
        scores = torch.softmax(module.scores(inputs[0]), dim=-1)  # (1, T_l, K, J, J)
        centre = scores.shape[1] - 1 if model.causal else (scores.shape[1] - 1) // 2
        maps.append(scores[0, centre].cpu().numpy())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, GlobalAttention) and m.adaptive]
    if not handles:
        raise ValueError("this model has no adaptive global attention (B_k) to show")
    form = model.form
    try:
        model.eval()
        model.form = "strided"
        model(window[None])
    finally:
        model.form = form
        for h in handles:
            h.remove()
    return maps


def plot_attention(model: GASTNet, window: torch.Tensor, joint: int, path: str | os.PathLike[str]) -> Path:
    """Heat map: for every block and head, how much ``joint`` attends to each joint."""
    maps = attention_maps(model, window)
    names = model.skeleton.joint_names
    rows = np.concatenate([m[:, joint] for m in maps])  # (blocks * K, J)
    heads = maps[0].shape[0]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5), dpi=100)
    image = ax.imshow(rows, cmap="viridis", aspect="auto", vmin=0)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [f"block {b} head {h}" for b in range(len(maps)) for h in range(heads)], fontsize=7)
    ax.set_title(f"global attention B_k of {names[joint]} (rows sum to 1)")
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return save_figure(fig, path)
