"""Evaluate a model on whole test sequences and lay the errors out as the paper's tables.

Every sequence is lifted in one pass (dilated form, edge padding, optional flip averaging); the
errors of its frames are pooled per action (Human3.6M: frame-weighted over subjects and cameras)
or per action and subject (HumanEva-I). The headline is the unweighted mean of the groups.
Errors are reported in millimetres.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ..data.mocap import action_group, get_dataset_spec
from ..data.sources import load_pose_data
from ..data.windows import PoseSequence, build_sequences
from ..model.gastnet import GASTNet
from ..model.registry import create_model
from ..progress import progress_bar
from ..runtime.predict import predict_sequence
from ..skeleton import Skeleton
from .metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe

__all__ = [
    "predict_sequence", "evaluate_sequences", "add_input_noise", "evaluate_checkpoint", "load_evaluated_model",
    "EvaluationTable", "H36M_ACTION_ORDER", "METRICS",
]

H36M_ACTION_ORDER = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases",
    "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking", "WalkTogether",
)
METRICS = {"mpjpe": "Protocol #1 (MPJPE)", "p_mpjpe": "Protocol #2 (P-MPJPE)", "n_mpjpe": "N-MPJPE", "mpjve": "MPJVE"}


@dataclass
class GroupErrors:
    """Sums of per-frame errors (millimetres) of one table cell."""

    frames: int = 0
    velocity_frames: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(METRICS, 0.0))

    def add(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        pred, target = pred.double() * 1000, target.double() * 1000
        self.frames += len(pred)
        for name, metric in (("mpjpe", mpjpe), ("p_mpjpe", p_mpjpe), ("n_mpjpe", n_mpjpe)):
            self.sums[name] += float(metric(pred, target, reduction="none").sum())
        if len(pred) > 1:
            self.velocity_frames += len(pred) - 1
            self.sums["mpjve"] += float(mpjve(pred, target, reduction="none").sum())

    def means(self) -> dict[str, float]:
        out = {name: self.sums[name] / max(self.frames, 1) for name in ("mpjpe", "p_mpjpe", "n_mpjpe")}
        out["mpjve"] = self.sums["mpjve"] / max(self.velocity_frames, 1)
        return out


@dataclass
class EvaluationTable:
    """Errors per group (action, or action and subject) and their unweighted average, in mm."""

    groups: list[dict[str, Any]]
    average: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info, "groups": self.groups, "average": self.average}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        keys = [k for k in ("action", "subject") if self.groups and k in self.groups[0]]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*keys, "frames", *METRICS])
        for g in self.groups:
            writer.writerow([*(g[k] for k in keys), g["frames"], *(f"{g[m]:.2f}" for m in METRICS)])
        writer.writerow(["Average", *([""] * (len(keys) - 1)), sum(g["frames"] for g in self.groups),
                         *(f"{self.average[m]:.2f}" for m in METRICS)])
        return out.getvalue()

    def to_markdown(self, metrics: Sequence[str] = tuple(METRICS)) -> str:
        """The paper's layout: one row per metric, one column per group, then the average."""
        names = [g["action"] + (f" {g['subject'].split('/')[-1]}" if "subject" in g else "") for g in self.groups]
        lines = ["| mm | " + " | ".join(names) + " | Avg |", "|---" * (len(names) + 2) + "|"]
        for m in metrics:
            cells = [f"{g[m]:.1f}" for g in self.groups] + [f"{self.average[m]:.1f}"]
            lines.append(f"| {METRICS[m]} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


_TABLE_ORDER = H36M_ACTION_ORDER + ("Jog", "Box")  # HumanEva-I: Walking, Jog, Box


def _group_order(key: tuple[str, ...]) -> tuple:
    action = key[0]
    rank = _TABLE_ORDER.index(action) if action in _TABLE_ORDER else len(_TABLE_ORDER)
    return (rank, *key)


def evaluate_sequences(
    model: GASTNet,
    sequences: Iterable[PoseSequence],
    flip_skeleton: Skeleton | None = None,
    by_subject: bool = False,
    progress: bool = False,
    info: dict[str, Any] | None = None,
) -> EvaluationTable:
    """Lift every sequence and tabulate MPJPE, P-MPJPE, N-MPJPE and MPJVE (mm).

    Predictions and targets are compared after moving both roots to the origin. Groups are
    action names (before the first space), or (action, subject) pairs with ``by_subject``.
    """
    model.eval()
    sequences = list(sequences)
    root = model.skeleton.root
    cells: dict[tuple[str, ...], GroupErrors] = {}
    for seq in progress_bar(sequences, desc="evaluate", unit="seq", disable=not progress, leave=False):
        pred = predict_sequence(model, seq.inputs, flip_skeleton)
        pred = pred - pred[:, root : root + 1]
        target = torch.from_numpy(seq.targets) - torch.from_numpy(seq.targets[:, root : root + 1])
        key: tuple[str, ...] = (action_group(seq.action), seq.subject) if by_subject else (action_group(seq.action),)
        cells.setdefault(key, GroupErrors()).add(pred, target)
    groups = []
    for key in sorted(cells, key=_group_order):
        row: dict[str, Any] = {"action": key[0]}
        if by_subject:
            row["subject"] = key[1]
        row.update(frames=cells[key].frames, **cells[key].means())
        groups.append(row)
    average = {m: float(np.mean([g[m] for g in groups])) for m in METRICS}
    return EvaluationTable(groups, average, dict(info or {}))


def add_input_noise(sequences: Iterable[PoseSequence], std: float, seed: int = 0) -> list[PoseSequence]:
    """Copies of ``sequences`` with N(0, std^2) added to every 2D input coordinate (normalised units).

    The noise is a fixed function of ``seed`` and the order of the sequences."""
    rng = np.random.default_rng(seed)
    return [replace(s, inputs=s.inputs + rng.normal(0.0, std, s.inputs.shape).astype(s.inputs.dtype))
            for s in sequences]


def load_evaluated_model(checkpoint: str | os.PathLike[str]) -> tuple[GASTNet, dict[str, Any]]:
    """Deprecated: ``create_model(name_or_path, pretrained=True)``; the model config is
    ``model.config``, the training config ``model.pretrained_weights.train_config``."""
    warnings.warn("load_evaluated_model is deprecated and goes in the next release; use "
                  "gastnet.create_model(name_or_path, pretrained=True)", DeprecationWarning, stacklevel=2)
    model = create_model(checkpoint, pretrained=True)
    weights = model.pretrained_weights
    return model, {"model_config": model.config, "config": {} if weights is None else weights.train_config}


def evaluate_checkpoint(
    checkpoint: str | os.PathLike[str],
    dataset: str | None = None,
    keypoints: str = "gt",
    data_dir: str | os.PathLike[str] | None = None,
    downsample: int | None = None,
    flip: bool = True,
    subjects: Sequence[str] | None = None,
    progress: bool = False,
    input_noise: float = 0.0,
) -> EvaluationTable:
    """Evaluate a checkpoint file (ours or the authors') or shipped weights (``name.tag``, or an
    architecture's default tag) with the standard protocols.

    ``dataset``, ``downsample``, the subjects and actions default to those of the checkpoint's
    training run (its test split) or else the dataset's standard protocol. Human3.6M
    tables are per action; HumanEva-I tables per action and subject. ``input_noise`` adds
    Gaussian noise of that standard deviation (normalised screen units; 0.01 is 5 px on a
    1000 px wide image) to every 2D input coordinate, the same noise on every run: a stand-in for
    a 2D detector's error when only ground-truth 2D is at hand.
    """
    model = create_model(checkpoint, pretrained=True)
    weights = model.pretrained_weights  # set by pretrained=True; None only for random weights
    trained = ({} if weights is None else weights.train_config).get("data", {})
    spec = get_dataset_spec(dataset or trained.get("dataset", "h36m"))
    if model.num_joints != spec.skeleton.num_joints:
        raise ValueError(f"the checkpoint's model takes {model.num_joints} joints, {spec.name} has {spec.skeleton.num_joints}")
    same = trained.get("dataset") == spec.name  # then the training run's test split is the default
    if downsample is None:
        downsample = int(trained.get("downsample", 1)) if same else 1
    subjects = list(subjects or (same and trained.get("test_subjects")) or spec.test_subjects)
    actions = (same and trained.get("actions")) or spec.actions
    mocap, points, source = load_pose_data(spec.name, keypoints, data_dir, subjects)
    sequences = build_sequences(mocap, points, subjects, actions, downsample)
    if input_noise > 0:
        sequences = add_input_noise(sequences, input_noise)
    info = {
        "checkpoint": str(checkpoint), "model": model.config, "dataset": spec.name,
        "keypoints": keypoints, "source": source, "subjects": subjects, "downsample": downsample,
        "flip": flip, "frames": sum(len(s.inputs) for s in sequences), "input_noise": input_noise,
    }
    return evaluate_sequences(model, sequences, model.skeleton if flip else None,
                              by_subject=spec.name == "humaneva", progress=progress, info=info)
