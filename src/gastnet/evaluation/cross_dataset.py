"""Cross-dataset benchmarks: how a Human3.6M-17 lifter does on cameras, bodies and joints it never trained on.

Three benchmarks (``gastnet evaluate MODEL --dataset NAME``), each lifted the way ``gastnet lift``
lifts a video (at the model's frame rate, see :func:`~gastnet.runtime.predict.lift_at_model_rate`,
with flip averaging):

- ``h36m-vcam``: Human3.6M S9 and S11 at 25 fps, in 4-second clips, each seen through one seeded
  virtual camera (:func:`~gastnet.data.virtual_cameras.sample_cameras`; none is a Human3.6M
  camera). All 17 joints are scored.
- ``cmu-vcam``: the CMU walks (``<data>/cmu/*.bvh``, mapped as in :mod:`gastnet.data.cmu`) at 30
  fps in 4-second clips, each through 8 seeded virtual cameras: another subject, skeleton and
  capture system.
- ``humaneva-cross``: HumanEva-I, every subject (Train and Validate) and action, its own three
  cameras and ground-truth 2D at 60 fps. HumanEva-15 joints feed the 17 inputs: pelvis, thorax,
  hips, knees, ankles, shoulders, elbows and wrists directly, the head as the head top, the spine
  as the midpoint of pelvis and thorax, the neck/nose halfway from the thorax to the head.

What is scored. A lifter trained on Human3.6M outputs Human3.6M's joints, and the other mocap
systems put the torso joints elsewhere: the hips are 9 cm apart in HumanEva-I and 14 cm in the
CMU skeleton against 27 cm in Human3.6M; HumanEva's shoulders are 35 cm apart against 28, its
thorax-to-head distance 32 cm against 18 (``python benchmarks/bench_joint_definitions.py``). No
lifter can guess such conventions, so the two cross-dataset benchmarks score the joints whose
definition all three share, the joint centres of the limbs (knees, ankles, elbows, wrists), with
the pelvis as the root (:data:`SHARED_JOINTS`); the inputs still carry the other dataset's torso
joints, which is the point. ``h36m-vcam`` scores all 17.

Errors are MPJPE and P-MPJPE (mm) after centring both poses on the pelvis, per action and
averaged over actions, plus breakdowns by camera elevation (virtual cameras) and by where the
person's hips are in the image (|x'| of the 2D pelvis: centre < 1/3 <= middle < 2/3 <= edge).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.cmu import load_cmu_bvh
from ..data.mocap import action_group, get_dataset_spec, resolve_data_dir
from ..data.sources import load_dataset_mocap, load_pose_data
from ..data.virtual_cameras import CameraRanges, sample_cameras, seeded_generator
from ..model.gastnet import GASTNet
from ..model.registry import create_model
from ..progress import progress_bar
from ..runtime.predict import lift_at_model_rate
from ..skeleton import standing_height
from .evaluate import METRICS, EvaluationTable, GroupErrors, _group_order
from .metrics import mpjpe, p_mpjpe

__all__ = ["BENCHMARKS", "BenchmarkClip", "benchmark_clips", "evaluate_clips", "evaluate_benchmark",
           "virtual_camera_clips", "HUMANEVA_TO_H36M", "SHARED_JOINTS"]

BENCHMARKS = ("h36m-vcam", "cmu-vcam", "humaneva-cross")

HUMANEVA_TO_H36M = {0: 0, 1: 11, 2: 12, 3: 13, 4: 8, 5: 9, 6: 10, 8: 1, 10: 14, 11: 2, 12: 3, 13: 4, 14: 5,
                    15: 6, 16: 7}
"""Human3.6M-17 index -> HumanEva-15 index (the head maps to the head top; spine and neck are made)."""
SHARED_JOINTS = (0, 2, 3, 5, 6, 12, 13, 15, 16)
"""Joints scored across mocap systems: the pelvis (root), knees, ankles, elbows and wrists."""
ELEVATION_BINS = ((-90.0, 5.0, "camera below 5 deg"), (5.0, 20.0, "camera 5-20 deg"), (20.0, 90.0, "camera above 20 deg"))
POSITION_BINS = ((0.0, 1 / 3, "hips in the centre third"), (1 / 3, 2 / 3, "hips in the middle third"),
                 (2 / 3, np.inf, "hips in the outer third"))


@dataclass
class BenchmarkClip:
    """One lifted sequence: ``inputs`` (N, 17, 2) normalised, ``targets`` (N, 17, 3) camera metres."""

    action: str
    inputs: np.ndarray
    targets: np.ndarray
    fps: float
    elevation_deg: float | None = None


def virtual_camera_clips(sequences: list[tuple[str, np.ndarray]], fps: float, clip_frames: int,
                         cameras_per_clip: int = 1, seed: int = 0,
                         ranges: CameraRanges | None = None) -> list[BenchmarkClip]:
    """Cut world sequences ``(action, (N, 17, 3) metres)`` into clips, each through seeded cameras.

    A final piece shorter than half a clip is dropped. Camera ``k`` of clip ``i`` depends only on
    ``(seed, i, k)``, so the set is the same on every machine and for every model.
    """
    ranges = ranges or CameraRanges()
    clips, index = [], 0
    for action, world in sequences:
        for start in range(0, len(world), clip_frames):
            piece = torch.from_numpy(np.ascontiguousarray(world[start:start + clip_frames], dtype=np.float32))
            if len(piece) < max(clip_frames // 2, 1):
                continue
            middle = piece[len(piece) // 2]
            for k in range(cameras_per_clip):
                cam = sample_cameras(middle[None, 0], standing_height(middle)[None], ranges, seeded_generator(seed, index, k))
                clips.append(BenchmarkClip(action, cam.project(piece[None])[0].numpy(), cam.to_camera(piece[None])[0].numpy(),
                                           fps, float(cam.elevation_deg[0])))
            index += 1
    return clips


def _h36m_vcam(data_dir: Path, seed: int) -> list[BenchmarkClip]:
    spec = get_dataset_spec("h36m")
    mocap = load_dataset_mocap("h36m", data_dir)
    sequences = [(action_group(a), mocap.positions[s][a][::2]) for s, a in mocap.sequences(spec.test_subjects)]
    return virtual_camera_clips(sequences, spec.fps / 2, 100, 1, seed)


def _cmu_vcam(data_dir: Path, seed: int) -> list[BenchmarkClip]:
    files = sorted((data_dir / "cmu").glob("*.bvh"))
    if not files:
        raise ValueError(f"no CMU BVH files in {data_dir / 'cmu'}")
    sequences, fps = [], 30.0
    for f in files:
        world, fps = load_cmu_bvh(f, 30.0)
        sequences.append(("Walking", world))
    return virtual_camera_clips(sequences, fps, 120, 8, seed)


def _humaneva_cross(data_dir: Path) -> list[BenchmarkClip]:
    spec = get_dataset_spec("humaneva")
    mocap, points, _ = load_pose_data("humaneva", "gt", data_dir)
    h36m_idx, he_idx = list(HUMANEVA_TO_H36M), list(HUMANEVA_TO_H36M.values())
    clips = []
    for subject, action in mocap.sequences():
        cams = mocap.cameras(subject)
        poses = mocap.camera_frame(subject, action)
        for c, cam in enumerate(cams):
            pixels = points.positions[subject][action][c]
            inputs = np.zeros((len(pixels), 17, 2), np.float32)
            targets = np.zeros((len(pixels), 17, 3), np.float32)
            inputs[:, h36m_idx] = cam.normalize(pixels)[:, he_idx]
            targets[:, h36m_idx] = poses[c][:, he_idx]
            inputs[:, 7] = (inputs[:, 0] + inputs[:, 8]) / 2
            inputs[:, 9] = (inputs[:, 8] + inputs[:, 10]) / 2
            clips.append(BenchmarkClip(action_group(action), inputs, targets, spec.fps))
    return clips


def benchmark_clips(
    name: str, data_dir: str | os.PathLike[str] | None = None, seed: int = 0
) -> tuple[list[BenchmarkClip], tuple[int, ...]]:
    """The clips of benchmark ``name`` and the joints it scores."""
    folder = resolve_data_dir(data_dir)
    if name == "h36m-vcam":
        return _h36m_vcam(folder, seed), tuple(range(17))
    if name == "cmu-vcam":
        return _cmu_vcam(folder, seed), SHARED_JOINTS
    if name == "humaneva-cross":
        return _humaneva_cross(folder), SHARED_JOINTS
    raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")


def _bin(value: float, bins) -> str:
    return next(label for lo, hi, label in bins if lo <= value < hi)


def evaluate_clips(model: GASTNet, clips: list[BenchmarkClip], scored: tuple[int, ...], flip: bool = True,
                   progress: bool = False, info: dict[str, Any] | None = None) -> EvaluationTable:
    """Lift every clip as a video would be lifted; per-action table plus ``info["breakdown"]``."""
    model.eval()
    cells: dict[tuple[str, ...], GroupErrors] = {}
    breakdown: dict[str, list[float]] = {}  # label -> [frames, sum mpjpe, sum p_mpjpe]
    idx = list(scored)
    for clip in progress_bar(clips, desc="benchmark", unit="clip", disable=not progress, leave=False):
        pred = torch.from_numpy(lift_at_model_rate(model, clip.inputs, clip.fps, model.skeleton if flip else None))
        target = torch.from_numpy(clip.targets).double()
        pred, target = (pred - pred[:, :1])[:, idx], (target - target[:, :1])[:, idx]  # metres
        cells.setdefault((clip.action,), GroupErrors()).add(pred, target)
        errors = (1000 * mpjpe(pred, target, reduction="none"), 1000 * p_mpjpe(pred, target, reduction="none"))
        elevation = [] if clip.elevation_deg is None else [_bin(clip.elevation_deg, ELEVATION_BINS)]
        for t, x in enumerate(clip.inputs[:, 0, 0]):
            for key in [_bin(abs(float(x)), POSITION_BINS), *elevation]:
                acc = breakdown.setdefault(key, [0, 0.0, 0.0])
                acc[0] += 1
                acc[1] += float(errors[0][t])
                acc[2] += float(errors[1][t])
    groups: list[dict[str, Any]] = [
        {"action": key[0], "frames": cells[key].frames, **cells[key].means()} for key in sorted(cells, key=_group_order)
    ]
    average = {m: float(np.mean([g[m] for g in groups])) for m in METRICS}
    order = [label for *_, label in ELEVATION_BINS + POSITION_BINS]
    info = dict(info or {})
    info["breakdown"] = {k: {"frames": v[0], "mpjpe": v[1] / v[0], "p_mpjpe": v[2] / v[0]}
                         for k, v in sorted(breakdown.items(), key=lambda kv: order.index(kv[0]))}
    return EvaluationTable(groups, average, info)


def evaluate_benchmark(checkpoint: str | os.PathLike[str], name: str, data_dir: str | os.PathLike[str] | None = None,
                       flip: bool = True, progress: bool = False, seed: int = 0) -> EvaluationTable:
    """Run benchmark ``name`` on a checkpoint file or shipped weights (``name.tag``)."""
    model = create_model(checkpoint, pretrained=True)
    if model.num_joints != 17:
        raise ValueError(f"the cross-dataset benchmarks need a Human3.6M-17 model; this one takes {model.num_joints} joints")
    clips, scored = benchmark_clips(name, data_dir, seed)
    info = {"checkpoint": str(checkpoint), "model": model.config, "dataset": name, "keypoints": "gt",
            "clips": len(clips), "frames": sum(len(c.inputs) for c in clips), "flip": flip, "seed": seed,
            "scored_joints": list(scored), "fps": sorted({round(c.fps, 2) for c in clips})}
    return evaluate_clips(model, clips, scored, flip, progress, info)
