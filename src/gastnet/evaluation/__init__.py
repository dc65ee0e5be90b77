"""Metrics and the evaluation protocols."""

from .evaluate import EvaluationTable, evaluate_checkpoint, evaluate_sequences, predict_sequence
from .metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe, procrustes_align

__all__ = [
    "EvaluationTable", "evaluate_checkpoint", "evaluate_sequences", "predict_sequence",
    "mpjpe", "mpjve", "n_mpjpe", "p_mpjpe", "procrustes_align",
]
