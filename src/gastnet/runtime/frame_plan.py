"""One frame of a causal GAST-Net as a short list of fused operations (the streaming engine).

:class:`~gastnet.runtime.streaming.StreamingLifter` computes, for every pushed frame, only
the newest frame of every layer: 17 rows per matrix product. At that size the cost is the
number of operations and how fast each weight is read, not the arithmetic, so :class:`FramePlan`
rewrites the network (BatchNorms folded, see :mod:`gastnet.model.fusion`) for one frame:

- a graph convolution mixes joints along the edges of its graph only (a joint has few
  neighbours), instead of through dense J x J matrices;
- every product reading an attention block's input (both weight matrices of each graph
  convolution, ``g``, the attention scores and the input's share of the block's fusing
  convolution) is one matrix product, split afterwards;
- the remaining products are oneDNN products with prepacked weights and the ReLU fused in
  (:class:`~gastnet.model.ops.PackedLinear`);
- a temporal layer keeps the frames its taps still need in a ring buffer per track.

The arithmetic is the model's (tests compare it with ``forward_sequence``); only the order of
the operations differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F

from ..model.fusion import fuse_batchnorm
from ..model.gastnet import GASTNet, TemporalBlock
from ..model.layers import GraphAttentionBlock, SemanticGraphConv
from ..model.ops import PackedLinear

__all__ = ["FramePlan", "RingBuffer"]


class RingBuffer:
    """The last ``(width - 1) * dilation + 1`` frames of one layer's input, per joint: (J, length, C).

    Created full of its first frame, as edge padding of the whole sequence would have it.
    """

    def __init__(self, first: torch.Tensor, width: int, dilation: int) -> None:
        length = (width - 1) * dilation + 1
        self.frames = first[:, None].expand(-1, length, -1).clone()
        self.position = 0  # slot of the newest frame
        self._index = [  # per newest slot: frames t - (width - 1) * dilation, ..., t, oldest first
            torch.tensor([(p - (width - 1 - k) * dilation) % length for k in range(width)], device=first.device)
            for p in range(length)
        ]

    def push(self, frame: torch.Tensor) -> None:
        """Append one frame (J, C), dropping the oldest."""
        self.position = (self.position + 1) % self.frames.shape[1]
        self.frames[:, self.position] = frame

    def taps(self) -> torch.Tensor:
        """The taps of the newest frame side by side per joint: (J, width * C), oldest first."""
        return self.frames.index_select(1, self._index[self.position]).flatten(1)


class _AttentionStep:
    """A graph attention block on one frame: (J, D) -> (J, 2D)."""

    def __init__(self, block: GraphAttentionBlock) -> None:
        fuse = block.fuse.linear
        d = fuse.in_features // (1 + (block.local is not None) + (block.glob is not None))
        weights: list[torch.Tensor] = []
        biases: list[torch.Tensor] = []
        self.local = block.local
        if block.local is not None:  # all graphs side by side: C channels per graph
            convs = cast(Sequence[SemanticGraphConv], block.local.convs)
            attention = torch.cat([conv.attention() for conv in convs])  # (G C, J, J)
            self.diagonal = attention.diagonal(dim1=1, dim2=2).t().contiguous()  # (J, G C)
            # fused (model/fusion.py): every graph convolution has its BatchNorm's shift as bias
            self.local_bias = torch.cat([cast(torch.Tensor, conv.bias) for conv in convs])
            # every graph's off-diagonal matrices are sparse (a joint's few neighbours): the edges
            # (target i, source j) of any graph, with each channel's weight S_c[i, j] (0 off its graph)
            off_diagonal = attention.ne(0).any(0) & ~torch.eye(attention.shape[1], dtype=torch.bool, device=attention.device)
            self.targets, self.sources = off_diagonal.nonzero(as_tuple=True)
            self.edge_weights = attention[:, self.targets, self.sources].t().contiguous()  # (E, G C)
            weights += [torch.cat([conv.weight[i].t() for conv in convs]) for i in (0, 1)]  # self, neighbours
            biases += [torch.zeros_like(self.local_bias)] * 2  # the bias follows the mixing
            self.local_fuse = PackedLinear(block.local.fuse.linear.weight, block.local.fuse.linear.bias)
        self.glob = block.glob
        if block.glob is not None:
            glob = block.glob
            weights.append(glob.g.weight)
            biases.append(glob.g.bias)
            if glob.adaptive:
                score_weight, score_bias = glob._score_projection()
                weights.append(score_weight)
                biases.append(score_bias)
            self.learned: torch.Tensor | None = glob.C if glob.learned else None
            self.glob_out = PackedLinear(glob.out.linear.weight, glob.out.linear.bias)
        weights.append(fuse.weight[:, :d])
        biases.append(fuse.bias)
        self.rest = PackedLinear(fuse.weight[:, d:]) if fuse.in_features > d else None
        self.project = PackedLinear(torch.cat(weights), torch.cat(biases))
        self.splits = [w.shape[0] for w in weights]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        parts = iter(self.project(x).split(self.splits, dim=-1))
        branches = []
        if self.local is not None:
            h_self, h_neighbours = next(parts), next(parts)  # (J, G C) each
            messages = h_neighbours.index_select(0, self.sources).mul_(self.edge_weights)  # (E, G C)
            local = torch.addcmul(self.local_bias, h_self, self.diagonal).index_add_(0, self.targets, messages).relu_()
            branches.append(self.local_fuse(local, relu=True))
        if self.glob is not None:
            glob, j = self.glob, x.shape[0]
            values = next(parts).view(j, glob.num_heads, glob.head_dim).transpose(0, 1)  # (K, J, h)
            if glob.adaptive:
                scores = next(parts).t()  # (2K, J)
                k = glob.num_heads
                att = torch.softmax(F.leaky_relu(scores[:k, :, None] + scores[k:, None, :], 0.2), dim=-1)
                if self.learned is not None:
                    att = att.add_(self.learned)
            else:  # a global branch without adaptive attention has learned attention (layers.py)
                assert self.learned is not None
                att = self.learned
            mixed = torch.bmm(att, values).transpose(0, 1).reshape(j, -1)
            branches.append(self.glob_out(mixed, relu=True))
        own = next(parts)
        out = self.rest.add(torch.cat(branches, -1), own) if self.rest is not None else own.clone()
        return out.relu_()


class FramePlan:
    """A causal GAST-Net's step from one input frame to its 3D pose, with per-track state.

    A track's state is a list of ring buffers, empty for a new track: ``plan.step(buffers, frame)``
    per frame (``(J, 2)`` -> ``(J_out, 3)``); the first step fills them with that frame's activations.
    """

    @torch.no_grad()
    def __init__(self, model: GASTNet, device: torch.device | str | None = None) -> None:
        if not model.causal:
            raise ValueError("a frame plan needs a causal model")
        fused = fuse_batchnorm(model).to(device)
        self.widths = fused.filter_widths
        self.stem = PackedLinear(fused.stem.flat_weight(), fused.stem.bias)
        self.attention = [_AttentionStep(block) for block in cast(Sequence[GraphAttentionBlock], fused.attention_blocks)]
        self.temporal = [
            (PackedLinear(b.conv.flat_weight(), b.conv.bias), PackedLinear(b.pointwise.linear.weight, b.pointwise.linear.bias))
            for b in cast(Sequence[TemporalBlock], fused.temporal_blocks)
        ]
        self.head = PackedLinear(fused.head.weight)
        self.regressor = None if fused.joint_regressor is None else fused.joint_regressor.weight.detach()

    def _through(self, buffers: list[RingBuffer], layer: int, frame: torch.Tensor, dilation: int) -> torch.Tensor:
        if len(buffers) == layer:  # the first frame of this track
            buffers.append(RingBuffer(frame, self.widths[layer], dilation))
        else:
            buffers[layer].push(frame)
        return buffers[layer].taps()

    @torch.inference_mode()
    def step(self, buffers: list[RingBuffer], frame: torch.Tensor) -> torch.Tensor:
        """One frame ``(J, 2)`` in normalised screen coordinates -> its root-relative pose ``(J_out, 3)``."""
        h = self.stem(self._through(buffers, 0, frame, 1), relu=True)
        h = self.attention[0](h)
        dilation = self.widths[0]
        for layer, ((conv, pointwise), attention) in enumerate(zip(self.temporal, self.attention[1:]), start=1):
            residual = h  # causal: the newest frame
            h = pointwise(conv(self._through(buffers, layer, h, dilation), relu=True), relu=True).add_(residual)
            h = attention(h)
            dilation *= self.widths[layer]
        out = self.head(h)
        return out if self.regressor is None else self.regressor @ out
