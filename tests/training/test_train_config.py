"""TrainConfig checks every field by type and range, naming the field."""

import math

import pytest

from coordnet.training.trainer import MAX_SEED, TrainConfig


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"steps": 1.5}, TypeError, "steps must be an integer"),
        ({"steps": True}, TypeError, "steps must be an integer"),
        ({"steps": "10"}, TypeError, "steps must be an integer"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"batch_size": 1.5}, TypeError, "batch_size must be an integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"patience": 1.5}, TypeError, "patience must be an integer"),
        ({"patience": 0}, ValueError, "patience must be >= 1"),
        ({"eval_every": 2.0}, TypeError, "eval_every must be an integer"),
        ({"eval_chunk": 0}, ValueError, "eval_chunk must be >= 1"),
        ({"seed": -1}, ValueError, "seed must be in"),
        ({"seed": 2**64}, ValueError, "seed must be in"),
        ({"seed": "x"}, TypeError, "seed must be an integer"),
        ({"seed": False}, TypeError, "seed must be an integer"),
        ({"lr": "x"}, TypeError, "lr must be a number"),
        ({"lr": 0}, ValueError, "lr must be a finite number"),
        ({"lr": math.nan}, ValueError, "lr must be a finite number"),
        ({"time_limit": "x"}, TypeError, "time_limit must be a number"),
        ({"time_limit": 0}, ValueError, "time_limit must be a finite number"),
        ({"time_limit": math.inf}, ValueError, "time_limit must be a finite number"),
        ({"final_lr_ratio": 1.5}, ValueError, "final_lr_ratio must be a finite number in"),
        ({"min_delta": -0.1}, ValueError, "min_delta must be a finite number"),
        ({"min_delta": True}, TypeError, "min_delta must be a number"),
        ({"validation_fraction": 0.0}, ValueError, "validation_fraction"),
        ({"validation_fraction": 0.9}, ValueError, "validation_fraction"),
        ({"schedule": "linear"}, ValueError, "schedule must be one of"),
        ({"schedule": 3}, ValueError, "schedule must be one of"),
        ({"bf16": 1}, ValueError, "bf16 must be True, False or 'auto'"),
        ({"bf16": "on"}, ValueError, "bf16 must be True, False or 'auto'"),
    ],
)
def test_config_rejects_bad_fields_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        TrainConfig(**kwargs)


def test_config_accepts_the_edges_and_checks_later_assignments():
    config = TrainConfig(
        steps=1, seed=MAX_SEED, lr=1, final_lr_ratio=1, min_delta=0, validation_fraction=0.5
    )
    assert config.seed == 2**63 - 1 and config.lr == 1
    assert TrainConfig(batch_size=None, patience=None, time_limit=None).patience is None
    with pytest.raises(TypeError, match="lr must be a number"):
        config.lr = "fast"
    with pytest.raises(TypeError, match="steps must be an integer"):
        config.steps = 2.5
    assert config.lr == 1 and config.steps == 1  # a refused assignment leaves the field as it was
    assert TrainConfig(**config.to_dict()) == config
