"""Tensor operations of GAST-Net with cheaper kernels than the straightforward ones.

Each is the same function as the plain PyTorch expression in its docstring; what differs is
the work done (copies avoided, fewer random numbers drawn, gradients in a faster layout).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["relu", "linear_parts", "contiguous_grad", "Dropout", "dropout_keep_mask", "PackedLinear"]


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU in place on a fresh activation.

    Out of place while tracing (which freezing mishandles) and on a view that autograd tracks:
    in place there, autograd would copy the whole base tensor back and forth in the backward pass.
    """
    inplace = not torch.jit.is_tracing() and not (x.requires_grad and x._is_view())
    return F.relu(x, inplace=inplace)


def linear_parts(parts: Sequence[torch.Tensor], weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(torch.cat(parts, -1), weight, bias)`` without building the concatenation.

    Each part multiplies its own column block of ``weight`` and the products accumulate in one
    output buffer (``addmm`` with beta 1), so no copy of the inputs is made.
    """
    if len(parts) == 1:
        return F.linear(parts[0], weight, bias)
    if torch.jit.is_tracing():  # frozen traces mishandle the accumulating form
        return F.linear(torch.cat(list(parts), dim=-1), weight, bias)
    lead = parts[0].shape[:-1]
    out: torch.Tensor | None = None
    start = 0
    for part in parts:
        c = part.shape[-1]
        w = weight[:, start : start + c]
        start += c
        flat = part.reshape(-1, c)
        out = F.linear(flat, w, bias) if out is None else torch.addmm(out, flat, w.t())
    assert out is not None
    return out.view(*lead, out.shape[-1])


class _ContiguousGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad.contiguous()


def contiguous_grad(x: torch.Tensor) -> torch.Tensor:
    """``x`` unchanged; its gradient is made contiguous (one copy) before it flows further back.

    For a product whose output is read through a permuted view: the gradient arrives permuted,
    and a batched matrix product fed such a gradient copies it batch by batch (thousands of
    small copies on a CPU) instead of once.
    """
    return _ContiguousGrad.apply(x) if torch.is_grad_enabled() and x.requires_grad else x


_MASK_LEVELS = 1 << 16  # a 16-bit uniform integer per element: four from every 64-bit draw


def dropout_keep_mask(shape: torch.Size, p: float, device: torch.device | None = None) -> torch.Tensor:
    """Bool mask of ``shape``, each element False (dropped) with probability ``round(p * 2^16) / 2^16``.

    Every 64-bit random draw gives four 16-bit uniform integers, a quarter of the random numbers
    ``torch.bernoulli`` would draw (the CPU generator is serial and dominates dropout's cost).
    The probability is ``p`` to within 2^-17 (0.05 becomes 0.0500031). Follows ``torch.manual_seed``.
    """
    n = shape.numel()
    draws = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(-(2**63), None)
    levels = draws.view(torch.int16)[:n].view(shape)
    return levels >= round(p * _MASK_LEVELS) - _MASK_LEVELS // 2


class _MaskedScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, keep: torch.Tensor, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return torch.where(keep, x, 0.0).mul_(scale)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        (keep,) = ctx.saved_tensors
        return torch.where(keep, grad, 0.0).mul_(ctx.scale), None, None


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` (same module, same state) with a cheaper mask in training.

    In training, each element is zeroed with probability ``p`` (as quantised by
    :func:`dropout_keep_mask`) and the rest are scaled by ``1 / (1 - p)``, so the expectation is
    the input, as with ``nn.Dropout``; in eval mode it is the identity.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p >= 1.0 or self.inplace or torch.compiler.is_compiling():  # the stock kernel (compiled: fused)
            return super().forward(x)
        keep = dropout_keep_mask(x.shape, self.p, x.device)
        scale = 1.0 / (1.0 - round(self.p * _MASK_LEVELS) / _MASK_LEVELS)
        return _MaskedScale.apply(x, keep, scale)


def _onednn_ops() -> tuple | None:
    """``(pack, linear)`` from PyTorch's oneDNN build, or None where it has none."""
    mkldnn = getattr(torch.ops, "mkldnn", None)
    try:
        ops = (mkldnn._reorder_linear_weight, mkldnn._linear_pointwise)  # type: ignore[union-attr]
    except (AttributeError, RuntimeError):
        return None
    return ops if torch.backends.mkldnn.is_available() else None


class PackedLinear:
    """``F.linear(x, weight, bias)`` for inference, with the weight prepacked for oneDNN on a CPU.

    PyTorch's default CPU matrix product is slow for the few rows (17 joints of one frame) that
    streaming multiplies by large weights; oneDNN's prepacked weights run such products about 2x
    faster. The packed form is used only where it pays (a weight of at least ``min_size``
    elements: a packed call has a fixed extra cost that small products do not repay) and exists (a CPU float32 weight, a PyTorch
    built with oneDNN) and agrees with ``F.linear`` on a check at construction; otherwise the
    plain product runs. No autograd.

    Args:
        weight: (C_out, C_in), as in :class:`torch.nn.Linear`.
        bias: (C_out,) or None.
        rows: a hint for the packing's blocking (128 ran 17-row products fastest here).
        min_size: the smallest weight (elements) to pack.

    Shapes: ``x (..., C_in) -> (..., C_out)``.
    """

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None = None, rows: int = 128, min_size: int = 100_000
    ) -> None:
        self.weight = weight.detach().contiguous()
        self.bias = None if bias is None else bias.detach().contiguous()
        self.packed: torch.Tensor | None = None
        ops = _onednn_ops()
        if (ops is None or self.weight.numel() < min_size or self.weight.device.type != "cpu"
                or self.weight.dtype != torch.float32):
            return
        try:
            packed = ops[0](self.weight, rows)
            probe = torch.randn(3, self.weight.shape[1], generator=torch.Generator().manual_seed(0))
            got = ops[1](probe, packed, self.bias, "none", [], "")
            if torch.allclose(got, F.linear(probe, self.weight, self.bias), rtol=1e-4, atol=1e-4):
                self.packed, self._product = packed, ops[1]
        except RuntimeError:  # an op this build of PyTorch lacks for these shapes: the plain product
            pass

    def __call__(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        """``linear(x)``, then ReLU when ``relu`` (fused into the product where packed)."""
        if self.packed is not None:
            return self._product(x, self.packed, self.bias, "relu" if relu else "none", [], "")
        y = F.linear(x, self.weight, self.bias)
        return y.relu_() if relu else y

    def add(self, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """``linear(x) + other`` (``other`` of the output's shape), in one product where packed."""
        if self.packed is not None:
            return self._product.binary(x, other, self.packed, self.bias, "add")
        return F.linear(x, self.weight, self.bias).add_(other)
