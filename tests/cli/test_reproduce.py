"""``coordnet reproduce``: listing, names, budgets, typed ``--set`` and the options of a run."""

import dataclasses
import sys
import types
from typing import Optional

import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.experiments import reproduce as harness
from coordnet.experiments.budget import Budget


@dataclasses.dataclass(frozen=True)
class Toy(Budget):
    steps: int = 100
    lr: float = 1e-3
    shuffle: bool = True
    seed: Optional[int] = None
    levels: tuple[int, ...] = (4, 8, 16)


def invoke(*argv: str):
    return CliRunner().invoke(cli, ["reproduce", *argv])


@pytest.fixture
def toy(monkeypatch):
    """A registered experiment ``toy`` that records its calls (``module.seen``)."""
    module = types.ModuleType("coordnet.experiments.toy")
    module.BUDGETS = {"cpu": Toy(steps=5), "paper": Toy()}
    module.seen = []

    def run(name, budget, options):
        module.seen.append((name, budget, options))
        return 0

    module.run = run
    monkeypatch.setitem(sys.modules, "coordnet.experiments.toy", module)
    monkeypatch.setitem(harness.EXPERIMENTS, "toy", "Toy et al. 2000, a toy")
    return module


def test_list_names_the_five_experiments_one_line_each():
    result = invoke("--list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [
        "tancik2020",
        "rahaman2019",
        "basri2019",
        "lazzari2023",
        "fridovich2022",
    ]
    assert "Fridovich-Keil et al. 2022, Spectral Bias in Practice" in lines[4]


def test_unknown_name_is_one_line_with_the_nearest_name():
    result = invoke("tancik", "--out", "unused")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown experiment 'tancik' (did you mean 'tancik2020'?); choose from "
        "tancik2020, rahaman2019, basri2019, lazzari2023, fridovich2022\n"
    )


def test_missing_name_is_a_usage_error():
    result = invoke()
    assert result.exit_code == 2 and "missing NAME" in result.stderr
    result = invoke("tancik2020", "--into", "page.md")
    assert result.exit_code == 2 and "--into needs --report" in result.stderr


def test_set_is_parsed_by_the_settings_types(toy, tmp_path):
    result = invoke(
        "toy",
        "--out",
        str(tmp_path),
        "--set",
        "steps=9",
        "--set",
        "lr=0.5",
        "--set",
        "shuffle=off",
        "--set",
        "seed=none",
        "--set",
        "levels=2,3",
    )
    assert result.exit_code == 0, result.output
    name, budget, options = toy.seen[0]
    assert name == "cpu"
    assert budget == Toy(steps=9, lr=0.5, shuffle=False, seed=None, levels=(2, 3))
    assert type(budget.steps) is int and type(budget.lr) is float
    assert options.out == tmp_path and options.data is None and options.figures


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--set", "step=3"],
            "unknown setting 'step' (did you mean 'steps'? valid keys: steps, lr",
        ),
        (["--set", "steps=many"], "bad value for 'steps'"),
        (["--set", "shuffle=maybe"], "expected a boolean"),
        (["--set", "steps"], "is not KEY=VALUE"),
        (["--budget", "papr"], "unknown budget 'papr' of toy (did you mean 'paper'?)"),
        (["--image", "x.png"], "--image applies to lazzari2023, not to toy"),
        (["--device", "cuda"], "--device applies to tancik2020, not to toy"),
        (["--data", "d"], "--data applies to tancik2020, lazzari2023, not to toy"),
    ],
)
def test_bad_input_is_one_line_and_runs_nothing(toy, tmp_path, argv, message):
    result = invoke("toy", "--out", str(tmp_path), *argv)
    assert result.exit_code == 1 and toy.seen == []
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_default_out_and_paper_budget(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("toy", "--budget", "paper").exit_code == 0
    assert toy.seen[0][1] == Toy() and str(toy.seen[0][2].out) == "reproductions/toy-paper"


def test_every_experiment_defines_the_interface():
    for name in harness.EXPERIMENTS:
        module = harness.experiment(name)
        assert "cpu" in module.BUDGETS and callable(module.run)
