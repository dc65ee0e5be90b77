"""Streaming lifting: frame by frame equals the whole-sequence causal model."""

import numpy as np
import pytest
import torch

from gastnet import GASTNet, create_model
from gastnet.runtime import StreamingLifter
from helpers import randomize


@pytest.mark.parametrize("rf", [27, 81, 243])
def test_streaming_equals_the_whole_sequence_causal_model(rf):
    model = randomize(create_model(f"gastnet_rf{rf}_causal")).eval()
    frames = rf + 40  # before, at and after the receptive field fills
    x = torch.randn(1, frames, 17, 2)
    with torch.no_grad():
        expected = model.forward_sequence(x)[0]
    lifter = StreamingLifter(model)
    streamed = torch.stack([lifter.push(x[0, t]) for t in range(frames)])
    torch.testing.assert_close(streamed, expected, atol=1e-5, rtol=0)
    assert lifter.frames_seen() == frames


@pytest.mark.parametrize("config", [
    dict(local_graphs=("first_order",), adaptive_attention=False, learned_attention=False),  # plain GCN
    dict(local_graphs=("kinematic",), adaptive_attention=True, learned_attention=False),
    dict(local_graphs=(), adaptive_attention=False, learned_attention=True),
    dict(local_graphs=("symmetric", "kinematic", "first_order"), skeleton="humaneva15"),
    dict(num_joints_out=14, filter_widths=(3, 2, 2)),  # a joint regressor, even widths
])
def test_streaming_follows_every_structure_the_model_allows(config):
    model = randomize(GASTNet(**{"channels": 16, "filter_widths": (3, 3), "causal": True, **config})).eval()
    x = torch.randn(1, model.receptive_field + 5, model.num_joints, 2)
    with torch.no_grad():
        expected = model.forward_sequence(x)[0]
    lifter = StreamingLifter(model)
    streamed = torch.stack([lifter.push(frame) for frame in x[0]])
    torch.testing.assert_close(streamed, expected, atol=1e-5, rtol=0)


def test_tracks_are_independent_and_reset():
    model = randomize(create_model("gastnet_rf27_causal", channels=16)).eval()
    a, b = torch.randn(40, 17, 2), torch.randn(40, 17, 2)
    lifter = StreamingLifter(model)
    for t in range(40):  # interleave two people
        out_a = lifter.push(a[t], track="a")
        out_b = lifter.push(b[t], track=7)
    with torch.no_grad():
        torch.testing.assert_close(out_a, model.forward_sequence(a[None])[0, -1], atol=1e-5, rtol=0)
        torch.testing.assert_close(out_b, model.forward_sequence(b[None])[0, -1], atol=1e-5, rtol=0)
    lifter.reset("a")
    assert lifter.tracks == [7] and lifter.frames_seen("a") == 0
    with torch.no_grad():  # a reset track starts afresh: its first frame is edge-padded again
        torch.testing.assert_close(lifter.push(b[5].numpy(), track="a"), model.forward_sequence(b[None, 5:6])[0, 0],
                                   atol=1e-5, rtol=0)


def test_streaming_rejects_non_causal_models_and_bad_frames():
    with pytest.raises(ValueError, match="causal"):
        StreamingLifter(create_model("gastnet_rf27"))
    lifter = StreamingLifter(create_model("gastnet_rf9_causal", channels=8))
    with pytest.raises(ValueError, match=r"\(17, 2\), got \(16, 2\)"):
        lifter.push(np.zeros((16, 2)))


def test_cached_inference_weights_follow_parameter_updates():
    model = randomize(create_model("gastnet_rf9", channels=8)).eval()
    x = torch.randn(1, 9, 17, 2)
    with torch.no_grad():
        before = model(x)
        again = model(x)  # served from the cache of derived weights
        torch.testing.assert_close(before, again, atol=0, rtol=0)
        other = randomize(create_model("gastnet_rf9", channels=8))
        model.load_state_dict(other.state_dict())
        after = model(x)
        expected = other.eval()(x)
    torch.testing.assert_close(after, expected, atol=0, rtol=0)
    assert not torch.allclose(before, after)


@pytest.mark.parametrize("name", ["gastnet_rf27", "gastnet_rf81_causal", "gastnet_rf27_ablation_plain", "gastnet_rf27_humaneva"])
def test_folding_batchnorms_keeps_the_outputs(name):
    from gastnet.model.fusion import fuse_batchnorm

    model = randomize(create_model(name)).eval()
    fused = fuse_batchnorm(model)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in fused.modules())
    x = torch.randn(2, model.receptive_field + 6, model.num_joints, 2)
    with torch.no_grad():
        torch.testing.assert_close(fused.forward_sequence(x), model.forward_sequence(x), atol=1e-5, rtol=1e-5)
        fused.form = "strided"
        window = x[:, : model.receptive_field]
        torch.testing.assert_close(fused(window), model(window), atol=1e-5, rtol=1e-5)
    assert model.input_norm.running_var.ne(1).any()  # the original is untouched
