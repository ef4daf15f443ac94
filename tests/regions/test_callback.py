"""The trainer callback recording region counts during training."""

import copy

import pytest
import torch

import coordnet.regions as regions
from coordnet.nets import build_model
from coordnet.training.trainer import Callback, Samples, TrainConfig, Trainer


class Snapshots(Callback):
    """Copies of the model at the start and after every step."""

    def __init__(self):
        self.models = {}

    def on_start(self, trainer):
        self.models[trainer.step] = copy.deepcopy(trainer.model)

    def on_step(self, trainer, step, loss):
        self.models[step] = copy.deepcopy(trainer.model)


def samples():
    x = torch.rand(64, 2)
    return Samples(x, torch.sin(8 * x[:, :1]))


@pytest.mark.parametrize(
    "at_start, at_end, expected",
    [(True, True, [0, 3, 6, 7]), (False, False, [3, 6]), (True, False, [0, 3, 6])],
)
def test_callback_counts_at_the_right_steps(at_start, at_end, expected):
    torch.manual_seed(0)
    model = build_model("relu:width=16,depth=2", 2, 1)
    points = torch.rand(500, 2)
    callback = regions.RegionCountCallback(points, every=3, at_start=at_start, at_end=at_end)
    snapshots = Snapshots()
    Trainer(
        model, samples(), TrainConfig(steps=7, lr=0.05, eval_every=100), [snapshots, callback]
    ).fit()
    assert callback.steps == expected
    assert callback.counts == [regions.count_regions(snapshots.models[s], points) for s in expected]
    assert len(set(callback.counts)) > 1  # training changes the regions, so the steps matter
    assert callback.to_dict() == {"steps": expected, "counts": callback.counts}


def test_callback_leaves_training_unchanged():
    results = []
    for with_callback in (False, True):
        torch.manual_seed(0)
        model = build_model("relu:width=16,depth=2", 2, 1)
        callbacks = (
            [regions.RegionCountCallback(torch.rand(100, 2), every=2)] if with_callback else []
        )
        torch.manual_seed(1)
        Trainer(model, samples(), TrainConfig(steps=5, lr=0.01, eval_every=100), callbacks).fit()
        results.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    assert torch.equal(results[0], results[1])


def test_callback_rejects_bad_arguments_and_models():
    with pytest.raises(ValueError, match="every"):
        regions.RegionCountCallback(torch.rand(10, 2), every=0)
    with pytest.raises(ValueError, match="points"):
        regions.RegionCountCallback(torch.rand(10), every=1)
    callback = regions.RegionCountCallback(torch.rand(10, 2), every=1)
    trainer = Trainer(
        build_model("siren:width=8,depth=1", 2, 1), samples(), TrainConfig(steps=2), [callback]
    )
    with pytest.raises(TypeError, match="Sine"):
        trainer.fit()
