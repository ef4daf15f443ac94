"""coordnet.training and coordnet.runs: trainer, schedules, resume, checkpoints, atomic writes, metrics.json, render, compare.

Everything runs on 16x16 images and a ~550-parameter net for tens of steps.
"""

import copy
import csv
import json
import math
import os
import stat

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from torch import nn

import coordnet
from coordnet.atomic import write_atomically, write_json
from coordnet.nets import build_model, parse_spec
from coordnet.runs import run as run_module
from coordnet.runs.compare import compare, table_rows, write_report
from coordnet.runs.render import parse_size, render_checkpoint, render_image
from coordnet.runs.run import run_fit
from coordnet.signals import Signal, load_signal, split_signal
from coordnet.training import (
    Callback,
    CheckpointError,
    NonFiniteLossError,
    Samples,
    TrainConfig,
    Trainer,
    load_checkpoint,
    predict,
    psnr,
    save_checkpoint,
    ssim,
)
from coordnet.training.callbacks import CheckpointCallback, ProgressBar
from coordnet.training.checkpoint import FORMAT, VERSION

SPEC = "gauss:num_frequencies=16+relu:width=16,depth=1"
SPEC_PARAMS = 32 * 16 + 16 + 16 * 1 + 1  # Gaussian B is a buffer: only the two linear layers train


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def camera():
    return load_signal("camera", size=16)


def make_model(seed=0, output_activation="none"):
    torch.manual_seed(seed)
    return build_model(parse_spec(SPEC), in_dim=2, out_dim=1, output_activation=output_activation)


def full_samples(signal):
    coords, values = signal.flat()
    return Samples(coords, values)


def weights(model):
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


class RecordLR(Callback):
    """The learning rate each step used (read before the scheduler moves on)."""

    def __init__(self):
        self.used = []

    def on_start(self, trainer):
        self.used.append(trainer.optimizer.param_groups[0]["lr"])

    def on_step(self, trainer, step, loss):
        if step < trainer.config.steps:
            self.used.append(trainer.optimizer.param_groups[0]["lr"])


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step(self, trainer, step, loss):
        if step == self.step:
            raise KeyboardInterrupt


# ---------------------------------------------------------------- trainer


def test_loss_decreases_and_history_is_recorded(camera):
    trainer = Trainer(
        make_model(), full_samples(camera), TrainConfig(steps=60, lr=1e-2, eval_every=20)
    )
    result = trainer.fit()
    assert result.steps == 60 == trainer.step
    assert result.history.steps == [20, 40, 60]
    assert result.history.test_psnr == [None, None, None]
    assert result.history.loss[-1] < 0.5 * result.history.loss[0]
    assert result.history.train_psnr[-1] > result.history.train_psnr[0]
    assert result.final_loss == result.history.loss[-1]
    assert result.seconds > 0
    assert not trainer.model.training  # fit() leaves the model in eval mode


def test_loss_decreases_from_the_initial_loss(camera):
    model = make_model()
    samples = full_samples(camera)
    with torch.no_grad():
        initial = float(torch.mean((model(samples.train_coords) - samples.train_values) ** 2))
    result = Trainer(model, samples, TrainConfig(steps=40, lr=1e-2, eval_every=40)).fit()
    assert result.final_loss < 0.5 * initial


def test_reported_psnr_equals_psnr_of_predictions(camera):
    parts = split_signal(camera, "tancik")
    samples = Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)
    trainer = Trainer(
        make_model(), samples, TrainConfig(steps=30, lr=1e-2, eval_every=10, eval_chunk=7)
    )
    result = trainer.fit()
    train_prediction = predict(trainer.model, parts.train_coords, chunk=1000)
    test_prediction = predict(trainer.model, parts.test_coords, chunk=1000)
    assert result.train_psnr == pytest.approx(psnr(train_prediction, parts.train_values), abs=1e-4)
    assert result.test_psnr == pytest.approx(psnr(test_prediction, parts.test_values), abs=1e-4)
    assert result.train_psnr != pytest.approx(result.test_psnr, abs=1e-3)  # two different sets
    # predict is independent of the chunking
    assert torch.allclose(
        predict(trainer.model, parts.train_coords, chunk=5), train_prediction, atol=1e-6
    )


def test_psnr_and_ssim_values():
    target = torch.zeros(4, 4, 1)
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert psnr(target, target) == math.inf
    with pytest.raises(ValueError, match="shape"):
        psnr(torch.zeros(3), torch.zeros(4))
    image = np.random.default_rng(0).random((16, 16, 1))
    assert ssim(image, image) == pytest.approx(1.0)
    assert ssim(image, 1 - image) < 0.5
    assert ssim(image[:6, :6], image[:6, :6]) is None  # smaller than the 7x7 window


def test_mini_batches_are_seeded(camera):
    samples = full_samples(camera)
    initial = make_model()

    def train(**config):
        model = copy.deepcopy(initial)
        Trainer(model, samples, TrainConfig(steps=20, lr=1e-2, eval_every=20, **config)).fit()
        return weights(model)

    batch_a = train(batch_size=32, seed=3)
    batch_b = train(batch_size=32, seed=3)
    batch_other = train(batch_size=32, seed=4)
    full = train(batch_size=None, seed=3)
    full_again = train(batch_size=None, seed=4)  # full batch: the seed does not matter
    oversized = train(batch_size=10_000, seed=3)  # larger than the data: full batch
    assert_same_weights(batch_a, batch_b)
    assert_same_weights(full, full_again)
    assert_same_weights(full, oversized)
    assert not torch.equal(batch_a["net.layers.0.weight"], batch_other["net.layers.0.weight"])
    assert not torch.equal(batch_a["net.layers.0.weight"], full["net.layers.0.weight"])


def test_constant_schedule_keeps_lr(camera):
    recorder = RecordLR()
    Trainer(
        make_model(), full_samples(camera), TrainConfig(steps=8, lr=0.01, eval_every=8), [recorder]
    ).fit()
    assert recorder.used == [0.01] * 8


@pytest.mark.parametrize("schedule", ["cosine", "exponential"])
def test_schedules_reach_final_ratio_at_the_last_step(camera, schedule):
    lr, ratio, steps = 0.02, 0.05, 21
    recorder = RecordLR()
    config = TrainConfig(
        steps=steps, lr=lr, schedule=schedule, final_lr_ratio=ratio, eval_every=steps
    )
    trainer = Trainer(make_model(), full_samples(camera), config, [recorder])
    trainer.fit()
    used = recorder.used
    assert len(used) == steps
    assert used[0] == pytest.approx(lr)
    assert used[-1] == pytest.approx(lr * ratio)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(lr * ratio)
    assert all(b < a for a, b in zip(used, used[1:]))
    middle = used[(steps - 1) // 2]
    if schedule == "cosine":
        assert middle == pytest.approx(lr * (ratio + 1) / 2)
    else:
        assert middle == pytest.approx(lr * math.sqrt(ratio))
        factors = [b / a for a, b in zip(used, used[1:])]
        assert factors == pytest.approx([ratio ** (1 / (steps - 1))] * (steps - 1))


def test_train_config_rejects_bad_values():
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="schedule.*'linear'"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="final_lr_ratio"):
        TrainConfig(final_lr_ratio=0)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


class NaNAfter(nn.Module):
    """A linear model whose training forward pass returns NaN from call ``bad_call`` on."""

    def __init__(self, bad_call):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.bad_call = bad_call
        self.calls = 0

    def forward(self, x):
        out = self.linear(x)
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls >= self.bad_call:
                out = out * float("nan")
        return out


def test_nan_loss_names_the_step(camera):
    model = NaNAfter(bad_call=3)
    trainer = Trainer(model, full_samples(camera), TrainConfig(steps=10, lr=1e-3, eval_every=1))
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at step 3\b") as info:
        trainer.fit()
    assert info.value.step == 3 and math.isnan(info.value.loss)
    assert trainer.step == 2  # the bad step is not counted
    assert trainer.history.steps == [1, 2]


def test_huge_lr_diverges_with_named_step(camera):
    trainer = Trainer(
        make_model(), full_samples(camera), TrainConfig(steps=20, lr=1e30, eval_every=20)
    )
    with pytest.raises(NonFiniteLossError) as info:
        trainer.fit()
    assert 1 < info.value.step <= 20
    assert f"at step {info.value.step}" in str(info.value)
    assert not math.isfinite(info.value.loss)


# ---------------------------------------------------------------- resume


def test_trainer_state_round_trip_resumes_exactly(camera, tmp_path):
    parts = split_signal(camera, "holdout:0.25", seed=1)
    samples = Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)
    config = TrainConfig(steps=30, lr=1e-2, schedule="cosine", batch_size=48, seed=5, eval_every=7)

    reference = Trainer(make_model(), samples, config)
    expected = reference.fit()

    path = str(tmp_path / "checkpoint.pt")
    saver = CheckpointCallback(path, every=10, payload=lambda t: {"trainer": t.state_dict()})
    interrupted = Trainer(make_model(), samples, config, [saver, InterruptAt(14)])
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    state = torch.load(path, weights_only=True)["trainer"]
    assert state["step"] == 10

    resumed = Trainer(
        make_model(seed=123), samples, config
    )  # a different init: the state must overwrite it
    resumed.load_state_dict(state)
    result = resumed.fit()
    assert_same_weights(weights(resumed.model), weights(reference.model))
    assert result.history.steps == expected.history.steps
    assert result.history.loss == expected.history.loss
    assert result.history.train_psnr == expected.history.train_psnr
    assert result.history.test_psnr == expected.history.test_psnr
    assert resumed.optimizer.param_groups[0]["lr"] == reference.optimizer.param_groups[0]["lr"]


def test_run_fit_interrupted_and_resumed_matches_uninterrupted(camera, tmp_path, monkeypatch):
    config = TrainConfig(
        steps=30, lr=1e-2, schedule="exponential", batch_size=40, seed=2, eval_every=8
    )
    kwargs = dict(split="holdout:0.2", progress=False, checkpoint_every=10, write_outputs=False)

    straight = run_fit(camera, SPEC, config, str(tmp_path / "straight"), **kwargs)

    class InterruptedBar(ProgressBar):
        def on_step(self, trainer, step, loss):
            if step == 13:  # after the checkpoint of step 10, before that of step 20
                raise KeyboardInterrupt
            super().on_step(trainer, step, loss)

    out = str(tmp_path / "resumed")
    monkeypatch.setattr(run_module, "ProgressBar", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        run_fit(camera, SPEC, config, out, **kwargs)
    monkeypatch.undo()
    assert load_checkpoint(os.path.join(out, "checkpoint.pt"))["trainer"]["step"] == 10

    resumed = run_fit(camera, SPEC, config, out, resume=True, **kwargs)
    for key in ("train_psnr", "test_psnr", "full_psnr", "ssim", "steps", "params", "config"):
        assert resumed.metrics[key] == straight.metrics[key], key
    assert resumed.history == straight.history
    np.testing.assert_array_equal(resumed.prediction, straight.prediction)
    assert_same_weights(
        load_checkpoint(os.path.join(out, "checkpoint.pt"))["trainer"]["model"],
        load_checkpoint(str(tmp_path / "straight" / "checkpoint.pt"))["trainer"]["model"],
    )


def test_existing_checkpoint_needs_resume_and_the_same_run(camera, tmp_path):
    out = str(tmp_path / "run")
    config = TrainConfig(steps=10, lr=1e-2, eval_every=10)
    run_fit(camera, SPEC, config, out, split="full", progress=False, write_outputs=False)
    path = os.path.join(out, "checkpoint.pt")
    before = open(path, "rb").read()

    with pytest.raises(
        FileExistsError, match="pass resume=True to continue it, or choose another out"
    ):
        run_fit(camera, SPEC, config, out, split="full", progress=False, write_outputs=False)
    other_spec = "gauss:num_frequencies=8+relu:width=16,depth=1"
    with pytest.raises(
        CheckpointError, match="model_spec.encoder.num_frequencies .checkpoint 16, this run 8.$"
    ):
        run_fit(
            camera,
            other_spec,
            config,
            out,
            split="full",
            resume=True,
            progress=False,
            write_outputs=False,
        )
    with pytest.raises(
        CheckpointError, match=r"differs in train_config.lr \(checkpoint 0.01, this run 0.02\)$"
    ):
        run_fit(
            camera,
            SPEC,
            TrainConfig(steps=11, lr=2e-2, eval_every=10),
            out,
            split="full",
            resume=True,
            progress=False,
            write_outputs=False,
        )
    with pytest.raises(
        CheckpointError, match="signal.split .checkpoint 'full', this run 'tancik'.$"
    ):
        run_fit(
            camera,
            SPEC,
            config,
            out,
            split="tancik",
            resume=True,
            progress=False,
            write_outputs=False,
        )
    assert open(path, "rb").read() == before

    # resuming a finished run trains no further and reports the same numbers
    again = run_fit(
        camera, SPEC, config, out, split="full", resume=True, progress=False, write_outputs=False
    )
    assert again.metrics["steps"] == 10
    assert "is finished: it trained all its steps at step 10; nothing was trained" in again.note
    assert open(path, "rb").read() == before


# ---------------------------------------------------------------- checkpoints and atomic writes


def test_checkpoint_is_versioned_and_load_rebuilds_the_model(camera, tmp_path):
    spec = parse_spec(SPEC)
    model = build_model(spec, in_dim=2, out_dim=1, output_activation="sigmoid")
    trainer = Trainer(model, full_samples(camera), TrainConfig(steps=15, lr=1e-2, eval_every=15))
    trainer.fit()
    path = str(tmp_path / "model.pt")
    model_config = {
        "in_dim": 2,
        "out_dim": 1,
        "output_activation": "sigmoid",
        "signal_domain": [[0.0, 1.0]] * 2,
    }
    save_checkpoint(
        path,
        {
            "model_spec": spec.to_dict(),
            "model_config": model_config,
            "trainer": trainer.state_dict(),
        },
    )

    document = load_checkpoint(path)
    assert document["format"] == FORMAT == "coordnet-checkpoint"
    assert document["version"] == VERSION == 3
    assert document["trainer"]["step"] == 15

    loaded = coordnet.load(path)
    assert not loaded.training
    x = torch.rand(200, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert not any(tmp_path.glob(".tmp-*"))


def _corrupt(kind, path, valid_document):
    if kind == "garbage":
        path.write_bytes(b"\x00\x01 definitely not a checkpoint" * 10)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "other torch file":
        torch.save({"weights": torch.zeros(3)}, str(path))
    elif kind == "not a dict":
        torch.save([1, 2, 3], str(path))
    elif kind == "wrong version":
        torch.save({**valid_document, "version": 99}, str(path))
    elif kind == "missing entry":
        save_checkpoint(
            str(path),
            {k: v for k, v in valid_document.items() if k not in ("format", "version", "trainer")},
        )
    elif kind == "no hash":
        torch.save(valid_document, str(path))


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "does not exist"),
        ("garbage", "unreadable or corrupt"),
        ("empty", "unreadable or corrupt"),
        ("other torch file", "not a coordnet checkpoint"),
        ("not a dict", "not a coordnet checkpoint"),
        ("wrong version", "version 99"),
        ("missing entry", "'trainer'"),
        ("no hash", "content hash"),
    ],
)
def test_load_checkpoint_errors_name_the_path(tmp_path, kind, message):
    path = tmp_path / f"{kind.replace(' ', '_')}.pt"
    valid = {
        "format": FORMAT,
        "version": VERSION,
        "model_spec": {},
        "model_config": {},
        "trainer": {},
    }
    _corrupt(kind, path, valid)
    for loader in (load_checkpoint, coordnet.load):
        with pytest.raises(CheckpointError, match=message) as info:
            loader(str(path))
        assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "data.txt"
    write_atomically(str(path), lambda tmp: open(tmp, "w").write("first"))
    assert path.read_text() == "first"

    def failing(tmp):
        with open(tmp, "w") as handle:
            handle.write("half-writ")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(str(path), failing)
    assert path.read_text() == "first"
    assert sorted(os.listdir(tmp_path)) == ["data.txt"]

    json_path = tmp_path / "m.json"
    write_json(str(json_path), {"a": 1})
    with pytest.raises(ValueError):
        write_json(str(json_path), {"a": float("nan")})  # strict JSON: NaN is refused
    assert json.loads(json_path.read_text()) == {"a": 1}

    checkpoint = tmp_path / "c.pt"
    save_checkpoint(str(checkpoint), {"value": 1})
    with pytest.raises((AttributeError, TypeError, RuntimeError)):  # pickling a lambda fails
        save_checkpoint(str(checkpoint), {"value": 2, "unpicklable": lambda: None})
    assert torch.load(str(checkpoint), weights_only=True)["value"] == 1
    assert sorted(os.listdir(tmp_path)) == ["c.pt", "data.txt", "m.json"]


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "atomic.txt"
    write_atomically(str(atomic), lambda tmp: open(tmp, "w").write("x"))
    assert stat.S_IMODE(os.stat(atomic).st_mode) == stat.S_IMODE(
        os.stat(plain).st_mode
    )  # not mkstemp's 0600


# ---------------------------------------------------------------- run_fit outputs, load, render


@pytest.fixture(scope="module")
def fitted(camera, tmp_path_factory):
    """One full-split fit with all outputs: (out_dir, outcome)."""
    out = str(tmp_path_factory.mktemp("fit"))
    outcome = run_fit(
        camera,
        SPEC,
        TrainConfig(steps=25, lr=1e-2, eval_every=10),
        out,
        split="full",
        progress=False,
    )
    return out, outcome


def test_run_fit_writes_outputs_and_metrics_json(camera, fitted):
    out, outcome = fitted
    for name in ("checkpoint.pt", "metrics.json", "reconstruction.png", "error.png", "curves.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]
    assert iio.imread(os.path.join(out, "reconstruction.png")).shape[:2] == (16, 16)

    with open(os.path.join(out, "metrics.json")) as handle:
        metrics = json.load(handle)
    for key in ("train_psnr", "test_psnr", "ssim", "steps", "seconds", "params", "config"):
        assert key in metrics, key
    assert metrics["test_psnr"] is None  # split full: no test set
    assert metrics["steps"] == 25
    assert metrics["params"] == sum(
        p.numel() for p in coordnet.load(os.path.join(out, "checkpoint.pt")).parameters()
    )
    assert metrics["params"] == SPEC_PARAMS
    assert metrics["seconds"] >= 0
    assert metrics["config"]["train_config"]["steps"] == 25
    assert metrics["config"]["model_spec"] == parse_spec(SPEC).to_dict()
    assert metrics["config"]["signal"] == {
        "name": "camera",
        "kind": "image",
        "shape": [16, 16, 1],
        "split": "full",
    }
    assert metrics["history"]["steps"] == [10, 20, 25]
    assert metrics["history"]["test_psnr"] == [None, None, None]

    # the numbers are those of the final prediction
    prediction = torch.from_numpy(outcome.prediction)
    assert metrics["train_psnr"] == pytest.approx(psnr(prediction, camera.values), abs=1e-4)
    assert metrics["full_psnr"] == pytest.approx(metrics["train_psnr"], abs=1e-4)
    assert metrics["ssim"] == pytest.approx(
        ssim(np.clip(outcome.prediction, 0, 1), camera.values.numpy())
    )
    assert -1 <= metrics["ssim"] <= 1
    assert outcome.metrics["train_psnr"] == metrics["train_psnr"]


def test_run_fit_with_test_split_reports_test_psnr(camera, tmp_path):
    outcome = run_fit(
        camera,
        SPEC,
        TrainConfig(steps=5, lr=1e-2, eval_every=5),
        str(tmp_path),
        split="tancik",
        progress=False,
        write_outputs=False,
    )
    assert isinstance(outcome.metrics["test_psnr"], float)
    assert sorted(os.listdir(tmp_path)) == [
        ".coordnet.lock",
        "checkpoint.pt",
    ]  # the lock file stays, unlocked


def test_coordnet_load_predicts_like_the_fit(camera, fitted):
    out, outcome = fitted
    model = coordnet.load(os.path.join(out, "checkpoint.pt"))
    with torch.no_grad():
        prediction = model(camera.coordinates())
    np.testing.assert_array_equal(prediction.numpy(), outcome.prediction)


def test_parse_size():
    assert parse_size("640x480") == (480, 640)
    assert parse_size(" 40 X 24 ") == (24, 40)
    for bad in ("", "40", "40x", "x24", "0x24", "40x0", "-4x24", "40by24", "4.5x2", None):
        with pytest.raises(ValueError, match="--size must look like WIDTHxHEIGHT"):
            parse_size(bad)


def test_render_at_another_size_and_chunking(camera, fitted, tmp_path):
    out, outcome = fitted
    checkpoint = os.path.join(out, "checkpoint.pt")
    png = str(tmp_path / "render.png")
    assert render_checkpoint(checkpoint, png, size="40x24") == (24, 40)
    assert iio.imread(png).shape[:2] == (24, 40)

    native = str(tmp_path / "native.png")
    assert render_checkpoint(checkpoint, native) == (16, 16)
    np.testing.assert_array_equal(
        iio.imread(native), iio.imread(os.path.join(out, "reconstruction.png"))
    )

    model = coordnet.load(checkpoint)
    domain = [[0.0, 1.0], [0.0, 1.0]]
    whole = render_image(model, (24, 40), domain, chunk=10**6)
    assert whole.shape == (24, 40, 1) and whole.dtype == np.float32
    assert whole.min() >= 0 and whole.max() <= 1
    for chunk in (1, 39, 40, 100):  # one row at a time, rows not divisible, ...
        np.testing.assert_allclose(
            render_image(model, (24, 40), domain, chunk=chunk), whole, rtol=0, atol=1e-5
        )
    np.testing.assert_allclose(
        render_image(model, (16, 16), domain), np.clip(outcome.prediction, 0, 1), rtol=0, atol=1e-6
    )


def test_render_refuses_non_images(tmp_path):
    t = torch.linspace(0, 1, 32)
    series = Signal(torch.sin(6 * t)[:, None], kind="1d", name="wave")
    run_fit(
        series,
        "relu:width=8,depth=1",
        TrainConfig(steps=2, eval_every=2),
        str(tmp_path),
        split="full",
        progress=False,
        write_outputs=False,
    )
    with pytest.raises(ValueError, match="1d signal"):
        render_checkpoint(str(tmp_path / "checkpoint.pt"), str(tmp_path / "x.png"))
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------- compare


def test_compare_with_two_seeds(camera, tmp_path):
    specs = [SPEC, "relu:width=16,depth=1"]
    config = TrainConfig(steps=10, lr=1e-2, eval_every=5)
    lines = []
    results = compare(
        camera, specs, config, str(tmp_path), seeds=2, progress=False, announce=lines.append
    )
    assert [runs.label for runs in results] == specs
    assert len(lines) == 4
    assert all(len(runs.outcomes) == 2 for runs in results)
    seeds = [o.metrics["config"]["train_config"]["seed"] for o in results[0].outcomes]
    assert seeds == [0, 1]
    assert (
        results[0].outcomes[0].metrics["train_psnr"] != results[0].outcomes[1].metrics["train_psnr"]
    )

    table = write_report(str(tmp_path), camera, results, seeds=2)
    with open(tmp_path / "results.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = reader.fieldnames
    assert columns == [
        "model",
        "train_psnr",
        "train_psnr_std",
        "test_psnr",
        "test_psnr_std",
        "ssim",
        "ssim_std",
        "steps",
        "params",
    ]
    assert [row["model"] for row in rows] == specs
    assert rows[0]["params"] == str(SPEC_PARAMS)
    for runs, row in zip(results, rows):
        values = [o.metrics["train_psnr"] for o in runs.outcomes]
        assert float(row["train_psnr"]) == pytest.approx(np.mean(values), abs=0.006)
        assert float(row["train_psnr_std"]) == pytest.approx(np.std(values, ddof=1), abs=0.006)
    assert (tmp_path / "results.md").read_text().strip() == table.strip()
    assert table.splitlines()[0].startswith("| model | train_psnr |")
    for name in ("comparison.png", "curves.png"):
        assert os.path.getsize(tmp_path / name) > 0
    for label in ("gauss_num_frequencies=16_relu_width=16_depth=1", "relu_width=16_depth=1"):
        assert (tmp_path / label / "seed1" / "metrics.json").is_file()

    single = table_rows(results, seeds=1)
    assert list(single[0]) == ["model", "train_psnr", "test_psnr", "ssim", "steps", "params"]


def test_compare_rejects_duplicates_and_bad_specs_before_training(camera, tmp_path):
    config = TrainConfig(steps=5)
    with pytest.raises(ValueError, match="listed twice"):
        compare(camera, ["none", "relu"], config, str(tmp_path), progress=False)  # the same model
    with pytest.raises(ValueError, match="listed twice"):
        compare(camera, [SPEC, SPEC], config, str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="sigma"):
        compare(camera, [SPEC, "gauss:sigma=abc"], config, str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="seeds"):
        compare(camera, [SPEC], config, str(tmp_path), seeds=0, progress=False)
    assert os.listdir(tmp_path) == []


def test_callbacks_hear_about_an_abort():
    from coordnet.training import Callback, NonFiniteLossError, Samples, TrainConfig, Trainer

    class Recorder(Callback):
        def __init__(self):
            self.aborted = None

        def on_abort(self, trainer, error):
            self.aborted = error

    model = torch.nn.Linear(1, 1)
    samples = Samples(torch.rand(8, 1), torch.full((8, 1), float("nan")))
    recorder = Recorder()
    trainer = Trainer(model, samples, TrainConfig(steps=5, eval_every=5), [recorder])
    with pytest.raises(NonFiniteLossError):
        trainer.fit()
    assert isinstance(recorder.aborted, NonFiniteLossError) and recorder.aborted.step == 1


def test_volume_fit_reports_iou(tmp_path):
    from coordnet.signals import iou

    volume = load_signal("sphere", size=12)
    config = TrainConfig(steps=150, lr=1e-2, eval_every=150)
    outcome = run_fit(
        volume,
        "none+relu:width=32,depth=2",
        config,
        str(tmp_path / "v"),
        split="full",
        progress=False,
    )
    metrics = json.load(open(tmp_path / "v" / "metrics.json"))
    assert metrics["ssim"] is None
    assert metrics["iou"] == pytest.approx(iou(outcome.prediction, volume.values.numpy()))
    assert metrics["iou"] > 0.5  # a sphere is smooth: even raw coordinates capture most of it


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("siren", 1e-4),
        ("none+relu", 1e-2),
        ("basic+relu", 1e-2),
        ("hash+relu", 1e-2),
        ("gauss+relu", 1e-3),
    ],
)
def test_default_learning_rates_follow_the_model_family(spec, expected):
    from coordnet.nets import parse_spec
    from coordnet.training.learning_rates import default_lr

    assert default_lr(parse_spec(spec)) == expected
