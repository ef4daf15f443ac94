"""The training core: the loop (:class:`Trainer`), its callbacks, metrics and checkpoints.

It knows networks and signals' samples, never a particular probe, analysis or command: probes
plug in through the :class:`Callback` interface.
"""

from coordnet.training.checkpoint import CheckpointError, load, load_checkpoint, save_checkpoint
from coordnet.training.metrics import psnr, ssim
from coordnet.training.trainer import (
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
