"""ONNX and TorchScript exports give the PyTorch model's outputs."""

import json

import numpy as np
import pytest
import torch

from gastnet import create_model
from gastnet.cli.main import main
from gastnet.runtime.export import export_model
from helpers import randomize


@pytest.fixture(scope="module")
def shared_model():
    torch.manual_seed(0)
    return randomize(create_model("gastnet_rf27_causal", channels=16)).eval()


@pytest.fixture
def model(shared_model):
    """The module's model; tests switch its form, which is put back after each one, pass or fail."""
    yield shared_model
    shared_model.form = "dilated"


@pytest.mark.parametrize("form", ["dilated", "strided"])
def test_torchscript_matches_pytorch(model, form, tmp_path):
    path = export_model(model, tmp_path / "m.pt", "torchscript", form)
    extra = {"gastnet_config.json": ""}
    loaded = torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(extra["gastnet_config.json"])["config"] == model.config
    lengths = [40, 27, 90] if form == "dilated" else [27]
    model.form = form
    for frames in lengths:
        x = torch.randn(3, frames, 17, 2)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), model(x), atol=1e-4, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["dilated", "strided"])
def test_onnx_runtime_matches_pytorch(model, form, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX tests need the onnx extra")
    pytest.importorskip("onnxscript", reason="ONNX export needs the onnx extra")
    path = export_model(model, tmp_path / "m.onnx", "onnx", form)
    session = ort.InferenceSession(str(path))
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["gastnet_config"])["form"] == form
    model.form = form
    for batch, frames in ([(1, 27), (4, 60)] if form == "dilated" else [(1, 27), (5, 27)]):
        x = torch.randn(batch, frames, 17, 2)
        (out,) = session.run(["poses"], {"keypoints": x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(out, model(x).numpy(), atol=1e-4)


def test_export_command(tmp_path, capsys):
    out = tmp_path / "rf9.pt"
    assert main(["export", "gastnet_rf9", "--format", "torchscript", "--out", str(out)]) == 0
    assert "random" in capsys.readouterr().out and out.is_file()
    assert main(["export", "gastnet_rf9", "--format", "torchscript", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["export", "no_such_model"]) == 2


def test_exporting_a_shipped_model_keeps_its_weights(tmp_path, capsys):
    name = "gastnet_rf27_c32.h36m_noise"
    out = tmp_path / "wild.pt"
    assert main(["export", name, "--format", "torchscript", "--out", str(out)]) == 0
    assert "random" not in capsys.readouterr().out
    shipped = create_model(name, pretrained=True)
    x = torch.randn(1, 40, 17, 2)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(out))(x), shipped(x), atol=1e-4, rtol=0)
