"""Early stopping watches a seeded validation split of the training samples; the test samples
are recorded and never steer training."""

import pytest
import torch

from coordnet.nets import build_model
from coordnet.training.trainer import Samples, TrainConfig, Trainer, carve_validation

pytestmark = pytest.mark.usefixtures("one_thread")


def _samples(test_offset=0.0, n=200):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(n, 2, generator=g)
    y = torch.sin(6 * x[:, :1]) * 0.4 + 0.5
    return Samples(x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :] + test_offset)


def _fit(samples, **config):
    torch.manual_seed(0)
    model = build_model("gauss:num_frequencies=8+relu:width=16,depth=1", in_dim=2, out_dim=1)
    trainer = Trainer(model, samples, TrainConfig(**config))
    return trainer, trainer.fit()


def test_carve_validation_is_seeded_disjoint_and_sized():
    config = TrainConfig(patience=2, seed=3, validation_fraction=0.1)
    train, validation = carve_validation(100, config)
    again, same = carve_validation(100, config)
    assert torch.equal(train, again) and torch.equal(validation, same)
    assert len(validation) == 10 and len(train) == 90
    assert sorted(train.tolist() + validation.tolist()) == list(range(100))
    other, elsewhere = carve_validation(100, TrainConfig(patience=2, seed=4))
    assert len(elsewhere) == 5 and not torch.equal(elsewhere, validation[:5])
    assert carve_validation(100, TrainConfig())[1] is None  # no patience: no validation split
    assert carve_validation(1, config)[1] is None  # too few samples to carve one


def test_corrupted_test_targets_change_nothing_but_the_test_psnr():
    settings = dict(steps=60, lr=1e-2, eval_every=5, patience=2, min_delta=0.5)
    clean_trainer, clean = _fit(_samples(), **settings)
    bad_trainer, corrupted = _fit(_samples(test_offset=5.0), **settings)
    assert clean.stopped == "plateau" == corrupted.stopped  # the stopping rule did act
    assert clean.steps == corrupted.steps < 60
    for key in ("steps", "loss", "train_psnr", "validation_psnr"):
        assert getattr(clean.history, key) == getattr(corrupted.history, key), key
    assert clean.history.test_psnr != corrupted.history.test_psnr  # the test set was evaluated
    for a, b in zip(clean_trainer.model.parameters(), bad_trainer.model.parameters()):
        assert torch.equal(a, b)


def test_stopping_reads_the_validation_curve_only():
    trainer, result = _fit(_samples(), steps=100, lr=1e-12, eval_every=2, patience=3)
    assert result.stopped == "plateau" and trainer.history.steps == [2, 4, 6, 8]
    assert all(v is not None for v in trainer.history.validation_psnr)
    decisions = trainer.decisions()
    assert decisions["early_stop_split"] == "validation" and decisions["validation_samples"] == 5
    assert decisions["train_samples"] == 95 and decisions["test_split"] == "reported only"
    plain, _ = _fit(_samples(), steps=4, eval_every=2)
    assert plain.decisions()["early_stop_split"] is None
    assert plain.history.validation_psnr == [None, None]
    assert plain.decisions()["train_samples"] == 100
