"""The training loop: the paper's recipe, checkpoints that resume exactly, and multi-process training.

Run it with ``gastnet train CONFIG --out DIR``; on several GPUs or nodes start the same command
with ``torchrun`` (PyTorch DistributedDataParallel: NCCL on GPUs, gloo on CPUs). Every epoch is
a fixed function of the seed and the epoch number (order, flips, noise), the optimiser state and
the random-number state travel in the checkpoint, so ``--resume`` gives the same weights as an
uninterrupted run.

Files in the output folder: ``checkpoint_last.pt``, ``checkpoint_best.pt`` (lowest test MPJPE),
``metrics.jsonl`` (one line per epoch), ``curves.png`` (with matplotlib), ``config.json``.

:meth:`Trainer.run` is the recipe: resume or start (:meth:`Trainer._resume_or_start`), evaluate the
untrained model, then per epoch train (:meth:`Trainer._train_epoch`), record and evaluate
(:meth:`Trainer._record`) and checkpoint (:meth:`Trainer._checkpoint`). Where the run stands is a
:class:`TrainState`, saved in each checkpoint as its ``state`` table.

The best checkpoint is written before the last one, so a run killed between the two writes
resumes from the earlier last checkpoint, redoes that epoch and writes both again; a run whose
best checkpoint went missing otherwise gets it back from the last one when that is the best.
``--resume`` of a finished run (``train.epochs`` or ``train.max_steps`` reached) does nothing
and says so: raise ``train.epochs`` (or ``train.max_steps``) to train on.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import reprlib
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ..data.mocap import get_dataset_spec
from ..data.sources import load_pose_data
from ..data.video_windows import VideoWindowLoader
from ..data.windows import PoseSequence, WindowLoader, build_sequences
from ..evaluation.evaluate import evaluate_sequences
from ..evaluation.metrics import mpjpe
from ..fileio import atomic_path
from ..model.checkpoint import grow_weights, load_checkpoint, load_weights, save_checkpoint
from ..model.gastnet import GASTNet, validate_config
from ..model.registry import create_model, get_model_spec
from ..progress import progress_bar
from ..skeleton import Skeleton
from .config import Config, TrainConfig, video_augmentation

__all__ = [
    "TrainState",
    "Trainer",
    "TrainingData",
    "check_run_checkpoint",
    "load_training_data",
    "make_loader",
    "predict_frames",
    "read_run_checkpoint",
    "target_frames",
    "temporal_error",
    "training_loss",
]

log = logging.getLogger(__name__)

# the files of a run's output folder
LAST, BEST = "checkpoint_last.pt", "checkpoint_best.pt"
METRICS_FILE, CURVES_FILE, CONFIG_FILE = "metrics.jsonl", "curves.png", "config.json"
# what a checkpoint must hold to resume its run, and the counts and numbers of its ``state``
RUN_CHECKPOINT_KEYS = ("config", "state", "optimizer", "rng_states", "state_dict")
STATE_COUNTS = ("epoch", "batch", "step", "loss_count")
STATE_NUMBERS = ("loss_sum", "best")
TEST_METRIC = "test_mpjpe_mm"  # the history's test error (mm): the lowest makes the best checkpoint
MM_PER_M = 1000  # losses are in metres, metrics in millimetres
EPOCH_DECIMALS = 4  # an epoch stopped part-way is recorded as a fraction with this many decimals
DROPOUT_SEED_OFFSET = 1  # after the model is built, process r draws (dropout) from seed + 1 + r
DDP_BACKEND_CUDA, DDP_BACKEND_CPU = "nccl", "gloo"  # torch.distributed backends by device type
PROGRESS_INTERVAL_S = 1.0  # the least time between two redraws of the progress bar
_MIN_ELAPSED_S = 1e-9  # keeps the samples-per-second division finite


@dataclass
class TrainingData:
    train: list[PoseSequence]  # empty with video-like windows, which are drawn from ``world``
    test: list[PoseSequence]
    source: str  # where the 2D came from
    world: list[Any] | None = None  # world-frame (N, J, 3) training motion at the mocap's rate (video-like windows)
    cameras: list[Any] | None = None  # the calibrated cameras of each world sequence
    fps: float = 0.0  # the mocap's frame rate


def load_training_data(config: Config, data_dir: str | os.PathLike[str] | None = None) -> TrainingData:
    """Train and test sequences for ``config`` (checks every file before returning)."""
    spec = get_dataset_spec(config.data.dataset)
    train_subjects = config.data.train_subjects or list(spec.train_subjects)
    test_subjects = config.data.test_subjects or list(spec.test_subjects)
    actions = config.data.actions or spec.actions
    mocap, keypoints, source = load_pose_data(
        spec.name, config.data.keypoints, data_dir, subjects=list(dict.fromkeys(train_subjects + test_subjects))
    )
    ds = config.data.downsample
    world = cameras = None
    if config.augment.enabled:
        if spec.skeleton.num_joints != 17:
            raise ValueError(f"[augment] needs a Human3.6M-17 dataset; {spec.name} has {spec.skeleton.num_joints} joints")
        pairs = list(mocap.sequences(train_subjects, actions))
        world = [mocap.positions[s][a] for s, a in pairs]
        cameras = [mocap.cameras(s) for s, _ in pairs]
    return TrainingData(
        train=[] if world else build_sequences(mocap, keypoints, train_subjects, actions, ds),
        test=build_sequences(mocap, keypoints, test_subjects, actions, ds),
        source=source, world=world, cameras=cameras, fps=spec.fps,
    )


def target_frames(tc: TrainConfig) -> int:
    """Consecutive output frames per training sample the loss needs: 1 (position), 2 with a velocity
    term, 3 with an acceleration term."""
    if tc.acceleration_weight > 0:
        return 3
    return 2 if tc.velocity_weight > 0 else 1


def temporal_error(pred: torch.Tensor, target: torch.Tensor, order: int = 1) -> torch.Tensor:
    """The mean Euclidean error of the ``order``-th frame-to-frame difference (1: velocity, 2:
    acceleration) of ``pred`` against ``target``, both (B, K, J, 3) with K > ``order`` consecutive
    frames: metres per frame (per frame squared)."""
    return mpjpe(torch.diff(pred, n=order, dim=1), torch.diff(target, n=order, dim=1))


def training_loss(pred: torch.Tensor, target: torch.Tensor, velocity_weight: float = 0.0,
                  acceleration_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss (metres) and its position part: MPJPE over every target frame, plus the weighted
    velocity and acceleration errors (:func:`temporal_error`) where their weights are > 0."""
    position = mpjpe(pred, target)
    loss = position
    if velocity_weight > 0:
        loss = loss + velocity_weight * temporal_error(pred, target, 1)
    if acceleration_weight > 0:
        loss = loss + acceleration_weight * temporal_error(pred, target, 2)
    return loss, position


def predict_frames(model: torch.nn.Module, x: torch.Tensor, receptive_field: int) -> torch.Tensor:
    """The model's outputs (B, K, J, 3) for windows (B, RF + K - 1, J, 2): one output per window of RF
    frames, the K shifted windows run as one batch (the strided form takes exactly RF frames)."""
    k = x.shape[1] - receptive_field + 1
    if k == 1:
        return model(x)
    windows = torch.stack([x[:, i : i + receptive_field] for i in range(k)], 1).flatten(0, 1)
    out = model(windows)
    return out.reshape(x.shape[0], k, *out.shape[2:])


def make_loader(config: Config, data: TrainingData, model: GASTNet, rank: int = 0,
                world_size: int = 1) -> WindowLoader | VideoWindowLoader:
    """The training batches of ``config``: video-like windows with ``[augment]``, else the dataset's 2D
    (whose windows give one target frame: a velocity or acceleration term needs ``[augment]``)."""
    tc = config.train
    frames = target_frames(tc)
    _check_temporal_terms(config)
    if config.augment.enabled:
        if data.world is None:
            raise ValueError("[augment] draws its windows from world-frame motion: read the data with "
                             "load_training_data(config) for this config")
        return VideoWindowLoader(
            data.world, data.fps, model.receptive_field, tc.batch_size // world_size,
            video_augmentation(config.augment, flip=tc.flip), causal=model.causal,
            samples_per_epoch=config.augment.samples_per_epoch, seed=tc.seed, rank=rank,
            world_size=world_size, cameras=data.cameras, target_frames=frames,
        )
    return WindowLoader(
        data.train, model.receptive_field, tc.batch_size // world_size, causal=model.causal,
        flip_skeleton=_skeleton(model) if tc.flip else None, noise_std=tc.noise_std, seed=tc.seed,
        rank=rank, world_size=world_size,
    )


def _check_temporal_terms(config: Config) -> None:
    """ValueError unless the loss's velocity and acceleration terms (if on) get consecutive target frames."""
    if target_frames(config.train) > 1 and not config.augment.enabled:
        raise ValueError("[train] velocity_weight and acceleration_weight need [augment] enabled = true "
                         "(its windows give the consecutive target frames they compare)")


def _freeze_norms(model: torch.nn.Module) -> None:
    """Put the BatchNorms of a model in training mode into eval mode: they normalise with their running
    statistics and keep them (``train.freeze_norms``; their scale and shift still learn). A model grown
    from a smaller receptive field then starts training as the identity it is in eval mode."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def _skeleton(model: GASTNet) -> Skeleton:
    """The model's skeleton (the checked :class:`Skeleton`, whatever it was built from)."""
    return model.skeleton


def _resolve_device(name: str) -> torch.device:
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if name == "auto":
        name = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    elif name == "cuda":
        name = f"cuda:{local_rank}"
    return torch.device(name)


def initial_weights(source: str) -> dict[str, torch.Tensor]:
    """The float32 state dict to start a run from (``train.init``): a checkpoint path or a pretrained name."""
    from ..model.weights import get_weights, list_pretrained

    if source in list_pretrained():
        return get_weights(source).state_dict()
    return load_checkpoint(source)["state_dict"]


def read_run_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The last checkpoint of a run, to resume it: :func:`load_checkpoint`'s contents with what
    resuming reads checked (see :func:`check_run_checkpoint`)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"nothing to resume: {path} does not exist")
    payload = load_checkpoint(path)
    check_run_checkpoint(payload, str(path))
    return payload


def check_run_checkpoint(payload: Mapping[str, Any], source: str) -> None:
    """ValueError, starting with ``source``, unless ``payload`` holds what resuming a run reads: its
    training ``config``, the loop's ``state`` (counts, losses, history), the ``optimizer`` state,
    torch random-number states (``rng_states``) and the weights. Whether weights and optimizer
    state fit the model is checked when they are loaded."""
    missing = [key for key in RUN_CHECKPOINT_KEYS if key not in payload]
    if missing:
        raise ValueError(f"{source}: not a training run's checkpoint: no {', '.join(missing)} (gastnet train writes "
                         "them; train.init=FILE starts a new run from any checkpoint's weights)")
    try:
        Config.from_dict(payload["config"])
    except ValueError as err:
        raise ValueError(f"{source}: training config: {err}") from None
    state = payload["state"]
    if not isinstance(state, Mapping):
        raise ValueError(f"{source}: state: expected a table, found {type(state).__name__}")
    for key in STATE_COUNTS:
        value = state.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ValueError(f"{source}: state {key}: expected a count (an integer >= 0), found {reprlib.repr(value)}")
    for key in STATE_NUMBERS:
        if not _is_number(state.get(key)):
            raise ValueError(f"{source}: state {key}: expected a number, found {reprlib.repr(state.get(key))}")
    history = state.get("history")
    if not (isinstance(history, list) and all(
            isinstance(row, Mapping) and all(isinstance(k, str) and _is_number(v) for k, v in row.items())
            for row in history)):
        raise ValueError(f"{source}: state history: expected a list of tables of numbers, "
                         f"found {reprlib.repr(history)}")
    optimizer = payload["optimizer"]
    groups = optimizer.get("param_groups") if isinstance(optimizer, Mapping) else None
    if not (isinstance(groups, list) and isinstance(optimizer.get("state"), Mapping)
            and all(isinstance(g, Mapping) and isinstance(g.get("params"), list) for g in groups)):
        raise ValueError(f"{source}: optimizer: expected a torch optimizer state (state and param_groups)")
    states = payload["rng_states"]
    if not (isinstance(states, list) and states and all(isinstance(t, torch.Tensor) for t in states)):
        raise ValueError(f"{source}: rng_states: expected a list of torch random-number states, "
                         f"found {reprlib.repr(states)}")
    for state_bytes in states:
        try:  # on a scratch generator: torch checks the state's size and contents
            torch.Generator().set_state(state_bytes)
        except (RuntimeError, TypeError) as err:
            first = (str(err).strip().splitlines() or [""])[0]
            raise ValueError(f"{source}: rng_states: not a torch random-number state ({first})") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _same_kind(saved: Any, current: Any) -> bool:
    """Whether an optimizer hyperparameter from a file is of the kind the running optimizer uses."""
    if isinstance(current, bool) or current is None:
        return type(saved) is type(current)
    if isinstance(current, numbers.Real):
        return _is_number(saved)
    if isinstance(current, (tuple, list)):
        return isinstance(saved, (tuple, list)) and len(saved) == len(current) and all(map(_same_kind, saved, current))
    return type(saved) is type(current)


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: Mapping[str, Any], source: str) -> None:
    """Load a saved optimizer state (its layout checked by :func:`check_run_checkpoint`); ValueError,
    starting with ``source``, unless it is for these parameters with hyperparameters of the same kinds."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    sizes = [len(group["params"]) for group in saved["param_groups"]]
    if sizes != [len(group["params"]) for group in optimizer.param_groups]:
        raise ValueError(f"{source}: the optimizer state is for parameter groups of {sizes} tensors; the model's "
                         f"are {[len(group['params']) for group in optimizer.param_groups]}")
    for index, entry in saved["state"].items():
        shape = tuple(params[index].shape) if isinstance(index, int) and 0 <= index < len(params) else None
        if shape is None or not isinstance(entry, Mapping) or not all(
                isinstance(v, torch.Tensor) and (v.ndim == 0 or tuple(v.shape) == shape) for v in entry.values()):
            raise ValueError(f"{source}: the optimizer state of parameter {reprlib.repr(index)} does not fit the "
                             f"model (expected tensors of shape {shape})")
    for group, current in zip(saved["param_groups"], optimizer.param_groups):
        for key, value in group.items():
            if key != "params" and key in current and not _same_kind(value, current[key]):
                raise ValueError(f"{source}: optimizer {key}={reprlib.repr(value)}: expected a value like "
                                 f"{current[key]!r}")
    optimizer.load_state_dict(dict(saved))  # a shallow copy, as load_state_dict makes itself


@dataclass
class TrainState:
    """Where a run stands: what the loop carries from batch to batch and epoch to epoch, saved in every
    checkpoint as ``state`` (a plain table of these fields, in this order) and read back to resume."""

    epoch: int = 0  # epochs finished
    batch: int = 0  # batches done of the epoch under way
    step: int = 0  # optimiser steps in all
    loss_sum: float = 0.0  # the training loss (metres) summed over the samples of the epoch under way
    loss_count: int = 0  # and the number of those samples
    history: list[dict[str, Any]] = field(default_factory=list)  # the metrics rows (metrics.jsonl)
    best: float = math.inf  # the lowest test error so far (mm)
    others: dict[str, Any] = field(default_factory=dict)  # entries of a saved state that are none of these: kept

    @classmethod
    def from_dict(cls, saved: Mapping[str, Any]) -> TrainState:
        """The state of a checkpoint's ``state`` table (see :func:`check_run_checkpoint`), its values
        (the history list included) taken as they are; fields it lacks keep their defaults."""
        known = _STATE_FIELDS
        return cls(**{key: saved[key] for key in known if key in saved},
                   others={key: value for key, value in saved.items() if key not in known})

    def to_dict(self) -> dict[str, Any]:
        """The ``state`` table a checkpoint holds."""
        return {**{key: getattr(self, key) for key in _STATE_FIELDS}, **self.others}


_STATE_FIELDS = tuple(f.name for f in fields(TrainState) if f.name != "others")


@dataclass
class _Session:
    """What one call of :meth:`Trainer.run` trains with."""

    model: GASTNet
    trainable: torch.nn.Module  # the model, wrapped for DistributedDataParallel when there are several processes
    optimizer: torch.optim.Optimizer
    loader: WindowLoader | VideoWindowLoader
    test: list[PoseSequence]
    device: torch.device
    state: TrainState


class Trainer:
    """Trains the model described by ``config`` and writes everything to ``out_dir``.

    Args:
        config: the run's configuration (on ``resume`` the checkpoint's own config is used
            instead, with the fields of ``overrides`` applied).
        out_dir: output folder; a folder that already holds a run is only continued with ``resume``.
        data_dir: data folder (default: ``$GASTNET_DATA`` or ``../shared/data``).
        resume: continue from ``out_dir/checkpoint_last.pt``.
        progress: show a progress bar.
        checkpoint: the contents of ``out_dir/checkpoint_last.pt`` when already read (``resume``).
    """

    def __init__(
        self,
        config: Config,
        out_dir: str | os.PathLike[str],
        data_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
        progress: bool = True,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.resume = resume
        self.progress = progress
        last = self.out_dir / LAST
        if resume:
            if checkpoint is None:
                checkpoint = read_run_checkpoint(last)
            else:
                check_run_checkpoint(checkpoint, str(last))
        elif last.exists():
            raise ValueError(f"{self.out_dir} already holds a training run; pass --resume to continue it or choose another --out")
        self.checkpoint = checkpoint
        self.config = config
        self.data_dir = data_dir
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if config.train.batch_size % self.world_size:
            raise ValueError(f"batch_size {config.train.batch_size} must divide evenly over {self.world_size} processes")
        try:  # the model can be built: before any data is read
            validate_config({**get_model_spec(config.model.name).config, **config.model.overrides})
        except ValueError as err:
            raise ValueError(f"[model] {err}") from None
        _check_temporal_terms(config)

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        """Train until ``train.epochs`` (or ``train.max_steps``); returns the metrics history.

        Resuming a finished run changes nothing (no step, no file written) and returns its history."""
        if self.resume and self.is_main:
            self._repair_best()
        resumed = self._resumed_state()
        if resumed is not None and self._finished(resumed):
            return self._nothing_to_do(resumed)
        session = self._resume_or_start()
        self._evaluate_untrained(session)
        stopped = False  # at train.max_steps
        while session.state.epoch < self.config.train.epochs and not stopped:
            row, stopped = self._train_epoch(session)
            improved = self._record(session, row, stopped)
            self._checkpoint(session, improved)
        return session.state.history

    # -- the steps of the loop ------------------------------------------------------------------

    def _resume_or_start(self) -> _Session:
        """Processes, data, model, loader and optimizer; weights, optimizer state, loop state and random
        numbers those of the checkpoint resumed, else a new run's (from ``train.init`` weights if given)."""
        cfg, tc = self.config, self.config.train
        device, data = self._prepare()
        torch.manual_seed(tc.seed)
        model = create_model(cfg.model.name, **cfg.model.overrides, form="strided").to(device)
        loader = make_loader(cfg, data, model, self.rank, self.world_size)
        optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, amsgrad=tc.amsgrad)
        torch.manual_seed(tc.seed + DROPOUT_SEED_OFFSET + self.rank)  # dropout differs between processes
        if self.checkpoint is not None:
            state = self._load_run(self.checkpoint, model, optimizer)
        else:
            state = TrainState()
            if tc.init:  # weights of a smaller receptive field grow into this model's (see grow_weights)
                calibration = next(iter(loader.epoch(0)))[0].to(device)
                grow_weights(model, initial_weights(tc.init), f"train.init {tc.init}", calibration)
        trainable = torch.nn.parallel.DistributedDataParallel(model) if self.world_size > 1 else model
        if self.is_main:
            log.info("training %s (%d parameters, receptive field %d) on %d windows per epoch, %d batches",
                     cfg.model.name, sum(p.numel() for p in model.parameters()), model.receptive_field,
                     loader.num_samples, len(loader) * self.world_size)
        return _Session(model, trainable, optimizer, loader, data.test, device, state)

    def _prepare(self) -> tuple[torch.device, TrainingData]:
        """Threads, device and process group, then the data; the main process writes ``config.json``."""
        cfg, tc = self.config, self.config.train
        if tc.threads:
            torch.set_num_threads(tc.threads)
        device = _resolve_device(tc.device)
        if self.world_size > 1 and not dist.is_initialized():
            dist.init_process_group(backend=DDP_BACKEND_CUDA if device.type == "cuda" else DDP_BACKEND_CPU)
        data = load_training_data(cfg, self.data_dir)
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.out_dir / CONFIG_FILE) as tmp:
                tmp.write_text(json.dumps(cfg.to_dict(), indent=2))
            log.info("%s", data.source)
        return device, data

    def _load_run(self, checkpoint: Mapping[str, Any], model: GASTNet, optimizer: torch.optim.Optimizer) -> TrainState:
        """Load the weights and optimizer state of the run resumed and, with as many processes as it
        had, this process's random-number state; returns its loop state."""
        source = str(self.out_dir / LAST)
        load_weights(model, checkpoint["state_dict"], source)
        _load_optimizer(optimizer, checkpoint["optimizer"], source)
        state = TrainState.from_dict(checkpoint["state"])
        states = checkpoint["rng_states"]
        if len(states) == self.world_size:
            torch.set_rng_state(states[self.rank])
        return state

    def _evaluate_untrained(self, session: _Session) -> None:
        """The history's first row, the test error before any step (epoch 0): for a new run that evaluates."""
        state = session.state
        if state.step == 0 and not state.history and self.config.train.eval_every:
            if self.is_main:
                state.history.append({"epoch": 0, "step": 0, TEST_METRIC: self._evaluate(session.model, session.test)})
                self._write_logs(state.history)
            self._barrier()

    def _train_epoch(self, session: _Session) -> tuple[dict[str, Any], bool]:
        """Train the epoch under way from where it stands to its end, or until ``train.max_steps`` (then the
        flag is True), writing the last checkpoint every ``train.checkpoint_every`` steps; returns the
        epoch's metrics row (no test error yet). A finished epoch is counted and its loss sums reset."""
        tc, state, loader = self.config.train, session.state, session.loader
        epoch = state.epoch
        lr = tc.lr * tc.lr_decay**epoch
        for group in session.optimizer.param_groups:
            group["lr"] = lr
        session.trainable.train()
        if tc.freeze_norms:
            _freeze_norms(session.model)
        start_time, start_batch = time.perf_counter(), state.batch

        def samples_per_second() -> float:
            done = (state.batch - start_batch) * loader.batch_size * self.world_size
            return done / max(time.perf_counter() - start_time, _MIN_ELAPSED_S)

        bar = progress_bar(loader.epoch(epoch, start_batch), total=len(loader), initial=start_batch, unit="batch",
                           desc=f"epoch {epoch + 1}/{tc.epochs}", disable=not (self.progress and self.is_main),
                           leave=False, mininterval=PROGRESS_INTERVAL_S)
        stopped = False
        for x, y in bar:
            loss = self._step(session, x, y)
            bar.set_postfix(loss=f"{MM_PER_M * loss:.1f}mm", samples_s=f"{samples_per_second():.0f}", refresh=False)
            if tc.max_steps and state.step >= tc.max_steps:
                stopped = True
                break
            if tc.checkpoint_every and state.step % tc.checkpoint_every == 0:
                self._save(session, LAST)
        bar.close()
        finished = state.batch >= len(loader)
        row: dict[str, Any] = {
            "epoch": epoch + 1 if finished else round(epoch + state.batch / len(loader), EPOCH_DECIMALS),
            "step": state.step,
            "lr": lr,
            "train_mpjpe_mm": MM_PER_M * state.loss_sum / max(state.loss_count, 1),
            "samples_per_s": samples_per_second(),
        }
        if finished:
            state.epoch, state.batch, state.loss_sum, state.loss_count = epoch + 1, 0, 0.0, 0
        return row, stopped

    def _step(self, session: _Session, x: torch.Tensor, y: torch.Tensor) -> float:
        """One optimiser step on a batch, counted in the state; returns the batch's position error
        (MPJPE, metres: what the state sums and ``train_mpjpe_mm`` reports, whatever else the loss holds)."""
        tc = self.config.train
        x, y = x.to(session.device, non_blocking=True), y.to(session.device, non_blocking=True)
        pred = predict_frames(session.trainable, x, session.model.receptive_field)
        loss, position = training_loss(pred, y, tc.velocity_weight, tc.acceleration_weight)
        session.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        session.optimizer.step()
        state = session.state
        state.step += 1
        state.batch += 1
        position_value = position.item()
        state.loss_sum += position_value * len(x)
        state.loss_count += len(x)
        return position_value

    def _record(self, session: _Session, row: dict[str, Any], stopped: bool) -> bool:
        """Evaluate when due, add ``row`` to the history, write the logs; returns whether the test error
        is the run's lowest so far (the main process's answer, on every process)."""
        state = session.state
        improved = False
        if self.is_main:
            if self._evaluation_due(state, stopped):
                row[TEST_METRIC] = self._evaluate(session.model, session.test)
                improved = row[TEST_METRIC] < state.best
                state.best = min(state.best, row[TEST_METRIC])
            state.history.append(row)
            self._write_logs(state.history)
            log.info("epoch %s: %s", row["epoch"], ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
        if self.world_size > 1:
            shared: list[Any] = [state.best, state.history, improved]
            dist.broadcast_object_list(shared, src=0)
            state.best, state.history, improved = shared
        return improved

    def _evaluation_due(self, state: TrainState, stopped: bool) -> bool:
        """Whether to evaluate after this epoch: every ``train.eval_every`` epochs, at the end and at a stop."""
        tc = self.config.train
        return bool(tc.eval_every and (stopped or state.epoch % tc.eval_every == 0 or state.epoch == tc.epochs))

    def _checkpoint(self, session: _Session, improved: bool) -> None:
        """The checkpoints at the end of an epoch (or a stop). Best first: a kill between the two writes
        leaves the earlier last behind (that epoch is redone), never the best missing."""
        if improved:
            self._save(session, BEST)
        self._save(session, LAST)

    def _save(self, session: _Session, name: str) -> None:
        """Write checkpoint ``name``; collective: every process takes part, the main one writes."""
        rng_states = self._rng_states()
        if self.is_main:
            save_checkpoint(self.out_dir / name, session.model, optimizer=session.optimizer.state_dict(),
                            state=session.state.to_dict(), rng_states=rng_states, config=self.config.to_dict())
        self._barrier()

    # -- a finished run -------------------------------------------------------------------------

    def _resumed_state(self) -> TrainState | None:
        """The loop state of the checkpoint being resumed; None for a new run."""
        if not self.resume or self.checkpoint is None:
            return None
        return TrainState.from_dict(self.checkpoint["state"])

    def _finished(self, state: TrainState) -> bool:
        """Whether ``state`` has reached ``train.epochs`` or ``train.max_steps``."""
        tc = self.config.train
        return state.epoch >= tc.epochs or bool(tc.max_steps and state.step >= tc.max_steps)

    @property
    def complete(self) -> bool:
        """True when resuming a run that already reached ``train.epochs`` or ``train.max_steps``."""
        state = self._resumed_state()
        return state is not None and self._finished(state)

    def _nothing_to_do(self, state: TrainState) -> list[dict[str, Any]]:
        """Say that the resumed run is complete; returns its history."""
        tc = self.config.train
        if self.is_main:
            log.info("the run in %s is complete (epoch %d of %d, step %d%s): nothing to do; raise train.epochs "
                     "(or train.max_steps) with --set to train on", self.out_dir, state.epoch, tc.epochs,
                     state.step, f" of {tc.max_steps}" if tc.max_steps else "")
        return state.history

    def _repair_best(self) -> None:
        """A missing best checkpoint copied from the last one, when the last one is the best (its
        evaluation is the run's lowest); the legacy order wrote last before best."""
        best, last = self.out_dir / BEST, self.out_dir / LAST
        state = self._resumed_state()
        if best.exists() or not last.is_file() or state is None:
            return
        evaluated = [row for row in state.history if TEST_METRIC in row]
        if evaluated and evaluated[-1] is state.history[-1] and evaluated[-1][TEST_METRIC] == state.best:
            with atomic_path(best) as tmp:
                shutil.copyfile(last, tmp)
            log.info("restored %s from %s (the run's best evaluation)", best, last)

    # -- helpers --------------------------------------------------------------------------------

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def _barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def _rng_states(self) -> list[torch.Tensor]:
        state = torch.get_rng_state()
        if self.world_size == 1:
            return [state]
        states: list[Any] = [None] * self.world_size
        dist.all_gather_object(states, state)
        return states

    def _write_logs(self, history: list[dict[str, Any]]) -> None:
        with atomic_path(self.out_dir / METRICS_FILE) as tmp:
            tmp.write_text("".join(json.dumps(row) + "\n" for row in history))
        try:
            from ..visualization.curves import plot_training_curves
        except ImportError:  # matplotlib is optional
            return
        plot_training_curves(history, self.out_dir / CURVES_FILE)

    def _evaluate(self, model: GASTNet, sequences: list[PoseSequence]) -> float:
        limit = self.config.train.eval_sequences
        flip = _skeleton(model) if self.config.eval.flip else None
        table = evaluate_sequences(model, sequences[:limit] if limit else sequences, flip)
        return table.average["mpjpe"]
