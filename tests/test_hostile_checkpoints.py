"""Checkpoints and training configs from strangers: refused with one line naming what is wrong,
before anything large is allocated; every command exits with code 2 instead of a traceback."""

import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

import gastnet
import gastnet.model.gastnet as gastnet_module
from gastnet.cli.main import main
from gastnet.examples import synthetic_walk_2d
from gastnet.model.checkpoint import CHECKPOINT_FORMAT, load_checkpoint
from gastnet.training import Trainer, load_config

REPO = Path(__file__).resolve().parents[1]
DROP = object()  # a payload entry to leave out
TINY = ['model.name="gastnet_rf9"', "model.channels=8", 'data.train_subjects=["S1"]', 'data.test_subjects=["S9"]',
        "train.batch_size=32", "train.threads=1", "train.eval_every=0"]


def tiny_model() -> gastnet.GASTNet:
    return gastnet.create_model("gastnet_rf9", channels=8)


def checkpoint(path: Path, config_changes: dict | None = None, **entries) -> Path:
    """A gastnet checkpoint of a tiny model, its model config changed by ``config_changes`` and the
    payload's entries replaced by ``entries`` (``DROP`` leaves one out)."""
    model = tiny_model()
    payload = {"format": CHECKPOINT_FORMAT, "model_config": {**model.config, **(config_changes or {})},
               "state_dict": model.state_dict()}
    for key, value in entries.items():
        if value is DROP:
            del payload[key]
        else:
            payload[key] = value
    torch.save(payload, path)
    return path


def refused_in_one_line(argv: list[str], capsys, expected: str) -> None:
    """The command exits with 2 and one error line holding ``expected``, no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith(f"gastnet {argv[0]}: error: ")]
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err


def commands(ckpt: Path, tmp: Path) -> dict[str, list[str]]:
    """Every command that reads a model from a checkpoint file."""
    np.save(tmp / "walk.npy", synthetic_walk_2d(30, (640, 480)))
    return {
        "lift": ["lift", str(tmp / "walk.npy"), "--layout", "h36m", "--image-size", "640x480",
                 "--checkpoint", str(ckpt), "--out", str(tmp / "out")],
        "evaluate": ["evaluate", str(ckpt), "--data-dir", str(tmp), "--out", str(tmp / "eval")],
        "export": ["export", str(ckpt), "--format", "torchscript", "--out", str(tmp / "m.pt")],
        "convert": ["convert", str(ckpt), "--out", str(tmp / "c.pt")],
        "live": ["live", str(tmp / "clip.mp4"), "--checkpoint", str(ckpt), "--no-display", "--out", str(tmp / "v.mp4")],
    }


@contextmanager
def nothing_allocated():
    """Inside, building any temporal layer fails the test: a refused config must not get that far."""

    def allocating(*args, **kwargs):
        raise AssertionError("a layer was allocated for a config that should have been refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gastnet_module, "TemporalConv", allocating)
        yield


# (model config changes, what the message says)
HOSTILE_CONFIGS = [
    ({"channels": 200_000}, "channels=200000: expected an integer in 1..1024"),
    ({"channels": 128, "filter_widths": [3, 3, 3, 3, 3]}, "2048 channels wide (C * 2^4); expected at most 1024"),
    ({"filter_widths": [3] * 40}, "filter_widths=[3, 3, 3, 3, 3, 3, ...]: expected a list of 1 to 6 integers in 1..9"),
    ({"filter_widths": [99999, 3]}, "filter_widths=[99999, 3]: expected a list of 1 to 6 integers in 1..9"),
    ({"filter_widths": [9, 9, 9, 3]}, "receptive field 2187; expected at most 729"),
    ({"filter_widths": []}, "expected a list of 1 to 6 integers"),
    ({"num_heads": 100_000}, "num_heads=100000: expected an integer in 1..64"),
    ({"num_heads": 3}, "num_heads=3: expected a divisor of channels=8"),
    ({"in_channels": 10**9}, "in_channels=1000000000: expected an integer in 1..16"),
    ({"num_joints_out": 10**6}, "num_joints_out=1000000: expected an integer in 1..128"),
    ({"local_graphs": ["symmetric"] * 5000}, "'symmetric', ...]: expected distinct names"),
    ({"local_graphs": ["everything"]}, "expected distinct names from first_order, symmetric, kinematic"),
    ({"skeleton": {"name": "big", "parents": [-1] + [0] * 5000, "joints_left": [], "joints_right": []}},
     "skeleton parents=[-1, 0, 0, 0, 0, 0, ...]: expected a list of 1 to 128 integers in -1..127"),
    ({"skeleton": {"name": "loop", "parents": [1, 0], "joints_left": [], "joints_right": []}},
     "skeleton 'loop': expected exactly one root"),
    ({"skeleton": {"name": "x"}}, "found no parents, joints_left, joints_right"),
    ({"skeleton": "h36m_and_more"}, "unknown skeleton 'h36m_and_more'"),
    ({"dropout": 1.0}, "dropout=1.0: expected a number in [0, 1)"),
    ({"dropout": float("nan")}, "dropout=nan: expected a number in [0, 1)"),
    ({"channels": 8.0}, "channels=8.0: expected an integer in 1..1024"),
    ({"channels": True}, "channels=True: expected an integer in 1..1024"),
    ({"causal": 1}, "causal=1: expected True or False"),
    ({"adaptive_attention": "yes"}, "adaptive_attention='yes': expected True or False"),
    ({"weights_url": "x"}, "unknown keys ['weights_url']; expected some of skeleton, filter_widths"),
]


@pytest.mark.parametrize("changes, message", HOSTILE_CONFIGS, ids=[str(c)[:40] for c, _ in HOSTILE_CONFIGS])
def test_a_model_config_beyond_what_gastnet_builds_is_refused_before_allocating(tmp_path, changes, message):
    path = checkpoint(tmp_path / "x.pt", changes)
    config = {**tiny_model().config, **changes}
    with nothing_allocated():
        for load in (load_checkpoint, gastnet.create_model, lambda p: gastnet.create_model(str(p)),
                     lambda p: gastnet.create_model(None, checkpoint=p)):
            with pytest.raises(ValueError) as err:
                load(path)
            assert str(err.value).startswith(f"{path}: model_config: ") and message in str(err.value)
            assert "\n" not in str(err.value)
        with pytest.raises(ValueError) as err:
            gastnet.GASTNet.from_config(config)
        assert message in str(err.value)


@pytest.mark.parametrize("command", ["lift", "evaluate", "export", "convert", "live"])
def test_the_memory_bomb_checkpoint_is_refused_by_every_command(tmp_path, command, capsys):
    ckpt = checkpoint(tmp_path / "x.pt", {"channels": 200_000})
    argv = commands(ckpt, tmp_path)[command]
    with nothing_allocated():
        refused_in_one_line(argv, capsys, "model_config: channels=200000: expected an integer")


def test_the_memory_bomb_is_refused_for_training_from_it(tiny_h36m, tmp_path, capsys):
    ckpt = checkpoint(tmp_path / "x.pt", {"channels": 200_000})
    argv = ["train", str(REPO / "configs" / "smoke.toml"), "--out", str(tmp_path / "run"), "--data-dir", str(tiny_h36m),
            "--no-progress", "--set", *TINY, "train.max_steps=1", f'train.init="{ckpt}"']
    refused_in_one_line(argv, capsys, f"{ckpt}: model_config: channels=200000")
    run = tmp_path / "resumed"
    run.mkdir()
    checkpoint(run / "checkpoint_last.pt", {"channels": 200_000})
    refused_in_one_line(["train", "--resume", "--out", str(run)], capsys, "model_config: channels=200000")


def test_weights_that_cannot_grow_into_the_trained_model_give_one_line(tiny_h36m, tmp_path, capsys):
    """train.init from a smaller receptive field (grown into the model: grow_weights) of another width."""
    wide = gastnet.create_model("gastnet_rf9", channels=16)
    ckpt = tmp_path / "wide.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "model_config": wide.config, "state_dict": wide.state_dict()}, ckpt)
    settings = [s.replace("gastnet_rf9", "gastnet_rf27") for s in TINY]
    argv = ["train", str(REPO / "configs" / "smoke.toml"), "--out", str(tmp_path / "run"), "--data-dir", str(tiny_h36m),
            "--no-progress", "--set", *settings, "train.max_steps=1", f'train.init="{ckpt}"']
    refused_in_one_line(argv, capsys, "cannot grow into")
    assert not (tmp_path / "run" / "checkpoint_last.pt").exists()


def test_an_authors_checkpoint_goes_through_the_same_checks(tmp_path, capsys):
    """The authors' layout: the architecture is read from the tensors' shapes."""
    path = tmp_path / "27_frame_model.bin"
    joints = torch.zeros(17, 17)
    torch.save({"model_pos": {"expand_conv.weight": torch.zeros(2000, 2, 3, 1),
                              "layers_graph_conv.0.global_graph_layer.attentions.0.C_k": joints}}, path)
    with nothing_allocated():
        with pytest.raises(ValueError, match="channels=2000: expected an integer in 1..1024"):
            gastnet.create_model(path)
        refused_in_one_line(["convert", str(path), "--out", str(tmp_path / "c.pt")], capsys, f"{path}: channels=2000")


@pytest.mark.parametrize("entries, message", [
    ({"model_config": DROP}, "no model_config (expected the model's config and weights"),
    ({"state_dict": DROP}, "no state_dict"),
    ({"model_config": [3, 3, 3]}, "model_config: expected a table of GASTNet arguments, found list"),
    ({"state_dict": [1, 2]}, "state_dict: expected a table of tensors, found list"),
    ({"state_dict": {"head.weight": 5}}, "state_dict: expected names of dense tensors, found 'head.weight': int"),
    ({"state_dict": {"head.weight": torch.zeros(3, 3).to_sparse()}}, "found 'head.weight': a torch.sparse_coo tensor"),
    ({"config": [1]}, "training config: expected a table of sections (model, data, train, eval, augment), found list"),
    ({"config": {"data": {"downsample": "fast"}}}, "training config: [data] downsample must be an integer in [1, 100]"),
    ({"config": {"augment": {"fps": [-5, 60]}}}, "[augment] fps must be a range [low, high] with low <= high"),
    ({"description": ["not", "text"]}, "description: expected a string, found list"),
])
@pytest.mark.parametrize("command", ["lift", "evaluate", "export"])
def test_checkpoints_missing_or_malformed_entries_give_one_line(tmp_path, entries, message, command, capsys):
    ckpt = checkpoint(tmp_path / "x.pt", **entries)
    with pytest.raises(ValueError) as err:
        gastnet.create_model(ckpt)
    assert message in str(err.value) and str(err.value).startswith(str(ckpt))
    refused_in_one_line(commands(ckpt, tmp_path)[command], capsys, message)


def other_weights(config_changes: dict, edit=None) -> dict:
    """The state dict of a tiny model with ``config_changes``, then ``edit`` applied to it."""
    state_dict = gastnet.create_model("gastnet_rf9", **{"channels": 8, **config_changes}).state_dict()
    if edit:
        edit(state_dict)
    return state_dict


@pytest.mark.parametrize("state_dict, message", [
    (other_weights({"channels": 16}), "stem.weight: expected (8, 2, 3) torch.float32, found (16, 2, 3) torch.float32"),
    (other_weights({}, lambda sd: sd.pop("head.weight")), "missing keys head.weight"),
    (other_weights({}, lambda sd: sd.update(extra=torch.zeros(1))), "unexpected keys extra"),
    (other_weights({"filter_widths": (3, 3, 3)}), "unexpected keys attention_blocks.2.local.convs.0.weight"),
    (other_weights({}, lambda sd: sd.update({"head.weight": sd["head.weight"].to(torch.int64)})),
     "head.weight: expected (3, 32) torch.float32, found (3, 32) torch.int64"),
    (other_weights({}, lambda sd: sd.update({"head.weight": sd["head.weight"].to(torch.complex64)})),
     "head.weight: expected (3, 32) torch.float32, found (3, 32) torch.complex64"),
])
@pytest.mark.parametrize("command", ["lift", "evaluate", "export"])
def test_weights_that_do_not_fit_the_config_give_one_line(tmp_path, state_dict, message, command, capsys):
    ckpt = checkpoint(tmp_path / "x.pt", state_dict=state_dict)
    with pytest.raises(ValueError, match="the weights do not fit the model its config describes") as err:
        gastnet.create_model(ckpt)
    assert message in str(err.value)
    with pytest.raises(ValueError, match="do not fit"):
        gastnet.create_model("gastnet_rf9", checkpoint=ckpt, dropout=0.0)
    refused_in_one_line(commands(ckpt, tmp_path)[command], capsys, message)


@pytest.mark.parametrize("setting, message", [
    ("train.epochs=-1", "[train] epochs must be an integer in [1, 10000], got -1"),
    ("train.epochs=0", "[train] epochs must be an integer in [1, 10000], got 0"),
    ("train.batch_size=0", "[train] batch_size must be an integer in [1, 8192], got 0"),
    ("train.batch_size=1000000000", "[train] batch_size must be an integer in [1, 8192], got 1000000000"),
    ("train.lr=0", "[train] lr must be a number in (0, 1], got 0"),
    ("train.lr=nan", "[train] lr must be a number in (0, 1], got nan"),
    ("train.lr=inf", "[train] lr must be a number in (0, 1], got inf"),
    ("train.lr_decay=1.5", "[train] lr_decay must be a number in (0, 1], got 1.5"),
    ("train.noise_std=-0.1", "[train] noise_std must be a number in [0, 1], got -0.1"),
    ("train.seed=-1", "[train] seed must be an integer in [0, 9223372036854775807], got -1"),
    ("train.max_steps=-1", "[train] max_steps must be an integer >= 0, got -1"),
    ("train.checkpoint_every=-5", "[train] checkpoint_every must be an integer >= 0"),
    ("train.eval_every=-1", "[train] eval_every must be an integer >= 0"),
    ("train.eval_sequences=-1", "[train] eval_sequences must be an integer >= 0"),
    ("train.threads=100000", "[train] threads must be an integer in [0, 1024], got 100000"),
    ('train.device="gpu; rm"', "[train] device must be auto, cpu, mps, cuda or cuda:N, got 'gpu; rm'"),
    ("train.init=5", "[train] init must be a string, got 5"),
    ("data.downsample=0", "[data] downsample must be an integer in [1, 100], got 0"),
    ('data.keypoints="../../../etc/x"', "[data] keypoints must be a plain name"),
    ("data.test_subjects=[1, 2]", "[data] test_subjects must be a list of names, got [1, 2]"),
    ("augment.fps=[0, 60]", "[augment] fps must be a range [low, high] with low <= high, both in (0, 1000], "
                            "got [0, 60]"),
    ("augment.fps=[60]", "[augment] fps must be a range [low, high]"),
    ("augment.real_cameras=2", "[augment] real_cameras must be a number in [0, 1], got 2"),
    ("augment.samples_per_epoch=-1", "[augment] samples_per_epoch must be an integer in [0, 10000000]"),
    ("eval.flip=1", "[eval] flip must be true or false, got 1"),
    ("model.channels=-5", "[model] channels=-5: expected an integer in 1..1024"),
    ("model.channels=200000", "[model] channels=200000: expected an integer in 1..1024"),
    ("model.dropout=1", "[model] dropout=1: expected a number in [0, 1)"),
    ("model.causal=1", "[model] causal=1: expected True or False"),
    ('model.form="strided"', "[model] unknown keys ['form']"),
    ("model.name=5", "[model] name must be a model's name, got 5"),
])
def test_training_settings_out_of_range_are_refused(tmp_path, setting, message, capsys):
    with pytest.raises(ValueError) as err:
        load_config(REPO / "configs" / "smoke.toml", [setting])
    assert str(err.value).startswith(message)
    with nothing_allocated():
        refused_in_one_line(["train", str(REPO / "configs" / "smoke.toml"), "--set", setting,
                             "--out", str(tmp_path / "run")], capsys, message)
    assert not (tmp_path / "run" / "checkpoint_last.pt").exists()


@pytest.mark.parametrize("settings, message", [
    (["model.num_heads=3"], "[model] num_heads=3: expected a divisor of channels=16"),
    (["model.filter_widths=[3, 3, 3, 3, 3, 3]", "model.channels=64"],
     "[model] channels=64 with 6 filter widths: the last graph attention block is 2048 channels wide"),
    (["model.filter_widths=[2, 2]"], "[model] a non-causal model needs odd filter widths"),
    (['model.name="gastnet_rf9999"'], "[model] unknown model 'gastnet_rf9999'"),
])
def test_a_model_the_settings_cannot_build_is_refused_before_reading_data(tmp_path, settings, message, capsys):
    """The preset (smoke.toml: gastnet_rf9 with C=16) with its overrides, checked when the run starts:
    there is no data folder here."""
    with nothing_allocated():
        refused_in_one_line(["train", str(REPO / "configs" / "smoke.toml"), "--set", *settings,
                             "--out", str(tmp_path / "run"), "--data-dir", str(tmp_path / "no_data")], capsys, message)


def test_shipped_configs_are_inside_the_ranges(tmp_path):
    for path in sorted((REPO / "configs").rglob("*.toml")):
        Trainer(load_config(path), tmp_path / path.stem)  # the model check passes too


def test_a_toml_with_a_top_level_value_is_refused(tmp_path, capsys):
    (tmp_path / "flat.toml").write_text("epochs = 3\n")
    train = ["train", str(tmp_path / "flat.toml"), "--out", str(tmp_path / "run"), "--set"]
    refused_in_one_line([*train, "train.epochs=2"], capsys, "unknown config sections ['epochs']")
    refused_in_one_line([*train, "epochs.x=2"], capsys, "epochs is not a section of the config but a single value")


def test_resuming_a_malformed_run_checkpoint_gives_one_line(tiny_h36m, tmp_path, capsys):
    run = tmp_path / "run"
    Trainer(load_config(None, [*TINY, "train.max_steps=1"]), run, data_dir=tiny_h36m, progress=False).run()
    good = torch.load(run / "checkpoint_last.pt", weights_only=True)
    resume = ["train", "--resume", "--out", str(run), "--data-dir", str(tiny_h36m), "--no-progress"]
    adam, group = good["optimizer"], good["optimizer"]["param_groups"][0]
    cases = [
        ({"config": DROP}, "not a training run's checkpoint: no config"),
        ({"state": DROP, "rng_states": DROP}, "no state, rng_states"),
        ({"config": ["model", "data"]}, "training config: expected a table of sections"),
        ({"config": {**good["config"], "train": "fast"}}, "training config: [train] must be a table, got str"),
        ({"config": {**good["config"], "train": {**good["config"]["train"], "epochs": -1}}},
         "training config: [train] epochs must be an integer in [1, 10000], got -1"),
        ({"state": [0, 1]}, "state: expected a table, found list"),
        ({"state": {**good["state"], "epoch": -3}}, "state epoch: expected a count (an integer >= 0), found -3"),
        ({"state": {**good["state"], "best": "low"}}, "state best: expected a number, found 'low'"),
        ({"state": {**good["state"], "history": [{"epoch": "one"}]}},
         "state history: expected a list of tables of numbers"),
        ({"optimizer": {"state": 1}}, "optimizer: expected a torch optimizer state (state and param_groups)"),
        ({"rng_states": [torch.zeros(5056, dtype=torch.uint8)]}, "rng_states: not a torch random-number state"),
        ({"rng_states": [torch.zeros(3)]}, "rng_states: not a torch random-number state"),
        # found once the model is built (the data is read first)
        ({"config": {**good["config"], "model": {**good["config"]["model"], "channels": 16}}},
         "the weights do not fit the model its config describes"),
        ({"optimizer": {**adam, "state": {0: {**adam["state"][0], "exp_avg": adam["state"][0]["exp_avg"][:1]}}}},
         "the optimizer state of parameter 0 does not fit the model"),
        ({"optimizer": {**adam, "param_groups": [{**group, "betas": ("a", "b")}]}},
         "optimizer betas=('a', 'b'): expected a value like (0.9, 0.999)"),
        ({"optimizer": {**adam, "param_groups": [{**group, "params": [0]}]}},
         "the optimizer state is for parameter groups of [1] tensors"),
    ]
    for entries, message in cases:
        payload = dict(good)
        for key, value in entries.items():
            if value is DROP:
                del payload[key]
            else:
                payload[key] = value
        torch.save(payload, run / "checkpoint_last.pt")
        refused_in_one_line([*resume, "--set", "train.max_steps=2"], capsys, message)  # one step more than done
    torch.save(good, run / "checkpoint_last.pt")
    assert main([*resume, "--set", "train.max_steps=2"]) == 0
    assert math.isfinite(torch.load(run / "checkpoint_last.pt", weights_only=True)["state"]["loss_sum"])
