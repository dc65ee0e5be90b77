"""Optional extras: a command that needs one that is missing stops before any work, with one line
naming the extra to install and exit code 2, and writes nothing. A missing package is simulated by
``sys.modules[name] = None``, which makes both ``import name`` and ``importlib.util.find_spec``
report it absent."""

import sys
from pathlib import Path

import numpy as np
import pytest

import gastnet.pipeline.recording
import gastnet.runtime.export
from gastnet.cli.main import main
from gastnet.extras import EXTRAS, MissingExtra, missing, require
from gastnet.pipeline.results import LiftResult

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _uninstall(monkeypatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture
def no_work(monkeypatch):
    """Records every lift and detection that starts (none may, when an extra is missing)."""
    calls: list[str] = []

    def lift(*args, **kwargs):
        calls.append("lift")
        raise AssertionError("the lift ran")

    def detect(*args, **kwargs):
        calls.append("detect")
        raise AssertionError("the detection ran")

    monkeypatch.setattr(gastnet.pipeline.recording, "lift", lift)
    monkeypatch.setattr(gastnet.pipeline.recording, "detect_video", detect)
    return calls


def _fails_at_once(argv: list[str], capsys, out: Path, calls: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err  # one line, no traceback
    assert calls == []
    assert not out.exists() or not any(out.iterdir())  # nothing written
    return err.strip()


def test_the_extras_are_those_of_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) == set(declared) - {"test"}


def test_missing_names_the_absent_modules_only(monkeypatch):
    _uninstall(monkeypatch, "pygltflib", "mediapipe")
    assert missing("gltf") == ["pygltflib"]
    assert "mediapipe" in missing("video")
    assert missing("video", only=("mediapipe",)) == ["mediapipe"]
    assert missing("video", only=("av",)) == []  # PyAV is installed (the test extra)
    with pytest.raises(MissingExtra, match=r'^x needs pygltflib: pip install "gastnet\[gltf\]"$'):
        require("gltf", "x")
    with pytest.raises(ValueError, match="unknown extra"):
        missing("gpu")
    with pytest.raises(ValueError, match="not modules of the video extra"):
        missing("video", only=("torch",))


def test_glb_without_pygltflib_fails_before_the_lift(tmp_path, monkeypatch, capsys, no_work):
    _uninstall(monkeypatch, "pygltflib")
    source = tmp_path / "walk.npy"
    np.save(source, np.zeros((30, 17, 2)))
    out = tmp_path / "out"
    err = _fails_at_once(["lift", str(source), "--out", str(out), "--formats", "npz,json,csv,bvh,glb"], capsys, out,
                         no_work)
    assert err == 'gastnet lift: error: the glb format needs pygltflib: pip install "gastnet[gltf]"'


def test_a_video_without_the_video_extra_fails_before_the_detection(tmp_path, monkeypatch, capsys, no_work):
    _uninstall(monkeypatch, "mediapipe")
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"")  # never opened
    out = tmp_path / "out"
    err = _fails_at_once(["lift", str(source), "--out", str(out)], capsys, out, no_work)
    assert err == 'gastnet lift: error: video input (clip.mp4) needs mediapipe: pip install "gastnet[video]"'


@pytest.mark.parametrize(("flags", "absent", "expected"), [
    (["--render", ".mp4"], "av", '--render .mp4 needs av: pip install "gastnet[video]"'),
    (["--render", ".gif"], "matplotlib", '--render .gif needs matplotlib: pip install "gastnet[plot]"'),
    (["--attention", "right_wrist"], "matplotlib", '--attention needs matplotlib: pip install "gastnet[plot]"'),
])
def test_renders_without_their_extra_fail_before_the_lift(tmp_path, monkeypatch, capsys, no_work, flags, absent,
                                                          expected):
    _uninstall(monkeypatch, absent)
    source = tmp_path / "walk.npy"
    np.save(source, np.zeros((30, 17, 2)))
    out = tmp_path / "out"
    err = _fails_at_once(["lift", str(source), "--out", str(out), "--image-size", "640x480", *flags], capsys, out,
                         no_work)
    assert err == f"gastnet lift: error: {expected}"


def test_several_inputs_are_checked_before_the_batch_starts(tmp_path, monkeypatch, capsys, no_work):
    _uninstall(monkeypatch, "cv2")
    inputs = []
    for name in ("a.npy", "b.mp4"):
        inputs.append(tmp_path / name)
        inputs[-1].write_bytes(b"")
    out = tmp_path / "out"
    err = _fails_at_once(["lift", *map(str, inputs), "--out", str(out)], capsys, out, no_work)
    assert err == 'gastnet lift: error: video input (b.mp4) needs cv2: pip install "gastnet[video]"'


def test_onnx_export_without_onnx_fails_before_the_export(tmp_path, monkeypatch, capsys):
    _uninstall(monkeypatch, "onnxscript")
    exported: list[Path] = []
    monkeypatch.setattr(gastnet.runtime.export, "export_model", lambda model, out, *a: exported.append(out))
    out = tmp_path / "m.onnx"
    assert main(["export", "gastnet_rf9", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == 'gastnet export: error: ONNX export needs onnxscript: pip install "gastnet[onnx]"'
    assert exported == [] and not out.exists()


def test_live_without_the_video_extra_fails_at_once(monkeypatch, capsys):
    _uninstall(monkeypatch, "cv2", "mediapipe")
    assert main(["live", "--camera", "0", "--no-display", "--out", "x.mp4"]) == 2
    assert capsys.readouterr().err.strip() == \
        'gastnet live: error: gastnet live needs cv2, mediapipe: pip install "gastnet[video]"'


def test_save_checks_the_glb_writer_before_writing_any_file(tmp_path, monkeypatch):
    _uninstall(monkeypatch, "pygltflib")
    result = LiftResult(people=[], num_frames=0, image_size=(640, 480), fps=25.0, model={})
    with pytest.raises(ValueError, match=r'the glb format needs pygltflib: pip install "gastnet\[gltf\]"'):
        result.save(tmp_path, ("npz", "glb"))
    assert list(tmp_path.iterdir()) == []
