"""Training with the paper's recipe (single process or torchrun/DDP)."""

from .config import Config, load_config
from .trainer import Trainer, load_training_data

__all__ = ["Config", "load_config", "Trainer", "load_training_data"]
