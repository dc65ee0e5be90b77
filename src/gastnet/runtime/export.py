"""Export a model for use outside Python: ONNX (any runtime) or TorchScript (libtorch).

Both forms can be exported: the whole-sequence ``"dilated"`` form with a dynamic batch and a
dynamic number of frames (at least the receptive field; output ``T - RF + 1`` frames), and the
one-frame ``"strided"`` form (exactly ``RF`` frames in, one out). BatchNorms are folded first.
The model's config travels inside the file (ONNX metadata ``gastnet_config``; TorchScript extra
file ``gastnet_config.json``). Input ``keypoints`` (B, T, J, 2) normalised screen coordinates,
output ``poses`` (B, T', J, 3).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Literal

import torch

from ..extras import require
from ..fileio import atomic_path
from ..model.fusion import fuse_batchnorm
from ..model.gastnet import GASTNet

__all__ = ["export_model"]

Format = Literal["onnx", "torchscript"]


def _example(model: GASTNet, form: str) -> torch.Tensor:
    frames = model.receptive_field + (8 if form == "dilated" else 0)
    return torch.randn(2, frames, model.num_joints, model.in_channels)


def _export_onnx(model: GASTNet, example: torch.Tensor, path: Path, form: str, metadata: str) -> None:
    require("onnx", "ONNX export")
    import onnx

    dims = {0: torch.export.Dim("batch")}
    if form == "dilated":
        dims[1] = torch.export.Dim("frames", min=model.receptive_field)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (example,), input_names=["keypoints"], output_names=["poses"],
            dynamic_shapes={"x": dims}, dynamo=True, verbose=False,
        )
    if program is None:  # only the TorchScript exporter (dynamo=False) returns None
        raise RuntimeError("torch.onnx.export returned no program")
    proto = program.model_proto
    entry = proto.metadata_props.add()
    entry.key, entry.value = "gastnet_config", metadata
    onnx.save(proto, str(path))


def _export_torchscript(model: GASTNet, example: torch.Tensor, path: Path, metadata: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shape checks in forward are evaluated once while tracing
        traced = torch.jit.trace(model, (example,), check_trace=False)
        frozen = torch.jit.freeze(traced.eval())  # folds derived weights into constants
    torch.jit.save(frozen, str(path), _extra_files={"gastnet_config.json": metadata})


def export_model(
    model: GASTNet,
    path: str | os.PathLike[str],
    format: Format = "onnx",
    form: Literal["dilated", "strided"] = "dilated",
) -> Path:
    """Write ``model`` to ``path`` in ``format``; the file appears complete or not at all."""
    if format not in ("onnx", "torchscript"):
        raise ValueError(f"format must be 'onnx' or 'torchscript', got {format!r}")
    if form not in ("dilated", "strided"):
        raise ValueError(f"form must be 'dilated' or 'strided', got {form!r}")
    fused = fuse_batchnorm(model).cpu()
    fused.form = form
    metadata = json.dumps({"config": model.config, "form": form, "receptive_field": model.receptive_field,
                           "input": "keypoints (B, T, J, 2) normalised screen coordinates",
                           "output": "poses (B, T - RF + 1, J, 3) root-relative camera frame"})
    example = _example(model, form)
    path = Path(path)
    with atomic_path(path) as tmp:
        if format == "onnx":
            _export_onnx(fused, example, tmp, form, metadata)
        else:
            _export_torchscript(fused, example, tmp, metadata)
    return path
