"""Shipped pretrained weights: load offline, match their config and recorded outputs, and are accurate."""

import numpy as np
import pytest
import torch
from conftest import shared_file

from gastnet import create_model, get_model_spec
from gastnet.model.weights import PRETRAINED, get_weights, list_pretrained, recorded_input

REQUIRED_META = {"training_data", "keypoints_2d", "joint_layout", "input", "output", "frame_rate", "train_config",
                 "epochs", "wall_time_h", "metrics", "licence", "recorded"}


def test_at_least_one_model_ships_weights():
    assert list_pretrained(), "no pretrained weights in the package"


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_pretrained_model_loads_offline_and_reproduces_recorded_outputs(name):
    model = create_model(name, pretrained=True)
    assert not model.training and model.weights is get_weights(name)
    meta = model.weights.meta
    assert REQUIRED_META <= set(meta), REQUIRED_META - set(meta)
    spec = get_model_spec(name).config
    assert model.config["channels"] == spec["channels"] and tuple(model.config["filter_widths"]) == tuple(spec["filter_widths"])
    assert meta["train_config"]["model"]["name"] in (name, name.replace("_c32", ""))
    recorded = meta["recorded"]
    with torch.no_grad():
        outputs = model.forward_sequence(recorded_input(model.num_joints, recorded["frames"]))[0]
    np.testing.assert_allclose(outputs.flatten().numpy(), recorded["outputs"], atol=1e-4)
    assert "research" in meta["licence"]


def test_pretrained_weights_fix_the_architecture():
    name = sorted(PRETRAINED)[0]
    with pytest.raises(ValueError, match="cannot override"):
        create_model(name, pretrained=True, channels=64)
    with pytest.raises(ValueError, match="no pretrained weights"):
        create_model("gastnet_rf243", pretrained=True)


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_pretrained_accuracy_on_a_slice_of_the_test_set(name):
    from gastnet.data import build_sequences, load_pose_data
    from gastnet.evaluation import evaluate_sequences

    model = create_model(name, pretrained=True)
    meta = model.weights.meta
    humaneva = meta["joint_layout"] == "humaneva15"
    dataset, subject, actions = ("humaneva", "Validate/S1", ["Walking"]) if humaneva else ("h36m", "S11", ["Walking", "Directions"])
    folder = shared_file(dataset, "cameras.json").parents[1]
    mocap, points, _ = load_pose_data(dataset, data_dir=folder, subjects=[subject])
    downsample = meta["train_config"]["data"].get("downsample", 1)  # the rate the recorded metrics used
    sequences = build_sequences(mocap, points, [subject], actions=actions, downsample=downsample)
    table = evaluate_sequences(model, sequences[:8], model.skeleton)
    (recorded,) = meta["metrics"].values()
    assert table.average["mpjpe"] < recorded["protocol1_mm"] + 25, (table.average, recorded)  # a broken file is far worse
