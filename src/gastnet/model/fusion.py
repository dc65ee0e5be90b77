"""Fold the eval-mode BatchNorms into the layers before them: the same function, fewer operations.

In eval mode a BatchNorm is a per-channel affine map ``y = s x + t`` with ``s = gamma / sqrt(var
+ eps)`` and ``t = beta - s * mean``. Every BatchNorm of GAST-Net follows a layer that is linear
in its input (a 1 x 1 or temporal convolution, a semantic graph convolution), so the scale goes
into that layer's weights and the shift becomes its bias; the input BatchNorm goes into the stem.
The fused copy is for inference only (it cannot be trained or load ordinary state dicts).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from .gastnet import GASTNet, TemporalBlock, TemporalConv
from .layers import ChannelBatchNorm, LocalAttention, Pointwise, SemanticGraphConv

__all__ = ["fuse_batchnorm"]


def _add_bias(existing: torch.Tensor | None, extra: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(extra if existing is None else existing + extra, requires_grad=False)


def _fold_linear(linear: nn.Linear, norm: ChannelBatchNorm) -> nn.Linear:
    scale, shift = norm.eval_affine()
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True)
    fused.weight = nn.Parameter(linear.weight * scale[:, None], requires_grad=False)
    fused.bias = _add_bias(None if linear.bias is None else linear.bias * scale, shift)
    return fused


def _fold_temporal(conv: TemporalConv, norm: ChannelBatchNorm) -> None:
    scale, shift = norm.eval_affine()
    conv.weight = nn.Parameter(conv.weight * scale[:, None, None], requires_grad=False)
    conv.bias = _add_bias(None if conv.bias is None else conv.bias * scale, shift)


def _fold_graph(conv: SemanticGraphConv, norm: ChannelBatchNorm) -> None:
    scale, shift = norm.eval_affine()  # output channel c of both weight matrices scales by s_c
    conv.weight = nn.Parameter(conv.weight * scale, requires_grad=False)
    conv.bias = _add_bias(None if conv.bias is None else conv.bias * scale, shift)


def _fold_input_norm(stem: TemporalConv, norm: ChannelBatchNorm) -> None:
    scale, shift = norm.eval_affine()  # acts on the stem's input channels: W x' = (W s) x + W t
    extra = torch.einsum("oik,i->o", stem.weight, shift)
    stem.weight = nn.Parameter(stem.weight * scale[None, :, None], requires_grad=False)
    stem.bias = _add_bias(stem.bias, extra)


@torch.no_grad()
def fuse_batchnorm(model: GASTNet) -> GASTNet:
    """An eval-mode copy of ``model`` with every BatchNorm folded away and dropout removed
    (outputs agree to float precision)."""
    fused = copy.deepcopy(model).eval()
    _fold_input_norm(fused.stem, cast(ChannelBatchNorm, fused.input_norm))
    fused.input_norm = nn.Identity()
    _fold_temporal(fused.stem, cast(ChannelBatchNorm, fused.stem_norm))
    fused.stem_norm = nn.Identity()
    for module in list(fused.modules()):
        if isinstance(module, Pointwise):
            module.linear = _fold_linear(module.linear, cast(ChannelBatchNorm, module.norm))
            module.norm = nn.Identity()
        elif isinstance(module, TemporalBlock):
            _fold_temporal(module.conv, cast(ChannelBatchNorm, module.norm))
            module.norm = nn.Identity()
        elif isinstance(module, LocalAttention):
            convs = cast(Sequence[SemanticGraphConv], module.convs)
            norms = cast(Sequence[ChannelBatchNorm], module.norms)
            for conv, norm in zip(convs, norms):
                _fold_graph(conv, norm)
            module.norms = nn.ModuleList(nn.Identity() for _ in module.norms)
    for module in list(fused.modules()):  # eval-only: dropout is the identity, skip its call
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Dropout):
                setattr(module, child_name, nn.Identity())
    for p in fused.parameters():
        p.requires_grad_(False)
    return fused
