"""One loading path: ``create_model`` for every architecture, every ``name.tag``, our checkpoints and
the authors' files; the previous release's names and loaders warn and give the same models."""

import ast
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import gastnet
from gastnet import create_model, list_models
from gastnet.cli.main import main
from gastnet.examples import synthetic_walk_2d
from gastnet.model.checkpoint import save_checkpoint
from gastnet.model.weights import DEFAULT_TAGS, PRETRAINED, RENAMED, recorded_input
from gastnet.pipeline.recording import DEFAULT_MODELS
from gastnet.training.config import Config
from helpers import shared_file

ARCHITECTURES = list_models()
TAGS = list_models(pretrained=True)


def outputs(model: gastnet.GASTNet) -> torch.Tensor:
    with torch.no_grad():
        return model.eval().forward_sequence(recorded_input(model.num_joints, 40))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_with_random_and_with_pretrained_weights(name):
    model = create_model(name)
    assert model.pretrained_weights is None and model.training
    if name not in DEFAULT_TAGS:
        with pytest.raises(ValueError, match=f"no pretrained weights are registered for '{name}'"):
            create_model(name, pretrained=True)
        return
    pretrained = create_model(name, pretrained=True)
    assert pretrained.pretrained_weights is PRETRAINED[f"{name}.{DEFAULT_TAGS[name]}"] and not pretrained.training
    assert pretrained.config == model.config


@pytest.mark.parametrize("name", TAGS)
def test_a_tag_is_its_architecture_with_the_tags_weights(name):
    arch, tag = gastnet.model.split_model_name(name)
    assert create_model(name).config == create_model(arch).config  # without pretrained: random weights (timm)
    assert create_model(name).pretrained_weights is None
    model = create_model(name, pretrained=True)
    assert (model.pretrained_weights.arch, model.pretrained_weights.tag) == (arch, tag)


def test_each_bare_name_keeps_what_it_gave_and_the_defaults_are_the_new_names():
    assert DEFAULT_TAGS == {"gastnet_rf27_c32": "h36m", "gastnet_rf27_c32_causal": "h36m",
                            "gastnet_rf27_c32_humaneva": "humaneva", "gastnet_rf27_c64_humaneva": "humaneva"}
    assert DEFAULT_MODELS == {False: "gastnet_rf27_c32.video", True: "gastnet_rf27_c32_causal.video"}
    assert set(RENAMED.values()) <= set(TAGS)


def test_unknown_names_and_tags_say_what_exists():
    with pytest.raises(ValueError, match="unknown model 'gastnet_rf28'; expected one of: gastnet_rf243"):
        create_model("gastnet_rf28")
    with pytest.raises(ValueError, match="no weights tagged 'wild' for gastnet_rf27_c32; expected one of its tags: "
                                         "h36m, h36m_noise, video"):
        create_model("gastnet_rf27_c32.wild", pretrained=True)
    with pytest.raises(ValueError, match="checkpoint nowhere.pt does not exist"):
        create_model("nowhere.pt")
    assert list_models("gastnet_rf27_c32", pretrained=True) == [
        "gastnet_rf27_c32.h36m", "gastnet_rf27_c32.h36m_noise", "gastnet_rf27_c32.video"]
    assert list_models("*.video", pretrained=True) == ["gastnet_rf27_c32.video", "gastnet_rf27_c32_causal.video"]


@pytest.mark.parametrize("old, new", sorted(RENAMED.items()))
def test_old_names_warn_naming_the_new_one_and_give_identical_models(old, new):
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated .* use {new}"):
        before = create_model(old, pretrained=True)
    after = create_model(new, pretrained=True)
    assert before.pretrained_weights is after.pretrained_weights
    assert torch.equal(outputs(before), outputs(after))
    with pytest.warns(DeprecationWarning, match=new):
        assert create_model(old).config == create_model(new).config


def test_the_old_loaders_warn_and_give_what_create_model_gives(tmp_path):
    from gastnet.evaluation.evaluate import load_evaluated_model
    from gastnet.model import load_authors_checkpoint, model_from_checkpoint
    from gastnet.model.checkpoint import load_checkpoint
    from gastnet.pipeline.recording import load_lifter

    path = save_checkpoint(tmp_path / "m.pt", create_model("gastnet_rf27_c32.h36m", pretrained=True))
    expected = outputs(create_model(path))
    for old in (gastnet.load_model, model_from_checkpoint, lambda p: model_from_checkpoint(load_checkpoint(p)),
                lambda p: load_evaluated_model(p)[0], lambda p: load_lifter(checkpoint=p)[0]):
        with pytest.warns(DeprecationWarning, match="deprecated .* use gastnet.create_model"):
            assert torch.equal(outputs(old(path)), expected)
    with pytest.warns(DeprecationWarning, match="load_lifter is deprecated"):
        model, described = load_lifter()
    assert described == "gastnet_rf27_c32.video (pretrained)" and torch.equal(
        outputs(model), outputs(create_model(DEFAULT_MODELS[False], pretrained=True)))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="is a gastnet checkpoint already"):
        load_authors_checkpoint(path)


def test_our_checkpoint_loads_through_create_model_with_its_metadata(tmp_path):
    trained = create_model("gastnet_rf9", channels=8).eval()
    config = Config.from_dict({"model": {"name": "gastnet_rf9"}, "data": {"dataset": "h36m", "downsample": 5}})
    path = save_checkpoint(tmp_path / "run.pt", trained, config=config.to_dict(), state={"epoch": 3, "step": 120})
    expected = outputs(trained)
    models = [create_model(path), create_model(str(path)), create_model(None, checkpoint=path),
              create_model(None, checkpoint=path, dropout=0.0, form="strided")]
    assert models[-1].form == "strided" and models[-1].config["dropout"] == 0.0
    for model in models:
        assert not model.training
        model.form = "dilated"
        assert torch.equal(outputs(model), expected)
        weights = model.pretrained_weights
        assert (weights.source, weights.arch, weights.tag, weights.file) == ("checkpoint", "gastnet_rf9", "", str(path))
        assert weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert weights.frame_rates == (10.0, 10.0) and (weights.epochs, weights.steps) == (3, 120)
        assert weights.description.startswith("gastnet checkpoint run.pt: receptive field 9")
    with pytest.raises(ValueError, match=r"a checkpoint fixes the architecture; cannot override \['channels'\]"):
        create_model(path, channels=16)
    with pytest.raises(ValueError, match="give pretrained=True or checkpoint=..., not both"):
        create_model("gastnet_rf9", pretrained=True, checkpoint=path)
    with pytest.raises(ValueError, match="does not hold gastnet_rf9: C=8 in the file, 128 for gastnet_rf9"):
        create_model("gastnet_rf9", checkpoint=path)
    video = Config.from_dict({"data": {"dataset": "h36m"}, "augment": {"enabled": True, "fps": [12, 48]}})
    path = save_checkpoint(tmp_path / "video.pt", trained, config=video.to_dict())
    assert create_model(path).pretrained_weights.frame_rates == (12.0, 48.0)
    bare = save_checkpoint(tmp_path / "bare.pt", trained)  # no training config: nothing known about the rates
    assert create_model(bare).pretrained_weights.frame_rates is None


@pytest.mark.data
def test_the_authors_file_loads_through_create_model():
    path = shared_file("authors_checkpoints", "authors_rf81_c8_causal.bin")
    model = create_model(path)
    weights = model.pretrained_weights
    assert model.causal and weights.source == "authors" and weights.description.startswith("authors' checkpoint")
    assert weights.frame_rates is None and weights.train_config == {} and weights.arch == ""
    assert not create_model(path, causal=False).causal  # the file does not record it: causal= chooses


def test_the_model_layer_imports_no_data_and_no_cycle():
    """No module of gastnet.model imports gastnet.data (at any level), and their imports of each
    other form no cycle: authors converts, checkpoint reads, registry builds, deprecated wraps."""
    folder = Path(gastnet.model.__file__).parent
    graph = {}
    for path in folder.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                imported.add(("." * node.level) + (node.module or ""))
        assert not any(m.startswith("..data") for m in imported), (path.name, imported)
        graph[path.stem] = {m[1:].split(".")[0] for m in imported if m.startswith(".") and not m.startswith("..")}

    for name in graph:
        assert name not in _closure(graph, name), f"gastnet.model.{name} imports itself through a cycle"


def _closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules ``start`` imports, directly or through others."""
    seen, todo = set(), list(graph[start])
    while todo:
        name = todo.pop()
        if name in graph and name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    return seen


def test_cli_models_shows_the_tags_and_info_the_weights(capsys):
    assert main(["models", "gastnet_rf27_c32*"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["gastnet_rf27_c32"].endswith("[weights: h36m*, h36m_noise, video]")
    assert lines["gastnet_rf27_c32_causal"].endswith("[weights: h36m*, video]")
    assert main(["models", "--pretrained"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == TAGS
    assert any(line.startswith("gastnet_rf27_c32.h36m ") and line.endswith("(default)") for line in lines)
    assert main(["info", "gastnet_rf27_c32.video"]) == 0
    out = capsys.readouterr().out
    assert "weights:          h36m (default), h36m_noise, video" in out and "frame rates:      10-60 fps" in out
    assert "gastnet evaluate gastnet_rf27_c32.video --dataset h36m" in out


def test_an_old_name_on_the_command_line_is_a_note_not_an_error(tmp_path, capsys):
    np.save(tmp_path / "walk.npy", synthetic_walk_2d(60, (640, 480)))
    argv = ["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--image-size", "640x480",
            "--model", "gastnet_rf27_c32_video", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "gastnet lift: note: the model name gastnet_rf27_c32_video is deprecated" in captured.err
    assert "using gastnet_rf27_c32.video" in captured.err and "error" not in captured.err
    assert "gastnet_rf27_c32.video (pretrained)" in captured.out
