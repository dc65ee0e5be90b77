"""Shipped weights (``name.tag``): listed exactly as index.json holds them, complete metadata whose
sha256 matches the file, offline loading that reproduces the recorded outputs, and accuracy."""

import dataclasses
import hashlib
import json
from importlib import resources

import numpy as np
import pytest
import torch

from gastnet import create_model, get_model_spec, list_models
from gastnet.model.weights import DEFAULT_TAGS, PRETRAINED, Weights, input_description, recorded_input
from helpers import shared_file

TAGS = list_models(pretrained=True)


def index() -> dict:
    return json.loads(resources.files("gastnet.weights").joinpath("index.json").read_text())


def test_list_models_pretrained_lists_exactly_the_tags_in_the_index():
    assert TAGS and TAGS == sorted(index()["weights"]) == sorted(PRETRAINED)
    assert all(get_model_spec(PRETRAINED[name].arch) for name in TAGS)  # every tag belongs to a registered architecture
    assert sorted(DEFAULT_TAGS) == sorted({PRETRAINED[name].arch for name in TAGS})  # every one has a default


@pytest.mark.parametrize("name", TAGS)
def test_metadata_has_every_field_filled_and_the_file_its_sha256(name):
    weights = PRETRAINED[name]
    for f in dataclasses.fields(Weights):
        value = getattr(weights, f.name)
        assert value not in ("", None, (), {}, 0), f"{name}: {f.name} is empty"
    assert weights.name == name and weights.source == "shipped" and weights.file == f"{name}.pt"
    low, high = weights.frame_rates
    assert 0 < low <= high <= 120
    model = create_model(weights.arch)
    assert weights.joint_layout == model.skeleton.name and weights.input == input_description(model.num_joints)
    for metric in weights.metrics:
        assert metric.command.startswith(f"gastnet evaluate {name} --dataset {metric.dataset} ")
        assert 0 < metric.protocol2_mm <= metric.protocol1_mm
        assert (f"--input-noise {metric.input_noise:g} " in metric.command) == (metric.input_noise > 0)
    assert weights.metrics[0].input_noise == 0 and weights.metrics[0].dataset in ("h36m", "humaneva")
    stored = resources.files("gastnet.weights").joinpath(weights.file).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == weights.sha256
    assert json.loads(json.dumps(weights.to_dict())) == index()["weights"][name]  # the entry round-trips


@pytest.mark.parametrize("name", TAGS)
def test_pretrained_model_loads_offline_and_reproduces_recorded_outputs(name):
    model = create_model(name, pretrained=True)
    weights = model.pretrained_weights
    assert not model.training and weights is PRETRAINED[name]
    spec = get_model_spec(weights.arch).config
    assert model.config["channels"] == spec["channels"] and tuple(model.config["filter_widths"]) == tuple(spec["filter_widths"])
    with torch.no_grad():
        outputs = model.forward_sequence(recorded_input(model.num_joints, weights.recorded_frames))[0]
    np.testing.assert_allclose(outputs.flatten().numpy(), weights.recorded_outputs, atol=1e-4)
    assert "research" in weights.licence


def test_a_damaged_weight_file_is_refused():
    damaged = dataclasses.replace(PRETRAINED[TAGS[0]], sha256="0" * 64)
    with pytest.raises(ValueError, match=rf"the weight file {TAGS[0]}\.pt of {TAGS[0]} has sha256 [0-9a-f]{{64}}, "
                                         "expected 0{64} \\(a damaged or replaced file"):
        damaged.state_dict()


def test_pretrained_weights_fix_the_architecture():
    with pytest.raises(ValueError, match="cannot override"):
        create_model(TAGS[0], pretrained=True, channels=64)
    assert create_model(TAGS[0], pretrained=True, form="strided", dropout=0.0).form == "strided"
    with pytest.raises(ValueError, match="no pretrained weights"):
        create_model("gastnet_rf243", pretrained=True)


@pytest.mark.data
@pytest.mark.parametrize("name", TAGS)
def test_pretrained_accuracy_on_a_slice_of_the_test_set(name):
    from gastnet.data import build_sequences, load_pose_data
    from gastnet.evaluation import evaluate_sequences

    model = create_model(name, pretrained=True)
    weights = model.pretrained_weights
    humaneva = weights.joint_layout == "humaneva15"
    dataset, subject, actions = (
        ("humaneva", "Validate/S1", ["Walking"]) if humaneva else ("h36m", "S11", ["Walking", "Directions"])
    )
    folder = shared_file(dataset, "cameras.json").parents[1]
    mocap, points, _ = load_pose_data(dataset, data_dir=folder, subjects=[subject])
    downsample = weights.metrics[0].details["downsample"]  # the rate the recorded metrics used
    sequences = build_sequences(mocap, points, [subject], actions=actions, downsample=downsample)
    table = evaluate_sequences(model, sequences[:8], model.skeleton)
    recorded = weights.metrics[0]
    assert table.average["mpjpe"] < recorded.protocol1_mm + 25, (table.average, recorded)  # a broken file is far worse
