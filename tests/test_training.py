"""Configs, the training loop (determinism, exact resume, DDP), checkpoints and the research CLI."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gastnet
from gastnet.cli.main import main
from gastnet.evaluation import evaluate_checkpoint
from gastnet.model import list_models
from gastnet.model.checkpoint import load_checkpoint
from gastnet.training import Trainer, load_config
from gastnet.training.config import Config
from gastnet.training.trainer import TrainState
from helpers import TINY, shared_file, tiny_config

REPO = Path(__file__).resolve().parents[1]
def _same(a, b, where="checkpoint"):
    """Nested checkpoint contents equal: tensors bit for bit, tables with their keys in the same order."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (where, list(a), list(b))
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def _metrics_lines(run: Path) -> dict[float, str]:
    """metrics.jsonl's lines by epoch, as written but for the wall-clock samples_per_s."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return {json.loads(line)["epoch"]: re.sub(r'"samples_per_s": [^,}]*', '"samples_per_s": -', line) for line in lines}


@pytest.mark.parametrize("path", sorted((REPO / "configs").rglob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_parse_and_name_registered_models(path):
    config = load_config(path)
    assert config.model.name in list_models()
    assert config.data.dataset in ("h36m", "humaneva")


def test_paper_recipes_in_the_configs():
    rf27 = load_config(REPO / "configs" / "h36m_rf27.toml")
    train = rf27.train
    assert (train.epochs, train.batch_size, train.lr, train.lr_decay, rf27.data.downsample) == (80, 128, 1e-3, 0.95, 5)
    assert load_config(REPO / "configs" / "h36m_rf243.toml").data.downsample == 1
    he = load_config(REPO / "configs" / "humaneva_rf27.toml")
    assert (he.train.batch_size, he.train.lr_decay, he.train.epochs, he.data.dataset) == (32, 0.98, 200, "humaneva")


def test_config_overrides_and_errors(tmp_path):
    config = load_config(REPO / "configs" / "h36m_rf27.toml", ["train.epochs=3", "model.channels=64", "data.keypoints=cpn"])
    assert config.train.epochs == 3 and config.model.overrides == {"channels": 64} and config.data.keypoints == "cpn"
    assert Config.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"unknown keys in \[train\]: \['epoch'\]"):
        load_config(None, ["train.epoch=3"])
    with pytest.raises(ValueError, match="must be an integer"):
        load_config(None, ["train.epochs=many"])
    with pytest.raises(ValueError, match="section.key=value"):
        load_config(None, ["epochs=3"])
    (tmp_path / "bad.toml").write_text("[train\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


@pytest.mark.slow
def test_training_is_deterministic_and_resumes_exactly(tiny_h36m, tmp_path):
    whole = Trainer(tiny_config(), tmp_path / "whole", data_dir=tiny_h36m, progress=False)
    history = whole.run()
    assert [row["epoch"] for row in history] == [0, 1, 2]
    assert history[-1]["test_mpjpe_mm"] < history[0]["test_mpjpe_mm"]

    # checkpoints inside the epoch (steps 4 and 8) change nothing
    Trainer(tiny_config("train.max_steps=11", "train.checkpoint_every=4"), tmp_path / "split", data_dir=tiny_h36m,
            progress=False).run()
    first = load_checkpoint(tmp_path / "split" / "checkpoint_last.pt")
    assert first["state"]["step"] == 11 and 0 < first["state"]["batch"] < 22  # stopped inside epoch 1
    resumed = Trainer(tiny_config(), tmp_path / "split", data_dir=tiny_h36m, resume=True, progress=False)
    resumed.run()

    a = load_checkpoint(tmp_path / "whole" / "checkpoint_last.pt")
    b = load_checkpoint(tmp_path / "split" / "checkpoint_last.pt")
    assert a["state"]["step"] == b["state"]["step"]
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    final = [json.loads(line) for line in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert final[-1]["train_mpjpe_mm"] == pytest.approx(history[-1]["train_mpjpe_mm"], rel=1e-9)
    # exactly: the same checkpoint (weights, optimizer state, random-number states, loop state) and the same
    # metrics lines, but for the split run's extra row at its stop and the wall clock
    _same({**a, "state": {**a["state"], "history": None}}, {**b, "state": {**b["state"], "history": None}})
    whole_lines, split_lines = _metrics_lines(tmp_path / "whole"), _metrics_lines(tmp_path / "split")
    assert list(split_lines) == [0, 0.2075, 1, 2] and whole_lines == {k: split_lines[k] for k in (0, 1, 2)}
    assert (tmp_path / "whole" / "curves.png").stat().st_size > 1000
    assert (tmp_path / "whole" / "checkpoint_best.pt").is_file()


def test_run_files_and_checkpoint_format(tiny_h36m, tmp_path):
    """What resuming, evaluation and other tools read from a run's folder, key by key and in order."""
    run, config = tmp_path / "run", tiny_config("train.max_steps=60", "train.eval_every=2")
    history = Trainer(config, run, data_dir=tiny_h36m, progress=False).run()
    assert {p.name for p in run.iterdir()} == {"checkpoint_last.pt", "checkpoint_best.pt", "metrics.jsonl",
                                               "curves.png", "config.json"}
    assert Config.from_dict(json.loads((run / "config.json").read_text())) == config
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows == history
    assert [list(row) for row in rows] == [  # epoch 1 is not due for evaluation; the stop at step 60 is
        ["epoch", "step", "test_mpjpe_mm"],
        ["epoch", "step", "lr", "train_mpjpe_mm", "samples_per_s"],
        ["epoch", "step", "lr", "train_mpjpe_mm", "samples_per_s", "test_mpjpe_mm"],
    ]
    assert [(row["epoch"], row["step"]) for row in rows] == [(0, 0), (1, 53), (1.1321, 60)]
    last, best = load_checkpoint(run / "checkpoint_last.pt"), load_checkpoint(run / "checkpoint_best.pt")
    assert list(last) == ["format", "model_config", "state_dict", "optimizer", "state", "rng_states", "config"]
    assert list(last["state"]) == ["epoch", "batch", "step", "loss_sum", "loss_count", "history", "best"]
    assert {k: v for k, v in last["state"].items() if k not in ("loss_sum", "history")} == {
        "epoch": 1, "batch": 7, "step": 60, "loss_count": 7 * 32, "best": rows[-1]["test_mpjpe_mm"]}
    assert last["state"]["history"] == history and last["config"] == config.to_dict()
    _same(best, last)  # the stop's evaluation is the lowest: both written at the stop


def test_train_state_is_the_checkpoints_state_table():
    saved = {"epoch": 2, "batch": 0, "step": 44, "loss_sum": 0.0, "loss_count": 0, "history": [{"epoch": 0}],
             "best": 1.5, "note": "kept"}
    state = TrainState.from_dict(saved)
    assert (state.epoch, state.step, state.best, state.others) == (2, 44, 1.5, {"note": "kept"})
    assert state.history is saved["history"] and state.to_dict() == saved and list(state.to_dict()) == list(saved)
    assert TrainState().to_dict() == {"epoch": 0, "batch": 0, "step": 0, "loss_sum": 0.0, "loss_count": 0,
                                      "history": [], "best": math.inf}


def test_runs_are_never_overwritten(tiny_h36m, tmp_path):
    Trainer(tiny_config("train.max_steps=2"), tmp_path / "run", data_dir=tiny_h36m, progress=False).run()
    with pytest.raises(ValueError, match="already holds a training run"):
        Trainer(tiny_config(), tmp_path / "run", data_dir=tiny_h36m)
    with pytest.raises(ValueError, match="nothing to resume"):
        Trainer(tiny_config(), tmp_path / "other", data_dir=tiny_h36m, resume=True)


def test_missing_data_fails_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="no data_3d_h36m.npz"):
        Trainer(tiny_config(), tmp_path / "run", data_dir=tmp_path).run()
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="does not exist"):
        Trainer(tiny_config(), tmp_path / "run", data_dir=tmp_path / "nowhere").run()


def test_checkpoint_rebuilds_its_model_and_evaluates(tiny_h36m, tmp_path, capsys):
    Trainer(tiny_config("train.max_steps=5"), tmp_path / "run", data_dir=tiny_h36m, progress=False).run()
    ckpt = tmp_path / "run" / "checkpoint_last.pt"
    model = gastnet.create_model(ckpt)
    assert model.receptive_field == 9 and model.config["channels"] == 8 and not model.training
    table = evaluate_checkpoint(ckpt, data_dir=tiny_h36m)
    assert [g["action"] for g in table.groups] == ["Directions", "Walking"]
    assert table.info["frames"] == 4 * (60 + 45) and table.info["flip"]

    args = ["evaluate", str(ckpt), "--data-dir", str(tiny_h36m), "--out", str(tmp_path / "eval")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| Protocol #1 (MPJPE) |" in out and "downsampling 1" in out
    saved = json.loads((tmp_path / "eval" / "eval_h36m_gt.json").read_text())
    assert saved["average"]["mpjpe"] == pytest.approx(table.average["mpjpe"])
    assert main(args) == 2  # refuses to replace the results
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--input-noise", "0.02"]) == 0
    assert "2D input noise 0.02" in capsys.readouterr().out
    noisy = json.loads((tmp_path / "eval" / "eval_h36m_gt_noise0.02.json").read_text())
    assert noisy["info"]["input_noise"] == 0.02 and noisy["average"]["mpjpe"] != saved["average"]["mpjpe"]


def test_fine_tuning_starts_from_the_given_weights(tiny_h36m, tmp_path):
    Trainer(tiny_config("train.max_steps=5"), tmp_path / "base", data_dir=tiny_h36m, progress=False).run()
    base = tmp_path / "base" / "checkpoint_last.pt"
    tuned = Trainer(tiny_config(f'train.init="{base}"', "train.max_steps=1", "train.eval_sequences=0", "train.noise_std=0.01"),
                    tmp_path / "tuned", data_dir=tiny_h36m, progress=False)
    first = tuned.run()[0]
    assert first["step"] == 0
    assert first["test_mpjpe_mm"] == pytest.approx(evaluate_checkpoint(base, data_dir=tiny_h36m).average["mpjpe"], rel=1e-6)
    with pytest.raises(ValueError, match="does not exist"):
        config = tiny_config(f'train.init="{tmp_path / "nowhere.pt"}"')
        Trainer(config, tmp_path / "bad", data_dir=tiny_h36m, progress=False).run()


def test_train_command_and_bad_checkpoint(tiny_h36m, tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text('[model]\nname = "gastnet_rf9"\nchannels = 8\n[data]\ntrain_subjects = ["S1"]\ntest_subjects = ["S9"]\n'
                      "[train]\nepochs = 1\nbatch_size = 64\nthreads = 1\n")
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--data-dir", str(tiny_h36m), "--no-progress"]) == 0
    assert "finished: epoch 1" in capsys.readouterr().out
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert main(["evaluate", str(tmp_path / "junk.pt")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


@pytest.mark.slow
def test_distributed_training_with_two_gloo_processes(tiny_h36m, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", "-m", "gastnet",
           "train", "--out", str(out), "--data-dir", str(tiny_h36m), "--no-progress", "--set", *TINY, "train.epochs=1",
           "data.downsample=1"]
    cmd.insert(cmd.index("train") + 1, str(REPO / "configs" / "smoke.toml"))
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ckpt = load_checkpoint(out / "checkpoint_last.pt")
    assert len(ckpt["rng_states"]) == 2  # both processes' random state travels in the checkpoint
    # S1: (120 + 90) frames x 4 cameras x 2 (flips) = 1680 windows, 840 per process in batches of 16
    assert ckpt["state"]["step"] == 53
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert history[-1]["test_mpjpe_mm"] < history[0]["test_mpjpe_mm"]


@pytest.mark.data
@pytest.mark.slow
def test_smoke_run_on_the_shared_human36m_data(tmp_path):
    """The CI smoke run: a tiny model trains, checkpoints, resumes and beats the untrained model."""
    data = shared_file("h36m", "data_3d_h36m.npz").parents[1]
    config = REPO / "configs" / "smoke.toml"
    out = tmp_path / "smoke"
    Trainer(load_config(config, ["train.max_steps=150"]), out, data_dir=data, progress=False).run()
    Trainer(load_config(config), out, data_dir=data, resume=True, progress=False).run()
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert history[-1]["step"] == 300
    table = evaluate_checkpoint(out / "checkpoint_last.pt", data_dir=data, subjects=["S9"])
    untrained = history[0]["test_mpjpe_mm"]
    assert table.average["mpjpe"] < 0.5 * untrained, (table.average, untrained)


@pytest.mark.slow
def test_ablate_trains_and_tabulates_each_variant(tiny_h36m, tmp_path, capsys):
    args = ["ablate", "--table", "2", "--out", str(tmp_path / "abl"), "--data-dir", str(tiny_h36m), "--no-progress",
            "--set", "model.channels=8", 'data.train_subjects=["S1"]', 'data.test_subjects=["S9"]', "train.epochs=1",
            "train.batch_size=64", "train.eval_every=0", "train.threads=1"]
    assert main(args) == 0
    rows = json.loads((tmp_path / "abl" / "ablation_table2.json").read_text())
    assert [r["model"] for r in rows] == ["gastnet_rf27", "gastnet_rf27_ablation_no_ac", "gastnet_rf27_ablation_no_as"]
    no_ac = gastnet.create_model(tmp_path / "abl" / "gastnet_rf27_ablation_no_ac" / "checkpoint_last.pt")
    assert no_ac.attention_blocks[0].local.graphs == ("symmetric",)
    assert "| gastnet_rf27_ablation_no_as |" in capsys.readouterr().out


# -- the velocity / acceleration term ---------------------------------------------------------------


def test_temporal_loss_is_zero_for_a_perfect_prediction_and_hand_computed_for_a_wrong_one():
    from gastnet.evaluation.metrics import mpjpe
    from gastnet.training.trainer import target_frames, temporal_error, training_loss

    target = torch.randn(4, 3, 17, 3, generator=torch.Generator().manual_seed(0))
    loss, position = training_loss(target.clone(), target, velocity_weight=1.0, acceleration_weight=2.0)
    assert loss.item() == 0.0 and position.item() == 0.0
    # one joint of one sample is 3 cm off in x in the middle frame, 4 cm in y in the last: positions err
    # 0, 0.03, 0.04 m; velocities (frame 1 - 0, 2 - 1): (0.03, 0, 0) and (-0.03, 0.04, 0), errors 0.03
    # and 0.05; acceleration (-0.06, 0.04, 0), error sqrt(0.0036 + 0.0016)
    pred = target.clone()
    pred[0, 1, 5, 0] += 0.03
    pred[0, 2, 5, 1] += 0.04
    n = 4 * 17
    assert temporal_error(pred, target, 1).item() == pytest.approx((0.03 + 0.05) / (n * 2), rel=1e-4)
    assert temporal_error(pred, target, 2).item() == pytest.approx(math.sqrt(0.0052) / n, rel=1e-4)
    loss, position = training_loss(pred, target, velocity_weight=1.0, acceleration_weight=2.0)
    expected_position = (0.03 + 0.04) / (n * 3)
    assert position.item() == pytest.approx(expected_position, rel=1e-4)
    assert loss.item() == pytest.approx(expected_position + (0.08 / (n * 2)) + 2 * math.sqrt(0.0052) / n, rel=1e-4)
    # weight 0: the old loss (MPJPE) exactly, the very same tensor
    one_frame = pred[:, 1:2]
    plain, position = training_loss(one_frame, target[:, 1:2])
    assert plain is position and torch.equal(plain, mpjpe(one_frame, target[:, 1:2]))
    assert [target_frames(tiny_config(*s).train) for s in ([], ["train.velocity_weight=1"],
                                                           ["train.acceleration_weight=0.5"])] == [1, 2, 3]


def test_a_velocity_term_needs_video_windows(tiny_h36m, tmp_path):
    with pytest.raises(ValueError, match="velocity_weight and acceleration_weight need"):
        Trainer(tiny_config("train.velocity_weight=1"), tmp_path / "run", data_dir=tiny_h36m, progress=False)
    with pytest.raises(ValueError, match=r"velocity_weight must be a number in \[0, 1000\]"):
        tiny_config("train.velocity_weight=-1")


def test_frozen_norms_keep_their_running_statistics(tiny_h36m, tmp_path):
    def running_means(run: str) -> list[torch.Tensor]:
        state = load_checkpoint(tmp_path / run / "checkpoint_last.pt")["state_dict"]
        return [v for k, v in state.items() if k.endswith("running_mean")]

    for run, frozen in (("frozen", "true"), ("free", "false")):
        config = tiny_config(f"train.freeze_norms={frozen}", "train.max_steps=2", "train.eval_every=0")
        Trainer(config, tmp_path / run, data_dir=tiny_h36m, progress=False).run()
    assert all(torch.equal(m, torch.zeros_like(m)) for m in running_means("frozen"))
    assert not all(torch.equal(m, torch.zeros_like(m)) for m in running_means("free"))
