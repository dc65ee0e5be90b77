"""Building blocks of GAST-Net's graph attention block.

All layers work on channels-last tensors ``(..., J, C)``: any number of leading axes (batch,
time), then joints, then feature channels. A 1 x 1 convolution of the paper is therefore a
:class:`torch.nn.Linear` on the last axis, and BatchNorm normalises every channel over all
leading axes and joints (:class:`ChannelBatchNorm`), exactly as ``BatchNorm2d`` does on the
paper's ``(B, C, T, J)`` layout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Skeleton
from .graph import graph_matrix
from .ops import Dropout, contiguous_grad, linear_parts, relu

__all__ = [
    "derived",
    "ChannelBatchNorm",
    "Pointwise",
    "SemanticGraphConv",
    "LocalAttention",
    "GlobalAttention",
    "GraphAttentionBlock",
]


def derived(module: nn.Module, name: str, sources: Sequence[torch.Tensor], compute: Callable[[], Any]) -> Any:
    """``compute()``, a value derived from parameters only, cached while they do not change.

    The cache is used in eval mode without autograd (inference, where the same derived weights,
    such as softmaxed graph matrices, would otherwise be recomputed for every frame); it is keyed
    on the storage and version counter of ``sources``, so in-place updates and loaded state
    dicts invalidate it. In training it always recomputes.
    """
    if module.training or torch.is_grad_enabled():
        return compute()
    # inference tensors carry no version counter; they cannot change outside inference mode
    key = tuple((t.data_ptr(), -1 if t.is_inference() else t._version, t.dtype, t.device) for t in sources)
    cache = module.__dict__.setdefault("_derived_cache", {})
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    cache[name] = (key, value)
    return value


class ChannelBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last axis of a channels-last tensor ``(..., C)`` (momentum 0.1)."""

    # always tracked here (track_running_stats=True), never None as in the base class
    running_mean: torch.Tensor
    running_var: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).view(x.shape)

    def eval_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode ``(scale, shift)``: the normalisation is ``x * scale + shift``."""
        scale = self.weight / torch.sqrt(self.running_var + self.eps)
        return scale, self.bias - scale * self.running_mean


def folding(module: nn.Module, norm: nn.Module) -> bool:
    """True where ``norm`` (a BatchNorm still present) may be folded into the layer before it on the fly:
    eval mode without autograd (inference), the same function as applying it."""
    return isinstance(norm, ChannelBatchNorm) and not module.training and not torch.is_grad_enabled()


def fold_norm(
    module: nn.Module, name: str, norm: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None,
    channel_dim: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(weight, bias)`` of a linear layer with the eval-mode ``norm`` (a :class:`ChannelBatchNorm`,
    as :func:`folding` checked) after it folded in (output channels along ``channel_dim`` of
    ``weight``), cached while nothing they derive from changes."""
    norm = cast(ChannelBatchNorm, norm)
    sources = [weight, norm.weight, norm.bias, norm.running_mean, norm.running_var] + ([] if bias is None else [bias])

    def compute() -> tuple[torch.Tensor, torch.Tensor]:
        scale, shift = norm.eval_affine()
        shape = [1] * weight.ndim
        shape[channel_dim] = -1
        return weight * scale.view(shape), shift if bias is None else bias * scale + shift

    return derived(module, name, sources, compute)


class Pointwise(nn.Module):
    """1 x 1 convolution without bias, BatchNorm, ReLU and optional dropout: ``(..., C_in) -> (..., C_out)``."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels, bias=False)
        self.norm: nn.Module = ChannelBatchNorm(out_channels)  # nn.Identity once fused (model/fusion.py)
        self.dropout = Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        """``parts`` are concatenated along channels (without a copy, see :func:`linear_parts`)."""
        weight, bias = self.linear.weight, self.linear.bias
        if folding(self, self.norm):
            y = linear_parts(parts, *fold_norm(self, "norm", self.norm, weight, bias))
        else:
            y = self.norm(linear_parts(parts, weight, bias))
        return self.dropout(relu(y))


class SemanticGraphConv(nn.Module):
    """Channel-wise semantic graph convolution over the non-zeros of a mask (local attention).

    For each output channel ``c`` a softmax over the source joints of every target joint turns
    learnable logits (one per channel and non-zero of ``mask``, initialised to 1) into a J x J
    matrix ``S_c``; then ``y[i, c] = S_c[i, i] (x W0)[i, c] + sum_{j != i} S_c[i, j] (x W1)[j, c]``.

    Args:
        in_channels, out_channels: feature widths.
        mask: bool (J, J), True where target joint i (row) may read source joint j (column);
            the diagonal must be set.

    Shapes: ``(..., J, in_channels) -> (..., J, out_channels)``.
    """

    def __init__(self, in_channels: int, out_channels: int, mask: torch.Tensor) -> None:
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.bool)
        if mask.ndim != 2 or mask.shape[0] != mask.shape[1] or not bool(mask.diagonal().all()):
            raise ValueError(f"mask must be a square bool matrix with a full diagonal, got shape {tuple(mask.shape)}")
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(2, in_channels, out_channels))
        nn.init.xavier_uniform_(self.weight, gain=1.414)
        flat_index = mask.flatten().nonzero().flatten()  # positions of the non-zeros in a J*J row
        self.logits = nn.Parameter(torch.ones(out_channels, flat_index.numel()))
        self.register_buffer("flat_index", flat_index, persistent=False)
        self.register_buffer("eye", torch.eye(mask.shape[0], dtype=torch.bool), persistent=False)
        self.bias: nn.Parameter | None = None  # only set when a BatchNorm is folded in (see fusion.py)
        self.flat_index: torch.Tensor
        self.eye: torch.Tensor

    @property
    def num_joints(self) -> int:
        return self.eye.shape[0]

    def attention(self) -> torch.Tensor:
        """The softmaxed per-channel matrices ``S``: (out_channels, J, J), rows sum to 1."""
        j = self.num_joints
        full = self.logits.new_full((self.out_channels, j * j), float("-inf"))
        full = full.index_copy(1, self.flat_index, self.logits)
        return torch.softmax(full.view(-1, j, j), dim=-1)

    def _split_attention(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Self-loop weights (J, C) and transposed neighbour matrices (C, J_source, J_target)."""
        s = self.attention()
        return s.diagonal(dim1=1, dim2=2).t(), s.masked_fill(self.eye, 0.0).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``weight``/``bias`` replace the layer's own (a BatchNorm folded in on the fly)."""
        if weight is None:
            weight, bias = self.weight, self.bias
        c, j = self.out_channels, self.num_joints
        flat = x.reshape(-1, x.shape[-1])  # (N * J, C_in)
        h_self = (flat @ weight[0]).view(*x.shape[:-1], c)
        # neighbour features channel-major, (C, N, J), straight from the matrix product, so that
        # each channel's J x J matrix applies as one batched product without a transposing copy
        h_neighbours = (weight[1].t() @ flat.t()).view(c, -1, j)
        diagonal, off_diagonal = derived(self, "split", [self.logits], self._split_attention)
        neighbours = contiguous_grad(torch.bmm(h_neighbours, off_diagonal))  # (C, N, J)
        out = h_self * diagonal + neighbours.permute(1, 2, 0).view(x.shape[:-1] + (c,))
        return out if bias is None else out + bias


class LocalAttention(nn.Module):
    """Local branch: one semantic graph convolution per graph, then a fusing 1 x 1 convolution.

    Shapes: ``(..., J, C) -> (..., J, C)``.
    """

    def __init__(self, channels: int, skeleton: Skeleton, graphs: Sequence[str], dropout: float = 0.0) -> None:
        super().__init__()
        if not graphs:
            raise ValueError("LocalAttention needs at least one graph")
        self.graphs = tuple(graphs)
        self.convs = nn.ModuleList(SemanticGraphConv(channels, channels, graph_matrix(skeleton, g)) for g in graphs)
        self.norms = nn.ModuleList(ChannelBatchNorm(channels) for _ in graphs)
        self.fuse = Pointwise(len(graphs) * channels, channels, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        convs = cast(Sequence[SemanticGraphConv], self.convs)
        for i, (conv, norm) in enumerate(zip(convs, self.norms)):
            if folding(self, norm):
                parts.append(relu(conv(x, *fold_norm(self, f"norm{i}", norm, conv.weight, conv.bias, 2))))
            else:
                parts.append(relu(norm(conv(x))))
        return self.fuse(*parts)


class GlobalAttention(nn.Module):
    """Global branch: K-head attention ``(B_k + C_k) g_k(x)`` over all joints of a frame.

    ``B_k[i, j] = softmax_j LeakyReLU_0.2(w_f . [theta_k(x_i) || phi_k(x_j)])`` is computed without
    forming the pairs: ``w_f = [a_k || b_k]`` splits the score into ``a_k . theta_k(x_i)`` plus
    ``b_k . phi_k(x_j)``, and each of those is one linear map of ``x`` (the weights of theta and
    phi folded with ``a_k`` and ``b_k``), so the cost is O(J C K) instead of O(J^2 C).

    Args:
        channels: feature width D (divisible by ``num_heads``).
        num_joints: J, the size of the learned matrices ``C_k``.
        num_heads: K.
        adaptive: use the data-dependent ``B_k``.
        learned: use the learned ``C_k`` (initialised to zero, added after the softmax).

    Shapes: ``(..., J, D) -> (..., J, D)``.
    """

    def __init__(
        self,
        channels: int,
        num_joints: int,
        num_heads: int = 4,
        adaptive: bool = True,
        learned: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if not (adaptive or learned):
            raise ValueError("GlobalAttention needs B_k (adaptive) or C_k (learned) or both")
        self.num_heads = num_heads
        self.head_dim = channels // num_heads
        self.adaptive, self.learned = adaptive, learned
        if adaptive:
            self.theta = nn.Linear(channels, channels)
            self.phi = nn.Linear(channels, channels)
            self.w_f = nn.Parameter(torch.empty(num_heads, 2 * self.head_dim))
            bound = 1.0 / math.sqrt(2 * self.head_dim)
            nn.init.uniform_(self.w_f, -bound, bound)
        self.g = nn.Linear(channels, channels)
        for lin in (self.theta, self.phi, self.g) if adaptive else (self.g,):
            nn.init.kaiming_normal_(lin.weight)
            nn.init.zeros_(lin.bias)
        if learned:
            self.C = nn.Parameter(torch.zeros(num_heads, num_joints, num_joints))
        self.out = Pointwise(channels, channels, dropout)

    def _folded(self, lin: nn.Linear, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``w_k . lin_k(x) = x . u_k + c_k``: returns u (K, D) and c (K,)."""
        k, h = self.num_heads, self.head_dim
        u = torch.einsum("kh,khd->kd", w, lin.weight.view(k, h, -1))
        c = (w * lin.bias.view(k, h)).sum(-1)
        return u, c

    def _score_projection(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight (2K, D) and bias (2K,) giving the i-terms (first K) and j-terms (last K) of the scores."""
        h = self.head_dim
        u, cu = self._folded(self.theta, self.w_f[:, :h])
        v, cv = self._folded(self.phi, self.w_f[:, h:])
        return torch.cat([u, v]), torch.cat([cu, cv])

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-softmax scores ``LeakyReLU(w_f . [theta(x_i) || phi(x_j)])``: (..., K, J, J)."""
        k = self.num_heads
        sources = [self.w_f, self.theta.weight, self.theta.bias, self.phi.weight, self.phi.bias]
        weight, bias = derived(self, "scores", sources, self._score_projection)
        # contiguous (a small copy), so that the pairwise sums below come out contiguous: softmax and
        # the elementwise passes over those K J^2 values run much slower on a permuted layout
        proj = F.linear(x, weight, bias).transpose(-1, -2).contiguous()  # (..., 2K, J)
        return F.leaky_relu(proj[..., :k, :, None] + proj[..., k:, None, :], 0.2)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The matrices ``B_k + C_k`` applied to ``g(x)``: (..., K, J, J) (``B_k`` rows sum to 1)."""
        if self.adaptive:
            att = torch.softmax(self.scores(x), dim=-1)
            return att + self.C if self.learned else att
        return self.C.expand(*x.shape[:-2], *self.C.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = self.g(x).unflatten(-1, (self.num_heads, self.head_dim)).transpose(-2, -3)  # (..., K, J, h)
        mixed = (self.attention(x) @ values).transpose(-2, -3).flatten(-2)  # (..., J, D)
        return self.out(mixed)


class GraphAttentionBlock(nn.Module):
    """Local and global branches beside the input, concatenated and fused: ``(..., J, D) -> (..., J, 2D)``."""

    def __init__(
        self,
        channels: int,
        skeleton: Skeleton,
        local_graphs: Sequence[str] = ("symmetric", "kinematic"),
        adaptive_attention: bool = True,
        learned_attention: bool = True,
        num_heads: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.local = LocalAttention(channels, skeleton, local_graphs, dropout) if local_graphs else None
        has_global = adaptive_attention or learned_attention
        self.glob = (
            GlobalAttention(channels, skeleton.num_joints, num_heads, adaptive_attention, learned_attention, dropout)
            if has_global
            else None
        )
        branches = 1 + (self.local is not None) + (self.glob is not None)
        self.fuse = Pointwise(branches * channels, 2 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x]
        if self.local is not None:
            parts.append(self.local(x))
        if self.glob is not None:
            parts.append(self.glob(x))
        return self.fuse(*parts)
