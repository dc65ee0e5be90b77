"""Checkpoints written by the GAST-Net authors' code, read into :class:`~gastnet.model.GASTNet`
(load one with ``gastnet.create_model(path)``; this module converts, it loads nothing).

The authors' training script saves ``torch.save({'epoch', 'lr', 'model_pos': state_dict})``. Their
layers are 2-D convolutions on ``(B, C, T, J)``; ours work channels-last, so kernels lose their
trailing unit axes and per-head tensors are stacked. With ``i`` a temporal block, ``b`` a graph
attention block, ``k`` a head of width ``h = D / K`` (authors' name -> ours):

- ``init_bn`` -> ``input_norm``; ``expand_conv.weight`` (C, 2, w, 1) -> ``stem.weight`` (C, 2, w);
  ``expand_bn`` -> ``stem_norm``; ``shrink.weight`` (3, W, 1, 1) -> ``head.weight`` (3, W).
- ``layers_conv.{2i}`` (D, D, w, 1) / ``layers_bn.{2i}`` -> ``temporal_blocks.{i}.conv`` (D, D, w) /
  ``.norm``; ``layers_conv.{2i+1}`` (D, D, 1, 1) / ``layers_bn.{2i+1}`` -> ``.pointwise.linear`` /
  ``.pointwise.norm``.
- ``layers_graph_conv.{b}.`` -> ``attention_blocks.{b}.``, inside it: ``local_graph_layer.gcn_sym.{W,e}``
  / ``gcn_con`` -> ``local.convs.0/1.{weight,logits}``; ``bn_1/bn_2`` -> ``local.norms.0/1``;
  ``local_graph_layer.cat_conv/cat_bn`` -> ``local.fuse.linear/norm``;
  ``global_graph_layer.cat_conv/cat_bn`` -> ``glob.out.linear/norm``; ``cat_conv/cat_bn`` -> ``fuse.linear/norm``.
- ``global_graph_layer.attentions.{k}.{theta,phi,g}.weight`` (h, D, 1) and ``.bias`` (h,) are rows
  ``k h .. (k+1) h`` of ``glob.{theta,phi,g}``; ``attentions.{k}.concat_project.0.weight`` (1, 2h, 1, 1)
  is ``glob.w_f[k]``; ``attentions.{k}.C_k`` (J, J) is ``glob.C[k]``.

Causality cannot be read from the tensors: a causal model differs only in how residuals are cropped.
The rule used when it is not given: a file whose name contains ``causal`` is causal (the authors
name theirs ``27_frame_model_causal.bin``), any other is not.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import torch

from ..skeleton import get_skeleton, list_skeletons
from .gastnet import GASTNet
from .graph import graph_matrix

__all__ = [
    "is_authors_checkpoint", "inspect_authors_state_dict", "convert_authors_state_dict", "causal_from_name",
    "authors_payload", "describe_architecture",
]

_TOP = {"input_norm": "init_bn", "stem": "expand_conv", "stem_norm": "expand_bn", "head": "shrink"}
_BLOCK = {
    "local.convs.0": "local_graph_layer.gcn_sym", "local.convs.1": "local_graph_layer.gcn_con",
    "local.norms.0": "local_graph_layer.bn_1", "local.norms.1": "local_graph_layer.bn_2",
    "local.fuse.linear": "local_graph_layer.cat_conv", "local.fuse.norm": "local_graph_layer.cat_bn",
    "glob.out.linear": "global_graph_layer.cat_conv", "glob.out.norm": "global_graph_layer.cat_bn",
    "fuse.linear": "cat_conv", "fuse.norm": "cat_bn",
}
_GRAPH_PARAMS = {"weight": "W", "logits": "e"}
_HEAD_PREFIX = re.compile(r"layers_graph_conv\.0\.global_graph_layer\.attentions\.(\d+)\.C_k")


def _state_dict_of(obj: Any) -> dict[str, Any] | None:
    """The authors' state dict in ``obj`` (a saved checkpoint or a bare state dict), ``module.`` prefixes removed."""
    if not isinstance(obj, dict):
        return None
    sd = obj.get("model_pos", obj)
    if not isinstance(sd, dict) or not all(isinstance(k, str) for k in sd):
        return None
    if sd and all(k.startswith("module.") for k in sd):  # saved from nn.DataParallel
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def is_authors_checkpoint(obj: Any) -> bool:
    """Whether ``obj`` (what ``torch.load`` returned) is the authors' checkpoint or state dict."""
    sd = _state_dict_of(obj)
    return sd is not None and ("model_pos" in obj or "expand_conv.weight" in sd)


def _tensor(sd: dict[str, Any], key: str, ndim: int) -> torch.Tensor:
    value = sd.get(key)
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"missing key {key!r} (not an authors' GAST-Net checkpoint?)")
    if value.ndim != ndim:
        raise ValueError(f"{key}: expected a {ndim}-D tensor, found shape {tuple(value.shape)}")
    return value


def inspect_authors_state_dict(state_dict: dict[str, Any]) -> dict[str, Any]:
    """The architecture of an authors' state dict, read from its tensors.

    Returns ``filter_widths`` (from the kernel sizes of ``expand_conv`` and ``layers_conv.{2i}``),
    ``receptive_field``, ``channels`` C, ``in_channels``, ``num_heads``, ``num_joints`` J (from
    ``C_k``), ``skeleton`` (the registered skeleton with J joints and the file's graph sizes) and
    ``causal: None`` (the tensors do not tell; see the module docstring).
    """
    sd = _state_dict_of(state_dict)
    if sd is None:
        raise ValueError("not a state dict (expected a dict of tensors, or a checkpoint with 'model_pos')")
    stem = _tensor(sd, "expand_conv.weight", 4)
    widths = [int(stem.shape[2])]
    while f"layers_conv.{2 * (len(widths) - 1)}.weight" in sd:
        widths.append(int(_tensor(sd, f"layers_conv.{2 * (len(widths) - 1)}.weight", 4).shape[2]))
    heads = sorted(int(m[1]) for k in sd if (m := _HEAD_PREFIX.fullmatch(k)))
    first_head = "layers_graph_conv.0.global_graph_layer.attentions.0.C_k"
    joints = int(_tensor(sd, first_head, 2).shape[0])  # also says when it is missing
    return {
        "filter_widths": widths, "receptive_field": math.prod(widths), "channels": int(stem.shape[0]),
        "in_channels": int(stem.shape[1]), "num_heads": heads[-1] + 1, "num_joints": joints,
        "skeleton": _skeleton_for(joints, sd), "causal": None,
    }


def _skeleton_for(joints: int, sd: dict[str, Any]) -> str:
    """The registered skeleton with ``joints`` joints, preferring one whose A_s has as many non-zeros as the file's."""
    names = [n for n in list_skeletons() if get_skeleton(n).num_joints == joints]
    if not names:
        have = ", ".join(f"{n} ({get_skeleton(n).num_joints})" for n in list_skeletons())
        raise ValueError(f"the checkpoint has {joints} joints; no registered skeleton has that many (registered: {have})")
    edges = sd.get("layers_graph_conv.0.local_graph_layer.gcn_sym.e")
    sizes = {n: int(graph_matrix(get_skeleton(n), "symmetric").sum()) for n in names}
    fits = [n for n in names if edges is not None and edges.shape[-1] == sizes[n]]
    return (fits or names)[0]


def _authors_parts(key: str, shape: tuple[int, ...], heads: int) -> list[tuple[str, tuple[int, ...]]]:
    """The authors' names and shapes of the tensors making up our tensor ``key`` (one per head for per-head ones)."""
    path, _, param = key.rpartition(".")
    if m := re.fullmatch(r"attention_blocks\.(\d+)\.glob(?:\.(theta|phi|g))?", path):
        base, h = f"layers_graph_conv.{m[1]}.global_graph_layer.attentions", shape[0] // heads
        part: tuple[int, ...]
        if m[2]:
            name, part = f"{m[2]}.{param}", ((h, shape[1], 1) if param == "weight" else (h,))
        else:
            name, part = {"w_f": ("concat_project.0.weight", (1, shape[1], 1, 1)), "C": ("C_k", shape[1:])}[param]
        return [(f"{base}.{k}.{name}", part) for k in range(heads)]
    if m := re.fullmatch(r"temporal_blocks\.(\d+)\.(conv|norm|pointwise\.linear|pointwise\.norm)", path):
        kind = "bn" if m[2].endswith("norm") else "conv"
        module = f"layers_{kind}.{2 * int(m[1]) + m[2].startswith('pointwise')}"
    elif m := re.fullmatch(r"attention_blocks\.(\d+)\.(.+)", path):
        module = f"layers_graph_conv.{m[1]}.{_BLOCK[m[2]]}"
        param = _GRAPH_PARAMS.get(param, param) if ".convs." in path else param
    else:
        module = _TOP[path]
    if path == "stem" or path.endswith(".conv"):
        shape = (*shape, 1)  # temporal kernel (w, 1)
    elif path == "head" or path.endswith(".linear"):
        shape = (*shape, 1, 1)  # 1 x 1 convolution
    return [(f"{module}.{param}", shape)]


def _listed(keys: list[str], limit: int = 3) -> str:
    more = f" (and {len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def convert_authors_state_dict(
    state_dict: dict[str, Any], causal: bool = False, dropout: float = 0.05
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Our model config and state dict for an authors' state dict (or checkpoint with ``model_pos``).

    ``causal`` cannot be read from the tensors and must be given; ``dropout`` is not stored either.
    ValueError names unexpected, missing or wrongly shaped keys.
    """
    sd = _state_dict_of(state_dict)
    info = inspect_authors_state_dict(state_dict)
    if sd is None:  # inspect_authors_state_dict refused it already
        raise ValueError("not a GAST-Net authors' state dict")
    model = GASTNet(skeleton=info["skeleton"], filter_widths=info["filter_widths"], channels=info["channels"],
                    dropout=dropout, causal=causal, num_heads=info["num_heads"], in_channels=info["in_channels"])
    layout = {key: _authors_parts(key, tuple(t.shape), info["num_heads"]) for key, t in model.state_dict().items()}
    names = {name: part for parts in layout.values() for name, part in parts}
    unexpected = [k for k in sd if k not in names]
    missing = [n for n in names if n not in sd and not n.endswith("num_batches_tracked")]
    problems = ([f"unexpected keys: {_listed(unexpected)}"] if unexpected else []) + (
        [f"missing keys: {_listed(missing)}"] if missing else [])
    if problems:
        layout_name = f"RF {info['receptive_field']}, C={info['channels']}"
        raise ValueError(f"not the authors' layout for {layout_name}: " + "; ".join(problems))

    def found(value: Any) -> Any:
        return tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__

    wrong = [f"{n}: expected shape {names[n]}, found {found(sd[n])}" for n in names if n in sd and found(sd[n]) != names[n]]
    if wrong:
        raise ValueError("; ".join(wrong[:3]) + (f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""))
    converted = {}
    for key, parts in layout.items():
        target = model.state_dict()[key]
        if len(parts) == 1 and parts[0][0] not in sd:  # num_batches_tracked, absent from very old files
            converted[key] = torch.zeros_like(target)
            continue
        if len(parts) == 1:
            converted[key] = sd[parts[0][0]].reshape(target.shape).to(target.dtype)
        else:  # per-head tensors, stacked along our first axis
            piece = (target.shape[0] // len(parts), *target.shape[1:])
            converted[key] = torch.cat([sd[name].reshape(piece) for name, _ in parts]).to(target.dtype)
    return model.config, converted


def causal_from_name(path: str | os.PathLike[str]) -> bool:
    """The documented rule when causality is not given: ``causal`` in the file's name."""
    return "causal" in Path(path).name.lower()


def describe_architecture(model: GASTNet) -> str:
    """One line: receptive field, widths, C, joints, causality and parameter count."""
    widths = ", ".join(map(str, model.filter_widths))
    params = sum(p.numel() for p in model.parameters())
    return (f"receptive field {model.receptive_field} (filter widths {widths}), C={model.config['channels']}, "
            f"{model.num_joints} joints ({model.skeleton.name}), {'causal' if model.causal else 'non-causal'}, "
            f"{params:,} parameters")


def authors_payload(obj: Any, path: str | os.PathLike[str], causal: bool | None = None) -> dict[str, Any]:
    """Our checkpoint contents (``model_config``, ``state_dict``) for a loaded authors' file, with
    ``authors`` (what was found) and ``description`` (one line saying so); without the format tag."""
    told = causal is not None
    causal = bool(causal) if told else causal_from_name(path)
    config, state_dict = convert_authors_state_dict(obj, causal=causal)
    model = GASTNet.from_config(config)
    how = "as given" if told else ("'causal' in the file name" if causal else "no 'causal' in the file name")
    info = {**inspect_authors_state_dict(obj), "causal": causal, "causal_source": how, "file": Path(path).name}
    for key in ("epoch", "lr"):
        if isinstance(obj.get(key), (int, float)):
            info[key] = obj[key]
    epoch = f", epoch {info['epoch']}" if "epoch" in info else ""
    description = (f"authors' checkpoint {info['file']}{epoch}: {describe_architecture(model)} "
                   f"(causality not stored in the file: {how})")
    return {"model_config": config, "state_dict": state_dict, "authors": info, "description": description}
