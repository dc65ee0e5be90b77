"""A model run over one whole sequence: test-time flip averaging, chunks, the model's frame rate.

Lifting (:mod:`gastnet.pipeline.tracks_to_3d`) and evaluation (:mod:`gastnet.evaluation.evaluate`)
both predict through :func:`predict_sequence`, so that a benchmark measures what ``gastnet lift``
does; :func:`lift_at_model_rate` runs a whole recording at the spacing the model was trained at
(:func:`frame_stride`), in chunks of :data:`CHUNK_FRAMES` frames (:func:`predict_in_chunks`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..data.windows import flip_poses
from ..model.gastnet import GASTNet
from ..skeleton import Skeleton

__all__ = ["CHUNK_FRAMES", "frame_stride", "lift_at_model_rate", "predict_in_chunks", "predict_sequence"]


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


def frame_stride(model: GASTNet, fps: float) -> int:
    """How many input frames apart the model's temporal window takes its frames at ``fps``.

    Read from ``model.pretrained_weights.frame_rates``: 1 (the video's own rate) for weights
    trained over a range of frame rates that holds ``fps`` (or above it: slow input is lifted as
    it is); for weights trained at one rate, or input faster than the range, the whole number of
    frames that comes closest to the trained spacing; 1 when the rates are not known.

    >>> from gastnet import create_model
    >>> clean = create_model("gastnet_rf27_c32.h36m", pretrained=True)  # trained at 10 fps
    >>> frame_stride(clean, 50.0), frame_stride(clean, 30.0), frame_stride(clean, 10.0)
    (5, 3, 1)
    >>> video = create_model("gastnet_rf27_c32.video", pretrained=True)  # trained at 10-60 fps
    >>> frame_stride(video, 30.0), frame_stride(video, 60.0), frame_stride(video, 120.0), frame_stride(video, 5.0)
    (1, 1, 2, 1)
    """
    rates = model.pretrained_weights.frame_rates if model.pretrained_weights is not None else None
    if rates is None:
        return 1
    low, high = rates
    if low == high:
        return max(1, round(fps / low))
    return max(1, math.ceil(fps / high - 1e-6))


CHUNK_FRAMES = 1024
"""Frames lifted at once; longer sequences go in chunks, so memory does not grow with their length."""


def predict_in_chunks(model: GASTNet, inputs: np.ndarray, flip: Skeleton | None = None,
                      chunk: int = CHUNK_FRAMES) -> np.ndarray:
    """:func:`predict_sequence` over normalised 2D (T, J, 2) in chunks of
    ``chunk`` frames: (T, J, 3), the same numbers as one pass over the whole sequence.

    Each chunk is lifted with ``receptive_field - 1`` real frames of context on both sides (the
    sequence's own edges are padded as in one pass), so every output frame sees exactly the frames
    it would see in one pass; activations stay bounded by the chunk, not the sequence.
    """
    n = len(inputs)
    with torch.no_grad():
        if n <= chunk:
            return predict_sequence(model, inputs, flip).numpy()
        context = model.receptive_field - 1
        out = np.empty((n, inputs.shape[1], 3), np.float32)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            lo, hi = max(0, start - context), min(n, stop + context)
            out[start:stop] = predict_sequence(model, inputs[lo:hi], flip).numpy()[start - lo : stop - lo]
    return out


def lift_at_model_rate(model: GASTNet, inputs: np.ndarray, fps: float, flip: Skeleton | None = None) -> np.ndarray:
    """Poses (T, J, 3) for every frame of normalised 2D ``inputs`` (T, J, 2) recorded at ``fps``.

    A model trained at 10 fps sees 2.7 s in 27 frames; fed 50 fps video it would see 0.5 s. With
    a stride of k (see :func:`frame_stride`) the sequence is lifted in k interleaved passes (every
    k-th frame, from each of the k phases), and the result is averaged over k consecutive
    frames: passes that disagree would otherwise leave a ripple at ``fps / k`` Hz, which a
    k-frame mean removes exactly. Models trained over a range of frame rates lift video inside
    that range in one pass at its own rate.
    """
    stride = frame_stride(model, fps)
    out = np.empty(inputs.shape[:-1] + (3,))
    for phase in range(min(stride, len(inputs))):
        out[phase::stride] = predict_in_chunks(model, inputs[phase::stride], flip)
    if stride > 1 and len(out) >= stride:  # a centred stride-frame mean, edges repeated
        padded = np.concatenate([np.repeat(out[:1], stride // 2, 0), out, np.repeat(out[-1:], (stride - 1) // 2, 0)])
        out = np.mean([padded[i : i + len(out)] for i in range(stride)], axis=0)
    return out
