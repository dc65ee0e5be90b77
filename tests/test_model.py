"""GASTNet: parameter counts, execution forms, causality, input checks and the fast attention."""

import pytest
import torch
import torch.nn.functional as F

import gastnet
from gastnet import GASTNet, count_parameters, create_model, list_models
from gastnet.model import GlobalAttention, SemanticGraphConv, symmetry_matrix
from gastnet.skeleton import H36M_17
from helpers import randomize

PAPER_COUNTS = {
    "gastnet_rf9": 1_617_164,
    "gastnet_rf27": 6_915_984,
    "gastnet_rf81": 7_054_612,
    "gastnet_rf243": 7_091_736,
    "gastnet_rf27_humaneva": 6_907_152,
}


@pytest.mark.parametrize("name, expected", PAPER_COUNTS.items())
def test_parameter_counts_match_the_published_models(name, expected):
    assert count_parameters(create_model(name)) == expected


def test_parameter_count_of_rf81_at_128_channels():
    assert count_parameters(create_model("gastnet_rf81", channels=128)) == 27_998_228


def test_causal_variants_have_the_same_parameters():
    for rf in (9, 27, 81, 243):
        assert count_parameters(create_model(f"gastnet_rf{rf}_causal")) == count_parameters(create_model(f"gastnet_rf{rf}"))


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_runs_both_forms_alike(name):
    model = randomize(create_model(name)).eval()
    rf, j = model.receptive_field, model.num_joints
    x = torch.randn(2, rf + 4, j, 2)
    with torch.no_grad():
        dilated = model(x)
        assert dilated.shape == (2, 5, j, 3)
        model.form = "strided"
        strided = torch.cat([model(x[:, t : t + rf]) for t in range(5)], dim=1)
    torch.testing.assert_close(strided, dilated, atol=1e-5, rtol=0)


@pytest.mark.parametrize("causal", [False, True])
def test_state_dict_moves_between_separately_built_forms(causal):
    dilated = randomize(create_model("gastnet_rf27", causal=causal)).eval()
    strided = create_model("gastnet_rf27", causal=causal, form="strided").eval()
    strided.load_state_dict(dilated.state_dict())
    x = torch.randn(3, 30, 17, 2)
    with torch.no_grad():
        whole = dilated(x)
        for t in range(4):
            torch.testing.assert_close(strided(x[:, t : t + 27])[:, 0], whole[:, t], atol=1e-5, rtol=0)


def test_matches_the_straightforward_reference_implementation():
    from reference_gastnet import ReferenceGASTNet

    model = randomize(create_model("gastnet_rf27")).eval()
    reference = ReferenceGASTNet(filter_widths=(3, 3, 3), channels=128).eval()
    reference.load_state_dict(model.state_dict())
    x = torch.randn(2, 29, 17, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_training_gradients_match_the_reference_implementation(causal):
    """Training mode (batch statistics), strided form: the same loss and the same gradient for
    every parameter, whatever the layouts and in-place steps of the fast path."""
    from reference_gastnet import ReferenceGASTNet

    model = randomize(create_model("gastnet_rf27_causal" if causal else "gastnet_rf27", channels=16, dropout=0.0))
    reference = ReferenceGASTNet(filter_widths=(3, 3, 3), channels=16, dropout=0.0, causal=causal)
    reference.load_state_dict(model.state_dict())
    model.form, reference.strided = "strided", True
    x, target = torch.randn(8, 27, 17, 2), torch.randn(8, 1, 17, 3)
    losses = []
    for net in (model.train(), reference.train()):
        loss = (net(x) - target).norm(dim=-1).mean()
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("name", ["gastnet_rf27_causal", "gastnet_rf81_causal"])
def test_causal_output_ignores_later_frames(name):
    model = randomize(create_model(name)).eval()
    x = torch.randn(1, 40, 17, 2)
    later = x.clone()
    later[:, 21:] += torch.randn_like(later[:, 21:])
    with torch.no_grad():
        before, after = model.forward_sequence(x), model.forward_sequence(later)
    assert before.shape == (1, 40, 17, 3)
    torch.testing.assert_close(before[:, :21], after[:, :21], atol=0, rtol=0)
    assert (before[:, 21] - after[:, 21]).abs().max() > 1e-4


def test_non_causal_output_sees_later_frames():
    model = randomize(create_model("gastnet_rf27")).eval()
    x = torch.randn(1, 40, 17, 2)
    later = x.clone()
    later[:, 21] += 1.0  # change one frame only
    with torch.no_grad():
        before, after = model.forward_sequence(x), model.forward_sequence(later)
    assert (before[:, 20] - after[:, 20]).abs().max() > 1e-4  # frame 20 sees frame 21
    torch.testing.assert_close(before[:, :21 - 13], after[:, :21 - 13], atol=0, rtol=0)  # beyond the half window


@pytest.mark.parametrize("chunk", [7, 64, 300])
@pytest.mark.parametrize("config", [
    dict(filter_widths=(3, 3, 3)),
    dict(filter_widths=(3, 3, 3), causal=True),
    dict(filter_widths=(3, 2, 2), causal=True, num_joints_out=14),
])
def test_chunked_whole_sequence_equals_one_pass(config, chunk):
    """Chunks smaller than a layer's history, than the receptive field, and larger."""
    model = randomize(GASTNet(channels=16, **config)).eval()
    x = torch.randn(2, 250, 17, 2)
    with torch.no_grad():
        expected = model.forward_sequence(x, chunk_frames=None)
        torch.testing.assert_close(model.forward_sequence(x, chunk_frames=chunk), expected, atol=1e-5, rtol=1e-5)
    assert expected.shape == (2, 250, model.num_joints_out, 3)


def test_forward_sequence_pads_with_edge_frames():
    model = randomize(create_model("gastnet_rf9")).eval()
    x = torch.randn(1, 6, 17, 2)  # shorter than the receptive field
    padded = torch.cat([x[:, :1].repeat(1, 4, 1, 1), x, x[:, -1:].repeat(1, 4, 1, 1)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model.forward_sequence(x), model(padded))
    assert create_model("gastnet_rf9_causal").padding == (8, 0)


@pytest.mark.parametrize(
    "shape, form, message",
    [
        ((2, 27, 16, 2), "dilated", r"\(B, T, 17, 2\), got \(2, 27, 16, 2\)"),
        ((27, 17, 2), "dilated", r"\(B, T, 17, 2\), got \(27, 17, 2\)"),
        ((2, 27, 17, 3), "dilated", r"got \(2, 27, 17, 3\)"),
        ((2, 26, 17, 2), "dilated", "at least 27 frames .* got 26"),
        ((2, 28, 17, 2), "strided", "exactly 27 frames .* got 28"),
    ],
)
def test_bad_input_raises_a_clear_value_error(shape, form, message):
    model = create_model("gastnet_rf27", form=form)
    with pytest.raises(ValueError, match=message):
        model(torch.zeros(shape))


def test_invalid_configurations_are_rejected():
    with pytest.raises(ValueError, match="odd filter widths"):
        GASTNet(filter_widths=(2, 3))
    with pytest.raises(ValueError, match="form"):
        create_model("gastnet_rf9").form = "fast"
    with pytest.raises(ValueError, match="unknown model"):
        create_model("gastnet_rf28")
    with pytest.raises(ValueError, match="pretrained"):
        create_model("gastnet_rf27", pretrained=True)
    assert create_model("gastnet_rf9_causal", filter_widths=(2, 3)).receptive_field == 6  # even widths when causal


def test_ablation_switches_change_the_structure():
    full = create_model("gastnet_rf27")
    plain = create_model("gastnet_rf27_ablation_plain")
    block = plain.attention_blocks[0]
    assert block.glob is None and block.local.graphs == ("first_order",)
    assert block.fuse.linear.in_features == 2 * 128  # [input, local]
    only_c = create_model("gastnet_rf27", adaptive_attention=False)
    assert not hasattr(only_c.attention_blocks[0].glob, "theta")
    # removing B_k drops theta, phi (D^2 + D each) and w_f (K * D/2) in every block
    removed = sum(2 * (d * d + d) + 4 * d // 2 for d in (128, 256, 512))
    assert count_parameters(full) - count_parameters(only_c) == removed
    x = torch.randn(1, 27, 17, 2)
    for model in (plain, only_c, create_model("gastnet_rf27_ablation_no_as")):
        assert model.eval()(x).shape == (1, 1, 17, 3)


def test_config_round_trip_rebuilds_the_same_model():
    custom = gastnet.Skeleton.from_parents([-1, 0, 1, 2, 0, 4, 5], [1, 2, 3], [4, 5, 6], name="legs")
    for model in (create_model("gastnet_rf27_humaneva"), GASTNet(custom, (3, 3), channels=16, num_joints_out=4)):
        rebuilt = GASTNet.from_config(model.config)
        rebuilt.load_state_dict(model.state_dict())
        assert rebuilt.config == model.config
        x = torch.randn(1, model.receptive_field, model.num_joints, 2)
        with torch.no_grad():
            torch.testing.assert_close(rebuilt.eval()(x), model.eval()(x))


def test_joint_regressor_maps_to_other_output_joints():
    model = create_model("gastnet_rf9", num_joints_out=14).eval()
    assert model(torch.randn(2, 9, 17, 2)).shape == (2, 1, 14, 3)


def test_fast_global_attention_equals_the_explicit_pairwise_formula():
    d, k, j = 32, 4, 17
    layer = GlobalAttention(d, j, num_heads=k)
    with torch.no_grad():
        layer.C.normal_()
    x = torch.randn(3, j, d)
    h = d // k
    theta, phi, g = layer.theta(x), layer.phi(x), layer.g(x)
    heads = []
    for head in range(k):
        sl = slice(head * h, (head + 1) * h)
        scores = torch.empty(3, j, j)
        for i in range(j):  # the paper's equation: w_f . [theta(x_i) || phi(x_j)] for every pair
            for jj in range(j):
                pair = torch.cat([theta[:, i, sl], phi[:, jj, sl]], dim=-1)
                scores[:, i, jj] = pair @ layer.w_f[head]
        b_k = torch.softmax(F.leaky_relu(scores, 0.2), dim=-1)
        heads.append((b_k + layer.C[head]) @ g[..., sl])
    layer.eval()
    expected = layer.out(torch.cat(heads, dim=-1))
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.attention(x).sum(-1), 1 + layer.C.sum(-1).expand(3, k, j), atol=1e-5, rtol=0)


def test_semantic_graph_conv_equals_the_per_channel_formula():
    mask = symmetry_matrix(H36M_17)
    conv = SemanticGraphConv(5, 3, mask)
    with torch.no_grad():
        conv.logits.normal_()
    x = torch.randn(2, 17, 5)
    s = conv.attention()
    assert torch.all(s[:, ~mask] == 0)
    torch.testing.assert_close(s.sum(-1), torch.ones(3, 17))
    h0, h1 = x @ conv.weight[0], x @ conv.weight[1]
    expected = torch.zeros(2, 17, 3)
    for c in range(3):
        for i in range(17):
            for jj in range(17):
                source = h0 if i == jj else h1
                expected[:, i, c] += s[c, i, jj] * source[:, jj, c]
    torch.testing.assert_close(conv(x), expected, atol=1e-5, rtol=1e-5)
    lone = 0  # the pelvis has only its self-loop in A_s: output = x W0
    torch.testing.assert_close(conv(x)[:, lone], h0[:, lone])


def test_training_step_reduces_the_loss():
    model = create_model("gastnet_rf9", channels=16, form="strided")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    x, y = torch.randn(32, 9, 17, 2), torch.randn(32, 1, 17, 3) * 0.1
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = (model(x) - y).norm(dim=-1).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.grad is not None for p in model.parameters())
