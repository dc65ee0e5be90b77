"""The faster tensor operations equal the plain expressions they replace."""

import pytest
import torch
import torch.nn.functional as F

from gastnet.model.ops import Dropout, PackedLinear, contiguous_grad, dropout_keep_mask, linear_parts


def test_dropout_mask_drops_with_the_asked_probability_and_follows_the_seed():
    torch.manual_seed(3)
    keep = dropout_keep_mask(torch.Size([1000, 1000]), 0.05)
    dropped = 1 - keep.float().mean().item()
    # binomial standard deviation over 1e6 draws: sqrt(0.05 * 0.95 / 1e6) = 2.2e-4
    assert dropped == pytest.approx(0.05, abs=1e-3)
    torch.manual_seed(3)
    assert torch.equal(dropout_keep_mask(torch.Size([1000, 1000]), 0.05), keep)
    assert dropout_keep_mask(torch.Size([7, 3]), 0.5).shape == (7, 3)  # not a multiple of four draws
    assert dropout_keep_mask(torch.Size([10000]), 0.0).all()


def test_dropout_zeroes_scales_and_passes_the_gradient_through_the_same_mask():
    layer = Dropout(0.25).train()
    x = (torch.rand(200, 300) + 1.0).requires_grad_()  # never zero, so a zero output means dropped
    y = layer(x)
    kept = y != 0
    assert 1 - kept.float().mean().item() == pytest.approx(0.25, abs=0.01)
    torch.testing.assert_close(y[kept], x[kept] / 0.75)
    y.backward(torch.full_like(y, 2.0))
    torch.testing.assert_close(x.grad, kept.float() * 2.0 / 0.75)
    assert layer.eval()(x) is x


def test_contiguous_grad_keeps_values_and_gradients():
    a = torch.randn(4, 5, 6, requires_grad=True)
    w = torch.randn(4, 6, 3)
    for wrap in (False, True):
        y = torch.bmm(a, w)
        y = contiguous_grad(y) if wrap else y
        y.permute(1, 2, 0).mul(torch.arange(60.0).view(5, 3, 4)).sum().backward()
        if not wrap:
            expected, a.grad = a.grad.clone(), None
    torch.testing.assert_close(a.grad, expected)


def test_linear_parts_equals_the_concatenated_product():
    parts = [torch.randn(2, 5, 3), torch.randn(2, 5, 4)]
    weight, bias = torch.randn(6, 7), torch.randn(6)
    torch.testing.assert_close(linear_parts(parts, weight, bias), F.linear(torch.cat(parts, -1), weight, bias))


@pytest.mark.parametrize("min_size", [0, 10**9])  # packed where oneDNN is there, and the plain product
@pytest.mark.parametrize("bias", [True, False])
def test_packed_linear_equals_f_linear(min_size, bias):
    weight = torch.randn(96, 80)
    b = torch.randn(96) if bias else None
    layer = PackedLinear(weight, b, min_size=min_size)
    x, other = torch.randn(17, 80), torch.randn(17, 96)
    expected = F.linear(x, weight, b)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer(x, relu=True), expected.relu(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.add(x, other), expected + other, atol=1e-5, rtol=1e-5)
    strided = torch.randn(17, 200)[:, 10:90]  # a column slice, as the frame plan feeds it
    torch.testing.assert_close(layer(strided), F.linear(strided, weight, b), atol=1e-5, rtol=1e-5)
    if min_size > 0:
        assert layer.packed is None
