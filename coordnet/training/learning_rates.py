"""Default Adam learning rates per model family (as in the families' papers)."""

from __future__ import annotations

from coordnet.nets import ModelSpec

SLOW_NETS = {"siren": 1e-4, "finer": 1e-4}
RAW_INPUT_ENCODERS = {"none": 1e-2, "basic": 1e-2}
# Grid tables learn with large steps (instant-NGP trains its hash tables at 1e-2).
GRID_ENCODERS = {"hash": 1e-2}


def default_lr(spec: ModelSpec) -> float:
    """1e-4 for SIREN/FINER nets, 1e-2 for a ReLU MLP on raw or basic inputs and for hash
    grids, 1e-3 otherwise."""
    if spec.net in SLOW_NETS:
        return SLOW_NETS[spec.net]
    if spec.net == "relu" and spec.encoder in RAW_INPUT_ENCODERS:
        return RAW_INPUT_ENCODERS[spec.encoder]
    if spec.encoder in GRID_ENCODERS:
        return GRID_ENCODERS[spec.encoder]
    return 1e-3
