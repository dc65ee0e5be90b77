"""Checkpoints: written atomically, carrying the model config so that a checkpoint alone rebuilds its model.

Reading also accepts the GAST-Net authors' checkpoints (see :mod:`gastnet.model.authors`): they are
converted on the fly into the same contents. Models are loaded from files by
:func:`gastnet.create_model` (``create_model(path)``), through :func:`read_model` here.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import reprlib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_path
from ..skeleton import CAPTURE_FPS
from .authors import _listed, authors_payload, describe_architecture, is_authors_checkpoint
from .gastnet import GASTNet, validate_config
from .run_config import Config
from .weights import OUTPUT_DESCRIPTION, RENAMED, Weights, input_description

__all__ = ["save_checkpoint", "load_checkpoint", "load_weights", "grow_weights", "training_frame_rates",
           "CHECKPOINT_FORMAT", "model_from_checkpoint"]

CHECKPOINT_FORMAT = "gastnet-checkpoint-1"


def save_checkpoint(path: str | os.PathLike[str], model: GASTNet, **extra: Any) -> Path:
    """Save ``model`` (state dict and config) and ``extra`` entries; the file appears complete or not at all."""
    payload = {"format": CHECKPOINT_FORMAT, "model_config": model.config, "state_dict": model.state_dict(), **extra}
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu", causal: bool | None = None
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, or an authors' checkpoint converted to
    the same contents (plus ``authors`` and ``description``); ValueError for anything else.

    ``causal`` applies to authors' files, whose tensors do not say (``None``: from the file name);
    for our own checkpoints it may only confirm what the checkpoint records.

    What the rest of gastnet reads is checked here, before any model is built: ``model_config``
    (see :func:`~gastnet.model.gastnet.validate_config`: a config beyond the sizes gastnet builds
    is refused), ``state_dict`` (names to dense tensors), the training ``config`` when present
    and ``description``; whether the weights fit the config is checked by :func:`load_weights`.
    """
    return _read_checkpoint(Path(path), map_location, causal)[0]


def _read_checkpoint(path: Path, map_location: str | torch.device, causal: bool | None) -> tuple[dict[str, Any], str]:
    """:func:`load_checkpoint`'s contents and the sha256 of the file, from one read of it."""
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    data = path.read_bytes()
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # weights_only refused something: a class or a function to call
        raise ValueError(f"{path}: not a readable checkpoint: it holds objects other than tensors and plain values, "
                         "which gastnet does not load (loading them could run code)") from None
    except Exception as err:  # torch raises several types for a corrupt or foreign file
        first = (str(err).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {first})") from None
    digest = hashlib.sha256(data).hexdigest()
    if is_authors_checkpoint(payload):
        try:  # the architecture read from the tensors goes through the same checks as a model config
            return {"format": CHECKPOINT_FORMAT, **authors_payload(payload, path, causal)}, digest
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a gastnet checkpoint (expected format {CHECKPOINT_FORMAT!r} "
                         "or the GAST-Net authors' {'model_pos': ...})")
    recorded = _check_contents(payload, str(path))["causal"]
    if causal is not None and causal != recorded:
        raise ValueError(f"{path} holds a {'causal' if recorded else 'non-causal'} model; "
                         "causal= only chooses for the authors' checkpoints, which do not record it")
    return payload, digest


def read_model(path: str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Internal (the public path is :func:`gastnet.create_model`): the model in a checkpoint file,
    ours or the authors', in eval mode with ``model.pretrained_weights`` saying what was loaded;
    ``causal`` as in :func:`load_checkpoint`."""
    payload, digest = _read_checkpoint(Path(path), "cpu", causal)
    return model_from_payload(payload, str(path), path, digest)


def model_from_payload(payload: Mapping[str, Any], source: str, path: str | os.PathLike[str] | None = None,
                       sha256: str = "") -> GASTNet:
    """Internal: the model in checked checkpoint contents (as :func:`load_checkpoint` returns them)
    read from the file ``path`` with that ``sha256`` (None and "": contents given without a file),
    in eval mode, with its metadata. ValueError, starting with ``source`` (the file, or a phrase
    naming the contents), for weights that do not fit the model config."""
    model = GASTNet.from_config(payload["model_config"])
    load_weights(model, payload["state_dict"], source)
    model.pretrained_weights = checkpoint_weights(payload, model, path, sha256)
    return model.eval()


def model_from_checkpoint(checkpoint: Mapping[str, Any] | str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """Deprecated: ``gastnet.create_model(path, causal=...)`` (which reads the file with
    :func:`read_model`, as this does); a checkpoint's loaded contents are still taken."""
    warnings.warn("model_from_checkpoint is deprecated and goes in the next release; use gastnet.create_model(path)",
                  DeprecationWarning, stacklevel=2)
    if isinstance(checkpoint, Mapping):
        _check_contents(checkpoint, "the checkpoint")  # contents loaded elsewhere: checked as load_checkpoint does
        return model_from_payload(checkpoint, "the checkpoint")
    return read_model(checkpoint, causal)


def training_frame_rates(config: Mapping[str, Any]) -> tuple[float, float] | None:
    """The frame rates (frames per second) a training run's input had, from its config: the
    range of video-like windows, or the dataset's capture rate after downsampling (equal ends);
    None when the config does not say."""
    data, augment = config.get("data", {}), config.get("augment", {})
    if augment.get("enabled"):
        low, high = augment.get("fps", (10.0, 60.0))
        return float(low), float(high)
    if data.get("dataset") in CAPTURE_FPS:
        rate = CAPTURE_FPS[data["dataset"]] / data.get("downsample", 1)
        return rate, rate
    return None


def checkpoint_weights(payload: Mapping[str, Any], model: GASTNet, path: str | os.PathLike[str] | None,
                       sha256: str = "") -> Weights:
    """The metadata of ``model``, read from a checkpoint's contents (ours or the authors', see
    :func:`load_checkpoint`) in the file ``path`` whose sha256 is ``sha256`` (None: no file), as
    :class:`~gastnet.model.weights.Weights`: what the training config says, empty where nothing
    does (the authors' files have no training config)."""
    config = payload.get("config", {})
    data, authors = config.get("data", {}), payload.get("authors", {})
    state = payload.get("state")
    state = state if isinstance(state, Mapping) else {}
    named = config.get("model", {}).get("name", "")
    counts = {key: value if isinstance(value, int) and not isinstance(value, bool) else None
              for key, value in (("epoch", (authors or state).get("epoch")), ("step", state.get("step")))}
    kind = "gastnet checkpoint" + (f" {Path(path).name}" if path is not None else "")
    return Weights(
        arch=RENAMED.get(named, named).partition(".")[0], tag="", source="authors" if authors else "checkpoint",
        file="" if path is None else str(path), sha256=sha256,
        description=payload.get("description") or f"{kind}: {describe_architecture(model)}",
        training_data=_training_data(data), keypoints_2d=_training_keypoints(config),
        joint_layout=model.skeleton.name, input=input_description(model.num_joints), output=OUTPUT_DESCRIPTION,
        frame_rates=training_frame_rates(config), metrics=(), licence="", train_config=dict(config),
        epochs=counts["epoch"], steps=counts["step"], wall_time_h=None, training_curve=(),
        recorded_frames=0, recorded_outputs=(),
    )


def _training_data(data: Mapping[str, Any]) -> str:
    if not data.get("dataset"):
        return ""
    subjects = data.get("train_subjects")
    step = data.get("downsample", 1)
    return (data["dataset"] + (f", subjects {', '.join(subjects)}" if subjects else ", its standard training subjects")
            + (f", one frame in {step}" if step > 1 else ""))


def _training_keypoints(config: Mapping[str, Any]) -> str:
    if not config.get("data"):
        return ""
    noise = config.get("train", {}).get("noise_std", 0)
    video = config.get("augment", {}).get("enabled")
    return (f"{config['data'].get('keypoints', 'gt')} 2D" + (" as video-like windows (gastnet.data.video_windows)"
                                                          if video else "")
            + (f", Gaussian noise {noise:g}" if noise else ""))


def _check_contents(payload: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The checked model config (see :func:`load_checkpoint`) of a checkpoint's contents; ValueError,
    starting with ``source``, for anything gastnet could not read."""
    missing = [key for key in ("model_config", "state_dict") if key not in payload]
    if missing:
        raise ValueError(f"{source}: no {' or '.join(missing)} (expected the model's config and weights, "
                         "as gastnet writes them)")
    try:
        config = validate_config(payload["model_config"])
    except ValueError as err:
        raise ValueError(f"{source}: model_config: {err}") from None
    state_dict = payload["state_dict"]
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: state_dict: expected a table of tensors, found {type(state_dict).__name__}")
    for key, value in state_dict.items():
        if not (isinstance(key, str) and isinstance(value, torch.Tensor) and value.layout == torch.strided):
            found = f"a {value.layout} tensor" if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{source}: state_dict: expected names of dense tensors, "
                             f"found {reprlib.repr(key)}: {found}")
    if "config" in payload:
        try:
            Config.from_dict(payload["config"])
        except ValueError as err:
            raise ValueError(f"{source}: training config: {err}") from None
    if not isinstance(payload.get("description", ""), str):
        raise ValueError(f"{source}: description: expected a string, found {type(payload['description']).__name__}")
    return config


def load_weights(model: GASTNet, state_dict: Mapping[str, Any], source: str) -> None:
    """Load ``state_dict`` into ``model``; ValueError, starting with ``source``, naming missing and
    unexpected keys and tensors of the wrong shape or kind, when it does not fit the model."""
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: expected the weights as a table of tensors, found {type(state_dict).__name__}")
    expected = model.state_dict()

    def fits(want: torch.Tensor, have: Any) -> bool:
        return (isinstance(have, torch.Tensor) and have.shape == want.shape and have.layout == torch.strided
                and have.dtype.is_floating_point == want.dtype.is_floating_point
                and not have.is_complex() and have.dtype != torch.bool)

    def found(have: Any) -> str:
        return f"{tuple(have.shape)} {have.dtype}" if isinstance(have, torch.Tensor) else type(have).__name__

    missing = [k for k in expected if k not in state_dict]
    unexpected = [str(k) for k in state_dict if k not in expected]
    wrong = [f"{k}: expected {tuple(v.shape)} {v.dtype}, found {found(state_dict[k])}"
             for k, v in expected.items() if k in state_dict and not fits(v, state_dict[k])]
    problems = ([f"missing keys {_listed(missing)}"] if missing else []) + (
        [f"unexpected keys {_listed(unexpected)}"] if unexpected else []) + (
        [_listed(wrong)] if wrong else [])
    if problems:
        raise ValueError(f"{source}: the weights do not fit the model its config describes "
                         f"({describe_architecture(model)}): " + "; ".join(problems))
    model.load_state_dict(state_dict)


# -- growing a model's receptive field ------------------------------------------------------------

# The bias of the last BatchNorm of a grown temporal block's residual branch: its scale is zero, so
# the branch adds this constant (in feature units, below the float32 resolution of the features it is
# added to) and its ReLU still passes gradients (a zero would leave the branch dead for good).
GROWN_BRANCH_BIAS = 1e-7


def _temporal_blocks(state_dict: Mapping[str, Any]) -> int:
    """How many temporal blocks a GASTNet state dict holds (``temporal_blocks.<i>.`` keys)."""
    indices = {str(k).split(".")[1] for k in state_dict if str(k).startswith("temporal_blocks.")}
    return 1 + max((int(i) for i in indices if i.isdigit()), default=-1)


def grow_weights(model: GASTNet, state_dict: Mapping[str, Any], source: str,
                 calibration: torch.Tensor | None = None) -> None:
    """Load ``state_dict`` into ``model``; when it is the same architecture with fewer temporal blocks
    (a smaller receptive field: RF 27 into RF 81 or 243), grow it so that at the start ``model`` (in
    eval mode) gives the smaller model's output on the centre (causal: the last) ``RF_small`` frames.

    Every tensor of the same name and shape is copied. Each extra temporal block starts as the cropped
    identity of its residual connection: the last BatchNorm of its branch has scale 0 (and the tiny
    bias :data:`GROWN_BRANCH_BIAS`, so that gradients pass its ReLU). Each extra graph attention block
    passes its input through in the first half of its output channels (fusion weights [I, 0, 0], and
    a BatchNorm whose eval-mode affine map is the identity) while the other half starts as a new
    layer; the head reads the old channels with the old weights and the new ones with zeros.

    ``calibration``: model inputs (B, T >= RF, J, 2), e.g. a training batch. The pass-through
    BatchNorms then take the batch statistics of their inputs on it as running statistics, scale and
    shift, so that in training mode too (batch statistics) they stay close to the identity; without
    it they are (0, 1). Otherwise (as many blocks) this is :func:`load_weights`.
    """
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: expected the weights as a table of tensors, found {type(state_dict).__name__}")
    old_blocks, new_blocks = _temporal_blocks(state_dict), len(model.temporal_blocks)
    if old_blocks >= new_blocks or "head.weight" not in state_dict:
        load_weights(model, state_dict, source)
        return
    temporal: list[Any] = list(model.temporal_blocks)  # TemporalBlock (typed loosely: ModuleList items)
    attention: list[Any] = list(model.attention_blocks)  # GraphAttentionBlock
    grown = {k: v.clone() for k, v in model.state_dict().items()}
    head = grown["head.weight"]
    old_head = state_dict["head.weight"]
    width = attention[old_blocks].fuse.linear.weight.shape[0]  # channels out of the old last block
    if not isinstance(old_head, torch.Tensor) or tuple(old_head.shape) != (head.shape[0], width):
        raise ValueError(f"{source}: a head of shape {tuple(getattr(old_head, 'shape', ()))} cannot grow into "
                         f"{describe_architecture(model)} (expected ({head.shape[0]}, {width}))")
    load_weights(model, {**grown, **{k: v for k, v in state_dict.items() if k != "head.weight"}}, source)
    with torch.no_grad():
        for i in range(old_blocks, new_blocks):
            branch_norm = temporal[i].pointwise.norm
            branch_norm.weight.zero_()
            branch_norm.bias.fill_(GROWN_BRANCH_BIAS)
            fuse = attention[i + 1].fuse
            d = fuse.linear.weight.shape[0] // 2
            fuse.linear.weight[:d].zero_()
            fuse.linear.weight[:d, :d].copy_(torch.eye(d))
            mean, var = torch.zeros(d), torch.ones(d) - fuse.norm.eps
            if calibration is not None:
                mean, var = _input_statistics(model, fuse, d, calibration)
            norm = fuse.norm
            norm.running_mean[:d] = mean
            norm.running_var[:d] = var
            norm.weight[:d] = torch.sqrt(var + norm.eps)
            norm.bias[:d] = mean
        model.head.weight.zero_()
        model.head.weight[:, :width].copy_(old_head)


def _input_statistics(model: GASTNet, layer: torch.nn.Module, channels: int,
                      inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and (biased) variance of the first ``channels`` input features of ``layer``
    in a training-mode pass of ``model`` over ``inputs``; no running statistic, random state or
    mode of the model changes."""
    seen: list[torch.Tensor] = []
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    momenta, was_training = [m.momentum for m in norms], model.training
    hook = layer.register_forward_pre_hook(lambda _module, args: seen.append(args[0][..., :channels]))
    try:
        for m in norms:
            m.momentum = 0.0  # running statistics stay as they are
        with torch.random.fork_rng():
            model.train()
            model(inputs[:, : model.receptive_field] if model.form == "strided" else inputs)
    finally:
        hook.remove()
        model.train(was_training)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    flat = seen[0].reshape(-1, channels)
    return flat.mean(0), flat.var(0, unbiased=False)
