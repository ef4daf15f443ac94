"""Training coordinate networks: the trainer, its callbacks, metrics and checkpoints."""
from coordnet.fit.checkpoint import CheckpointError, load, load_checkpoint, save_checkpoint
from coordnet.fit.metrics import psnr, ssim
from coordnet.fit.trainer import (
    Callback,
    FitResult,
    History,
    NonFiniteLossError,
    Samples,
    TrainConfig,
    Trainer,
    predict,
)

__all__ = [
    "Callback",
    "CheckpointError",
    "FitResult",
    "History",
    "NonFiniteLossError",
    "Samples",
    "TrainConfig",
    "Trainer",
    "load",
    "load_checkpoint",
    "predict",
    "psnr",
    "save_checkpoint",
    "ssim",
]
