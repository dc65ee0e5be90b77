"""Inference: streaming lifting and (later) whole videos."""

from .streaming import StreamingLifter

__all__ = ["StreamingLifter"]
