"""Named model configurations: ``create_model("gastnet_rf27")``.

Every entry records the architecture (the keyword arguments of :class:`~gastnet.model.GASTNet`)
and a one-line description. Presets follow the published models (FACTS: receptive fields
9/27/81/243 with filter widths of 3) and the paper's ablations (Tables I and II).
"""

from __future__ import annotations

import fnmatch
import inspect
import os
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..skeleton import get_skeleton
from .checkpoint import model_from_checkpoint
from .gastnet import GASTNet, receptive_field
from .weights import get_weights

__all__ = ["ModelSpec", "register_model", "create_model", "load_model", "list_models", "get_model_spec", "count_parameters"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its name, description and constructor arguments."""

    name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, description: str, **config: Any) -> ModelSpec:
    """Register ``config`` (keyword arguments of :class:`GASTNet`) under ``name``."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    spec = ModelSpec(name, description, dict(config))
    _REGISTRY[name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of: {', '.join(list_models())}") from None


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted.

    >>> list_models("gastnet_rf*_causal")
    ['gastnet_rf243_causal', 'gastnet_rf27_c32_causal', 'gastnet_rf27_c32_video_causal', 'gastnet_rf27_causal', 'gastnet_rf81_causal', 'gastnet_rf9_causal']
    """
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def create_model(
    name: str | None,
    pretrained: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> GASTNet:
    """Build the registered model ``name``; ``overrides`` replace entries of its config.

    With ``pretrained=True`` the shipped weights are loaded (offline) and the model is returned in
    eval mode with ``model.weights`` holding their metadata; the architecture cannot be overridden.

    With ``checkpoint=PATH`` (our checkpoint or the GAST-Net authors' file) the weights come from
    that file, in eval mode; its architecture must be the one registered as ``name`` (ValueError
    naming what differs), or ``name=None`` takes the file's (see :func:`load_model`). Only
    ``dropout`` and ``form`` may be overridden then.

    >>> model = create_model("gastnet_rf27", dropout=0.0)
    >>> model.receptive_field, count_parameters(model)
    (27, 6915984)
    """
    if checkpoint is not None:
        if pretrained:
            raise ValueError("give pretrained=True or checkpoint=..., not both")
        fixed = sorted(set(overrides) - {"dropout", "form"})
        if fixed:
            raise ValueError(f"a checkpoint fixes the architecture; cannot override {fixed}")
        model = load_model(checkpoint)
        if name is not None:
            _check_architecture(name, model, checkpoint)
        if overrides.get("dropout", model.config["dropout"]) != model.config["dropout"]:
            rebuilt = GASTNet.from_config({**model.config, "dropout": overrides["dropout"]})
            rebuilt.load_state_dict(model.state_dict())
            rebuilt.__dict__.update({k: getattr(model, k) for k in ("description", "frame_rate", "frame_rate_range")})
            model = rebuilt.eval()
        model.form = overrides.get("form", model.form)
        return model
    if name is None:
        raise ValueError("create_model needs a registered model name, or checkpoint=PATH")
    spec = get_model_spec(name)
    if not pretrained:
        return GASTNet(**{**spec.config, **overrides})
    weights = get_weights(name)
    changed = {k: v for k, v in overrides.items() if k != "dropout" and spec.config.get(k) != v}
    if changed:
        raise ValueError(f"pretrained weights fix the architecture of {name!r}; cannot override {sorted(changed)}")
    model = GASTNet(**{**spec.config, **overrides})
    model.load_state_dict(weights.state_dict())
    model.weights = weights  # metadata travels with the model
    model.frame_rate = weights.meta.get("frame_rate")
    if weights.meta.get("frame_rate_range"):
        model.frame_rate_range = tuple(weights.meta["frame_rate_range"])
    return model.eval()


def load_model(checkpoint: str | os.PathLike[str], causal: bool | None = None) -> GASTNet:
    """The model in a checkpoint file, ours or the GAST-Net authors', with the file's architecture.

    Eval mode; ``model.description`` says what was found (receptive field, C, joints, causality).
    ``causal`` only matters for the authors' files, which do not record it (``None``: a file whose
    name contains "causal" is causal).
    """
    return model_from_checkpoint(checkpoint, causal=causal)


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
        if any(d.startswith("causal") for d in diffs) and getattr(model, "description", "").startswith("authors'"):
            note = (" (the authors' files do not record causality: it follows the file name; "
                    "load_model(..., causal=...) chooses)")
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
for _suffix, _causal in (("", False), ("_causal", True)):
    register_model(
        f"gastnet_rf27_c32{_suffix}",
        f"Human3.6M-17, receptive field 27, C=32 (narrow, CPU-trainable){', causal' if _causal else ''}",
        skeleton="h36m17", filter_widths=(3, 3, 3), channels=32, dropout=0.05, causal=_causal,
    )

register_model(
    "gastnet_rf27_c32_wild",
    "Human3.6M-17, receptive field 27, C=32, trained with 2D noise for detector input (in-the-wild default)",
    skeleton="h36m17", filter_widths=(3, 3, 3), channels=32, dropout=0.05,
)

for _suffix, _causal in (("", False), ("_causal", True)):
    register_model(
        f"gastnet_rf27_c32_video{_suffix}",
        "Human3.6M-17, receptive field 27, C=32, trained on video-like input (virtual cameras, bodies, "
        f"detector joints and errors, 10-60 fps){'; causal' if _causal else ''}",
        skeleton="h36m17", filter_widths=(3, 3, 3), channels=32, dropout=0.05, causal=_causal,
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
