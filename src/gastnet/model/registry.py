"""Named model configurations and the one way to get a model: ``create_model``.

Every architecture is registered once, with its keyword arguments of
:class:`~gastnet.model.GASTNet` and a one-line description. Presets follow the published models
(FACTS: receptive fields 9/27/81/243 with filter widths of 3) and the paper's ablations (Tables I
and II). Shipped weights are tags of an architecture, timm-style ``name.tag`` (see
:mod:`gastnet.model.weights`): ``create_model("gastnet_rf27_c32.video", pretrained=True)``.
"""

from __future__ import annotations

import fnmatch
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..skeleton import get_skeleton
from .checkpoint import read_model
from .gastnet import GASTNet, receptive_field
from .weights import PRETRAINED, RENAMED, get_weights, pretrained_tags, renamed_to

__all__ = ["ModelSpec", "register_model", "create_model", "list_models", "get_model_spec", "split_model_name",
           "count_parameters"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its name, description and constructor arguments."""

    name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, ModelSpec] = {}

_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".tar")
_FILE_OVERRIDES = {"dropout", "form", "causal"}  # what may change when a file fixes the architecture
_WEIGHTS_OVERRIDES = {"dropout", "form"}  # and with shipped weights


def register_model(name: str, description: str, **config: Any) -> ModelSpec:
    """Register ``config`` (keyword arguments of :class:`GASTNet`) under ``name``."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    if "." in name:
        raise ValueError(f"model {name!r}: expected a name without a dot (the dot separates a weight tag)")
    spec = ModelSpec(name, description, dict(config))
    _REGISTRY[name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    """The registered architecture ``name`` (not a ``name.tag``: see :func:`split_model_name`)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of: {', '.join(list_models())}") from None


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Registered architectures matching a shell-style ``pattern``, sorted; with ``pretrained=True``
    every ``name.tag`` that has shipped weights, the pattern matching the name or the whole ``name.tag``.

    >>> list_models("gastnet_rf*_causal")  # doctest: +NORMALIZE_WHITESPACE
    ['gastnet_rf243_causal', 'gastnet_rf27_c32_causal', 'gastnet_rf27_causal', 'gastnet_rf81_c32_causal',
     'gastnet_rf81_causal', 'gastnet_rf9_causal']
    >>> list_models("gastnet_rf27_c32*", pretrained=True)  # doctest: +NORMALIZE_WHITESPACE
    ['gastnet_rf27_c32.h36m', 'gastnet_rf27_c32.h36m_noise', 'gastnet_rf27_c32.video', 'gastnet_rf27_c32_causal.h36m',
     'gastnet_rf27_c32_causal.video', 'gastnet_rf27_c32_humaneva.humaneva']
    """
    if pretrained:
        return sorted(n for n, w in PRETRAINED.items() if fnmatch.fnmatchcase(n, pattern)
                      or fnmatch.fnmatchcase(w.arch, pattern))
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def split_model_name(name: str) -> tuple[str, str | None]:
    """The registered architecture and the weight tag (None: none given) a model name stands for.

    A name of the previous release (``gastnet_rf27_c32_video``) gives its replacement, with a
    DeprecationWarning. ValueError for an unknown architecture or tag.

    >>> split_model_name("gastnet_rf27_c32.video"), split_model_name("gastnet_rf9")
    (('gastnet_rf27_c32', 'video'), ('gastnet_rf9', None))
    """
    arch, dot, tag = renamed_to(name, stacklevel=2).partition(".")
    spec = get_model_spec(arch)
    if dot and tag not in pretrained_tags(arch):
        tags = ", ".join(pretrained_tags(arch)) or "none"
        raise ValueError(f"no weights tagged {tag!r} for {spec.name}; expected one of its tags: {tags}")
    return arch, tag if dot else None


def _is_model_name(text: str) -> bool:
    """Whether ``text`` names a model (an architecture, ``name.tag`` or an old name) rather than a file."""
    if text in _REGISTRY or text in RENAMED or text in PRETRAINED:
        return True
    arch, dot, _ = text.partition(".")  # a name with an unknown tag, unless a file is meant
    return bool(dot) and arch in _REGISTRY and not _is_path(text)


def _is_path(text: str) -> bool:
    """Whether ``text``, not a model name, is meant as a file: it exists, or looks like a path."""
    return Path(text).is_file() or os.sep in text or "/" in text or text.lower().endswith(_CHECKPOINT_SUFFIXES)


def create_model(
    name_or_path: str | os.PathLike[str] | None,
    pretrained: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> GASTNet:
    """The one way to get a model: a registered architecture, shipped weights, or a checkpoint file.

    - ``create_model("gastnet_rf27")``: the architecture with random weights (train mode);
      ``overrides`` replace entries of its config (keyword arguments of :class:`GASTNet`, and ``form``).
    - ``create_model("gastnet_rf27_c32.video", pretrained=True)``: the shipped weights of that tag
      (the bare name: the architecture's default tag; see ``list_models(pretrained=True)``),
      offline, the file's sha256 checked. Only ``dropout`` and ``form`` may be overridden. Without
      ``pretrained`` a ``name.tag`` builds the architecture with random weights (as in timm).
    - ``create_model(path)``: the model in a checkpoint file, ours or the GAST-Net authors', with
      the file's architecture (``pretrained`` changes nothing: a file always brings its weights).
      Only ``dropout``, ``form`` and ``causal`` may be given: ``causal`` chooses for the authors'
      files, which do not record it (default: "causal" in the file name), and may only confirm
      ours.
    - ``create_model(name, checkpoint=path)``: the same, checking that the file holds the
      registered architecture ``name`` (ValueError naming every difference); ``name=None`` takes
      the file's architecture.

    A string is a model name when it names a registered architecture, a ``name.tag`` or an old
    name; otherwise a file. Old names (``gastnet_rf27_c32_video``) give their replacement with a
    DeprecationWarning. Models with weights come in eval mode with ``model.pretrained_weights``
    (:class:`~gastnet.model.weights.Weights`) saying what the weights are; a model with random
    weights has ``pretrained_weights=None``.

    >>> model = create_model("gastnet_rf27", dropout=0.0)
    >>> model.receptive_field, count_parameters(model), model.pretrained_weights
    (27, 6915984, None)
    >>> create_model("gastnet_rf27_c32.video", pretrained=True).pretrained_weights.frame_rates
    (10.0, 60.0)
    """
    if isinstance(name_or_path, str):
        name_or_path = renamed_to(name_or_path, stacklevel=2)
    if checkpoint is not None:
        if pretrained:
            raise ValueError("give pretrained=True or checkpoint=..., not both")
        if name_or_path is not None and not (isinstance(name_or_path, str) and _is_model_name(name_or_path)):
            raise ValueError(f"with checkpoint=..., expected a registered model name or None, found {name_or_path!r}")
        model = _from_file(checkpoint, overrides)
        if name_or_path is not None:
            _check_architecture(split_model_name(name_or_path)[0], model, checkpoint)
        return model
    if name_or_path is None:
        raise ValueError("create_model needs a registered model name, a checkpoint file, or checkpoint=PATH")
    if isinstance(name_or_path, str) and (_is_model_name(name_or_path) or not _is_path(name_or_path)):
        return _from_registry(name_or_path, pretrained, overrides)
    return _from_file(name_or_path, overrides)


def _from_registry(name: str, pretrained: bool, overrides: dict[str, Any]) -> GASTNet:
    arch, tag = split_model_name(name)
    spec = get_model_spec(arch)
    if not pretrained:
        return GASTNet(**{**spec.config, **overrides})
    weights = get_weights(f"{arch}.{tag}" if tag else arch)
    changed = sorted(k for k, v in overrides.items() if k not in _WEIGHTS_OVERRIDES and spec.config.get(k) != v)
    if changed:
        raise ValueError(f"pretrained weights fix the architecture of {weights.name!r}; cannot override {changed}")
    model = GASTNet(**{**spec.config, **overrides})
    model.load_state_dict(weights.state_dict())
    model.pretrained_weights = weights
    return model.eval()


def _from_file(path: str | os.PathLike[str], overrides: dict[str, Any]) -> GASTNet:
    fixed = sorted(set(overrides) - _FILE_OVERRIDES)
    if fixed:
        raise ValueError(f"a checkpoint fixes the architecture; cannot override {fixed}")
    model = read_model(path, causal=overrides.get("causal"))
    if overrides.get("dropout", model.config["dropout"]) != model.config["dropout"]:
        rebuilt = GASTNet.from_config({**model.config, "dropout": overrides["dropout"]})
        rebuilt.load_state_dict(model.state_dict())
        rebuilt.pretrained_weights = model.pretrained_weights
        model = rebuilt.eval()
    model.form = overrides.get("form", model.form)
    return model


_ARCHITECTURE = ("channels", "causal", "local_graphs", "adaptive_attention", "learned_attention", "num_heads",
                 "in_channels", "num_joints_out")


def _check_architecture(name: str, model: GASTNet, checkpoint: str | os.PathLike[str]) -> None:
    """ValueError naming every difference between the registered ``name`` and a checkpoint's model."""
    spec = get_model_spec(name)
    defaults = {k: p.default for k, p in inspect.signature(GASTNet).parameters.items()}
    want = {**defaults, **spec.config}
    have = model.config
    diffs = []
    widths = tuple(want["filter_widths"])
    if widths != tuple(model.filter_widths):
        diffs.append(f"receptive field {model.receptive_field} (widths {', '.join(map(str, model.filter_widths))}) in the "
                     f"file, {receptive_field(widths)} (widths {', '.join(map(str, widths))}) for {name}")
    if get_skeleton(want["skeleton"]).name != model.skeleton.name:
        diffs.append(f"skeleton {model.skeleton.name} ({model.num_joints} joints) in the file, "
                     f"{get_skeleton(want['skeleton']).name} for {name}")
    for key in _ARCHITECTURE:
        a, b = have.get(key), want[key]
        if (list(a) if isinstance(a, (list, tuple)) else a) != (list(b) if isinstance(b, (list, tuple)) else b):
            diffs.append(f"{'C' if key == 'channels' else key}={a} in the file, {b} for {name}")
    if diffs:
        note = ""
        weights = model.pretrained_weights
        if any(d.startswith("causal") for d in diffs) and weights is not None and weights.source == "authors":
            note = (" (the authors' files do not record causality: it follows the file name; "
                    "create_model(..., causal=...) chooses)")
        raise ValueError(f"{checkpoint} does not hold {name}: " + "; ".join(diffs) + note)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (buffers such as BatchNorm statistics are not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_PAPER_WIDTHS = {9: ((3, 3), 128), 27: ((3, 3, 3), 128), 81: ((3, 3, 3, 3), 64), 243: ((3, 3, 3, 3, 3), 32)}

for _rf, (_widths, _channels) in _PAPER_WIDTHS.items():
    register_model(
        f"gastnet_rf{_rf}",
        f"Human3.6M-17, receptive field {_rf}, widths {_widths}, C={_channels} (paper)",
        skeleton="h36m17", filter_widths=_widths, channels=_channels, dropout=0.05,
    )
    register_model(
        f"gastnet_rf{_rf}_causal",
        f"Human3.6M-17, causal (real-time), receptive field {_rf}, C={_channels}",
        skeleton="h36m17", filter_widths=_widths, channels=_channels, dropout=0.05, causal=True,
    )

# Narrow variants that train on a CPU in hours (see configs/cpu/); the architecture is the paper's.
# Their weights: tags h36m (clean 2D), h36m_noise (2D noise) and video (video-like input), see weights.py.
for _suffix, _causal in (("", False), ("_causal", True)):
    for _widths in ((3, 3, 3), (3, 3, 3, 3)):
        register_model(
            f"gastnet_rf{receptive_field(_widths)}_c32{_suffix}",
            f"Human3.6M-17, receptive field {receptive_field(_widths)}, C=32 (narrow, CPU-trainable)"
            f"{', causal' if _causal else ''}",
            skeleton="h36m17", filter_widths=_widths, channels=32, dropout=0.05, causal=_causal,
        )

for _channels in (32, 64):
    register_model(
        f"gastnet_rf27_c{_channels}_humaneva",
        f"HumanEva-I-15, receptive field 27, C={_channels} (narrow, CPU-trainable), dropout 0.25",
        skeleton="humaneva15", filter_widths=(3, 3, 3), channels=_channels, dropout=0.25,
    )

register_model(
    "gastnet_rf27_humaneva",
    "HumanEva-I-15, receptive field 27, C=128, dropout 0.5 (paper)",
    skeleton="humaneva15", filter_widths=(3, 3, 3), channels=128, dropout=0.5,
)

# Ablations on the receptive-field-27 model: Table I adds components one by one, Table II removes one.
_ABLATIONS = {
    "plain": ("temporal convolutions + first-order graph (Table I, first row)", ("first_order",), False, False),
    "ac": ("kinematic graph A_c only, no global attention (Table I)", ("kinematic",), False, False),
    "ac_as": ("A_c and A_s, no global attention (Table I)", ("symmetric", "kinematic"), False, False),
    "ac_as_bk": ("A_c, A_s and adaptive B_k (Table I)", ("symmetric", "kinematic"), True, False),
    "no_ac": ("full model without A_c (Table II)", ("symmetric",), True, True),
    "no_as": ("full model without A_s (Table II)", ("kinematic",), True, True),
}
for _suffix, (_text, _graphs, _adaptive, _learned) in _ABLATIONS.items():
    register_model(
        f"gastnet_rf27_ablation_{_suffix}",
        f"Human3.6M-17, RF 27 ablation: {_text}",
        skeleton="h36m17", filter_widths=(3, 3, 3), channels=128, dropout=0.05,
        local_graphs=_graphs, adaptive_attention=_adaptive, learned_attention=_learned,
    )
