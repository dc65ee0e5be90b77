"""Inference: whole recordings (lift), streaming, the live loop, speed measurement and export."""

from .lift import lift_tracks
from .pipeline import lift
from .results import LiftResult
from .streaming import StreamingLifter

__all__ = ["LiftResult", "StreamingLifter", "lift", "lift_tracks"]
