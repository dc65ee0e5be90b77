"""Running the network: over a whole sequence (:mod:`.predict`), one frame at a time
(:mod:`.streaming`, with the one-frame plan of :mod:`.frame_plan`), the live loop (:mod:`.live`),
speed measurement (:mod:`.speed`), ONNX and TorchScript export (:mod:`.export`) and the temporal
filters used around it (:mod:`.smoothing`)."""

from .predict import lift_at_model_rate, predict_sequence
from .streaming import StreamingLifter

__all__ = ["StreamingLifter", "lift_at_model_rate", "predict_sequence"]
