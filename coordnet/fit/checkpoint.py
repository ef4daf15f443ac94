"""Versioned checkpoints: everything needed to rebuild a model, evaluate it, or resume its training."""
from __future__ import annotations

import os
from typing import Any, Dict

import torch

from coordnet.atomic import write_atomically

FORMAT = "coordnet-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or not a coordnet checkpoint of a known version."""


def save_checkpoint(path: str, payload: Dict[str, Any]) -> None:
    """Write ``payload`` (plain types and tensors) with the format header, atomically.

    An interrupted write leaves any previous checkpoint at ``path`` intact.
    """
    document = {"format": FORMAT, "version": VERSION, **payload}
    write_atomically(path, lambda temporary: torch.save(document, temporary))


def load_checkpoint(path: str) -> Dict[str, Any]:
    """Read and validate a checkpoint written by :func:`save_checkpoint`."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"checkpoint {path!r} is unreadable or corrupt ({type(error).__name__}: {error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path!r} is not a coordnet checkpoint")
    version = document.get("version")
    if version != VERSION:
        raise CheckpointError(f"checkpoint {path!r} has format version {version!r}; this coordnet reads version {VERSION}")
    for key in ("model_spec", "model_config", "trainer"):
        if key not in document:
            raise CheckpointError(f"checkpoint {path!r} lacks the {key!r} entry")
    return document


def load(path: str, device: str = "cpu") -> torch.nn.Module:
    """The trained model of a checkpoint, on ``device`` and in eval mode: ``model(coords (..., d)) -> (..., C)``."""
    from coordnet.nets import build_model

    document = load_checkpoint(path)
    config = document["model_config"]
    model = build_model(
        document["model_spec"],
        in_dim=config["in_dim"],
        out_dim=config["out_dim"],
        output_activation=config["output_activation"],
        signal_domain=tuple(config["signal_domain"]),
    )
    model.load_state_dict(document["trainer"]["model"])
    return model.to(device).eval()
