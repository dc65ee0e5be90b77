"""Inference: whole recordings (``gastnet.lift``, in :mod:`.pipeline`), streaming, the live loop,
speed measurement and export.

``gastnet.inference.lift`` is the module :mod:`gastnet.inference.lift` (tracks to 3D); the
function that lifts a recording is ``gastnet.lift`` (also ``gastnet.inference.pipeline.lift``).
"""

from .lift import lift_tracks
from .results import LiftResult
from .streaming import StreamingLifter

__all__ = ["LiftResult", "StreamingLifter", "lift_tracks"]
