"""Checkpoints of the GAST-Net authors' code load into our network and give their outputs."""

import shutil

import pytest
import torch

import gastnet
from gastnet.cli.main import main
from gastnet.model import (
    ModelSpec,
    convert_authors_state_dict,
    inspect_authors_state_dict,
    is_authors_checkpoint,
    registry,
)
from gastnet.model.checkpoint import load_checkpoint
from helpers import shared_file

FILES = {"authors_rf27_c16": ([3, 3, 3], 16, False), "authors_rf81_c8_causal": ([3, 3, 3, 3], 8, True)}
TOLERANCE = 1e-5  # measured: 7e-7 (RF 27) and 5e-7 (RF 81, causal)


def authors_file(stem: str):
    return shared_file("authors_checkpoints", f"{stem}.bin")


def recorded(stem: str) -> dict:
    return torch.load(shared_file("authors_checkpoints", f"{stem}_io.pt"), weights_only=True)


def max_difference(model: torch.nn.Module, io: dict) -> float:
    with torch.no_grad():
        out = model(io["input"])
    assert out.shape == io["output"].shape
    return float((out - io["output"]).abs().max())


@pytest.mark.data
@pytest.mark.parametrize("stem", sorted(FILES))
def test_import_reproduces_the_authors_outputs(stem):
    widths, channels, causal = FILES[stem]
    io = recorded(stem)
    assert (io["filter_widths"], io["channels"], io["causal"]) == (widths, channels, causal)
    model = gastnet.create_model(authors_file(stem))
    assert not model.training and model.pretrained_weights.source == "authors"
    assert model.causal == causal and list(model.filter_widths) == widths
    assert max_difference(model, io) < TOLERANCE
    model.form = "strided"  # the training form reads the same weights: the first output frame
    with torch.no_grad():
        first = model(io["input"][:, : model.receptive_field])
    assert float((first - io["output"][:, :1]).abs().max()) < TOLERANCE
    described = model.pretrained_weights.description
    assert f"C={channels}" in described and f"receptive field {model.receptive_field}" in described


@pytest.mark.data
def test_inspect_reads_the_architecture_but_not_causality():
    saved = torch.load(authors_file("authors_rf81_c8_causal"), weights_only=True)
    assert is_authors_checkpoint(saved) and is_authors_checkpoint(saved["model_pos"])
    assert not is_authors_checkpoint({"format": "gastnet-checkpoint-1", "state_dict": {}})
    info = inspect_authors_state_dict(saved["model_pos"])
    assert info["filter_widths"] == [3, 3, 3, 3] and info["receptive_field"] == 81
    assert (info["channels"], info["num_joints"], info["skeleton"], info["num_heads"]) == (8, 17, "h36m17", 4)
    assert info["causal"] is None
    config, state_dict = convert_authors_state_dict(saved, causal=True)
    assert config["causal"] and set(state_dict) == set(gastnet.GASTNet.from_config(config).state_dict())


@pytest.mark.data
def test_causality_follows_the_file_name_unless_given(tmp_path):
    io = recorded("authors_rf81_c8_causal")
    renamed = tmp_path / "81_frame_model.bin"
    shutil.copy(authors_file("authors_rf81_c8_causal"), renamed)
    guessed = gastnet.create_model(renamed)
    assert not guessed.causal and "no 'causal' in the file name" in guessed.pretrained_weights.description
    assert max_difference(guessed, io) > 1e-3  # residuals cropped at the centre: other outputs
    assert max_difference(gastnet.create_model(renamed, causal=True), io) < TOLERANCE


@pytest.mark.data
def test_convert_writes_our_checkpoint_with_the_same_outputs(tmp_path, capsys):
    out = tmp_path / "rf81.pt"
    assert main(["convert", str(authors_file("authors_rf81_c8_causal")), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for fact in ("receptive field 81", "C=8", "17 joints", "causal", "126,068 parameters", str(out)):
        assert fact in printed
    payload = load_checkpoint(out)  # a plain gastnet checkpoint, readable with weights_only=True
    assert payload["model_config"]["causal"] and "authors" not in payload
    assert max_difference(gastnet.create_model(out), recorded("authors_rf81_c8_causal")) < TOLERANCE
    assert main(["convert", str(authors_file("authors_rf81_c8_causal")), "--out", str(out)]) == 2  # no overwrite
    assert main(["convert", str(out), "--out", str(tmp_path / "again.pt")]) == 2
    assert "gastnet checkpoint already" in capsys.readouterr().err


@pytest.mark.data
def test_create_model_checks_the_registered_architecture(monkeypatch):
    path = authors_file("authors_rf81_c8_causal")
    with pytest.raises(ValueError, match=r"C=8 in the file, 64 for gastnet_rf81; causal=True in the file, False"):
        gastnet.create_model("gastnet_rf81", checkpoint=path)
    with pytest.raises(ValueError, match=r"receptive field 81 \(widths 3, 3, 3, 3\) in the file, 27"):
        gastnet.create_model("gastnet_rf27_causal", checkpoint=path)
    name = "test_authors_rf81_c8_causal"
    spec = ModelSpec(name, "the shared authors' test file", {"filter_widths": (3, 3, 3, 3), "channels": 8, "causal": True})
    monkeypatch.setitem(registry._REGISTRY, name, spec)  # registered for this test only
    model = gastnet.create_model(name, checkpoint=path, form="strided")
    assert model.form == "strided" and not model.training
    assert gastnet.create_model(None, checkpoint=path).receptive_field == 81
    with pytest.raises(ValueError, match="cannot override"):
        gastnet.create_model(name, checkpoint=path, channels=16)


def _corrupted(tmp_path, change) -> str:
    saved = torch.load(authors_file("authors_rf27_c16"), weights_only=True)
    change(saved["model_pos"])
    path = tmp_path / "27_frame_model.bin"
    torch.save(saved, path)
    return str(path)


@pytest.mark.data
def test_damaged_files_are_refused_naming_the_key(tmp_path):
    key = "layers_graph_conv.1.local_graph_layer.gcn_sym.e"

    def rename(sd):
        sd["layers_bn.2.running_avg"] = sd.pop("layers_bn.2.running_mean")

    with pytest.raises(ValueError, match=r"unexpected keys: layers_bn\.2\.running_avg; missing keys: layers_bn\.2\.running_mean"):
        gastnet.create_model(_corrupted(tmp_path, rename))
    with pytest.raises(ValueError, match=r"unexpected keys: model_traj\.weight"):
        gastnet.create_model(_corrupted(tmp_path, lambda sd: sd.update({"model_traj.weight": torch.zeros(3)})))
    with pytest.raises(ValueError, match=rf"{key}: expected shape \(32, 29\), found \(32, 28\)"):
        gastnet.create_model(_corrupted(tmp_path, lambda sd: sd.update({key: sd[key][:, :28]})))
    with pytest.raises(ValueError, match=r"missing keys: layers_graph_conv\.2\.cat_conv\.weight"):
        gastnet.create_model(_corrupted(tmp_path, lambda sd: sd.pop("layers_graph_conv.2.cat_conv.weight")))
    with pytest.raises(ValueError, match="missing key 'expand_conv.weight'"):
        gastnet.create_model(_corrupted(tmp_path, lambda sd: sd.pop("expand_conv.weight")))
    (tmp_path / "junk.bin").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        gastnet.create_model(tmp_path / "junk.bin")


@pytest.mark.data
def test_a_checkpoint_command_takes_the_authors_file(tmp_path):
    stem = "authors_rf27_c16"
    out = tmp_path / "m.pt"
    assert main(["export", str(authors_file(stem)), "--format", "torchscript", "--out", str(out)]) == 0
    io = recorded(stem)
    with torch.no_grad():
        exported = torch.jit.load(str(out))(io["input"])
    assert float((exported - io["output"]).abs().max()) < 1e-4
