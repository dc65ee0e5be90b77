"""Inference: whole recordings (lift), streaming, the live loop, speed measurement and export."""

from .lift import LiftResult, lift_tracks
from .pipeline import lift
from .streaming import StreamingLifter

__all__ = ["LiftResult", "StreamingLifter", "lift", "lift_tracks"]
