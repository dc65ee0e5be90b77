"""The gastnet command, run in-process and as a real subprocess."""

import subprocess
import sys

import numpy as np
import pytest

import gastnet
from gastnet.cli.main import main


@pytest.mark.slow
def test_version_and_help_from_a_subprocess():
    out = subprocess.run([sys.executable, "-m", "gastnet", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"gastnet {gastnet.__version__}"
    out = subprocess.run([sys.executable, "-m", "gastnet", "--help"], capture_output=True, text=True, check=True)
    for command in ("models", "info", "demo"):
        assert command in out.stdout


def test_info_reports_receptive_field_parameters_and_widths(capsys):
    assert main(["info", "gastnet_rf81"]) == 0
    out = capsys.readouterr().out
    assert "receptive field:  81 frames" in out
    assert "7,054,612" in out
    assert "3, 3, 3, 3" in out


def test_unknown_model_fails_with_a_message(capsys):
    assert main(["info", "gastnet_rf28"]) == 2
    assert "unknown model 'gastnet_rf28'" in capsys.readouterr().err


def test_models_lists_the_registry(capsys):
    assert main(["models", "gastnet_rf*_causal"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == gastnet.list_models("gastnet_rf*_causal")
    assert {"gastnet_rf9_causal", "gastnet_rf27_causal", "gastnet_rf81_causal", "gastnet_rf243_causal",
            "gastnet_rf27_c32_causal"} <= set(names) and "gastnet_rf27" not in names


def test_demo_lifts_the_shipped_sample_and_renders(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--model", "gastnet_rf9", "--step", "10"]) == 0
    with np.load(tmp_path / "poses.npz") as data:
        assert data["keypoints_2d"].shape == (1, 200, 17, 2)
        assert data["poses_world"].shape == (1, 200, 17, 3)
        assert np.isfinite(data["poses_world"]).all()
    out = capsys.readouterr().out
    assert "CMU mocap 131_01" in out and "MPJPE" in out and "RANDOM" in out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["demo.gif", "demo_sheet.png", "poses.json", "poses.npz"]  # no temporary files left
    assert (tmp_path / "demo.gif").read_bytes()[:6] == b"GIF89a"
