"""A model run over one whole sequence, with test-time flip averaging.

Lifting (:mod:`gastnet.inference.lift`) and evaluation (:mod:`gastnet.evaluation.evaluate`) both
predict through :func:`predict_sequence`, so that a benchmark measures what ``gastnet lift`` does.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.windows import flip_poses
from ..model.gastnet import GASTNet
from ..skeleton import Skeleton

__all__ = ["predict_sequence"]


@torch.no_grad()
def predict_sequence(
    model: GASTNet, inputs: np.ndarray | torch.Tensor, flip_skeleton: Skeleton | None = None
) -> torch.Tensor:
    """3D poses for every frame of one sequence: ``(N, J, 2)`` normalised -> ``(N, J, 3)``.

    With ``flip_skeleton`` the mirrored input is lifted too and the mirrored-back prediction is
    averaged with the plain one (test-time flip augmentation).
    """
    device = next(model.parameters()).device
    x = torch.as_tensor(inputs, dtype=torch.float32, device=device)[None]
    if flip_skeleton is not None:
        x = torch.cat([x, flip_poses(x, flip_skeleton)])
    out = model.forward_sequence(x)
    if flip_skeleton is not None:
        out = (out[:1] + flip_poses(out[1:], flip_skeleton)) / 2
    return out[0].cpu()
