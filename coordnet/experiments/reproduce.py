"""Run a reproduction by name: the registry of experiments and the options every run receives.

An experiment is a module ``coordnet.experiments.<name>``, listed in ``EXPERIMENTS``, that defines

* ``BUDGETS`` — budget name → :class:`~coordnet.experiments.budget.Budget` (``cpu`` first);
* ``run(name, budget, options) -> int`` — runs the budget, writes ``options.out/results.json``.

``coordnet reproduce`` (:mod:`coordnet.cli.reproduce`) is the command line over this module.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from pathlib import Path
from types import ModuleType
from typing import Optional, Sequence

from coordnet.experiments.budget import Budget

# name -> one line: the paper and what is reproduced (what `coordnet reproduce --list` prints)
EXPERIMENTS = {
    "tancik2020": "Tancik et al. 2020, Fourier Features Let Networks Learn High Frequency "
    "Functions: Table 1, 2D image regression",
    "rahaman2019": "Rahaman et al. 2019, On the Spectral Bias of Neural Networks: spectra while "
    "training, robustness to parameter perturbation, manifolds",
    "basri2019": "Basri/Ronen et al. 2019, The Convergence Rate of Neural Networks for Learned "
    "Functions of Different Frequencies: time to learn ∝ k^d",
    "lazzari2023": "Lazzari & Liu 2023, Understanding the Spectral Bias of Coordinate Based MLPs "
    "Via Training Dynamics: activation regions, Hamming distance, gradient confusion",
    "fridovich2022": "Fridovich-Keil et al. 2022, Spectral Bias in Practice: function frequency "
    "of image classifiers between and within classes",
}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a run needs besides its budget. ``out``: the output folder (results, cache, figures);
    ``data``: an input data folder (Tancik: the data set; Lazzari: test images); ``image``: one
    image name or file (Lazzari); ``device``: ``cpu`` or ``cuda`` (Tancik); ``sigma_search``:
    choose σ by the shipped sweep (Tancik); ``figures``: draw the figures."""

    out: Path
    data: Optional[Path] = None
    image: Optional[str] = None
    device: str = "cpu"
    sigma_search: bool = False
    figures: bool = True


# option field -> (its default, how the command line spells it, the experiments that read it)
_OPTION_USERS = {
    "data": (None, "--data", ("tancik2020", "lazzari2023")),
    "image": (None, "--image", ("lazzari2023",)),
    "device": ("cpu", "--device", ("tancik2020",)),
    "sigma_search": (False, "--sigma-search", ("tancik2020",)),
}


def nearest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``choices`` to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def experiment(name: str) -> ModuleType:
    """The module of experiment ``name``; ``ValueError`` naming the nearest one if unknown."""
    if name not in EXPERIMENTS:
        raise ValueError(
            f"unknown experiment {name!r}{nearest(name, list(EXPERIMENTS))}; "
            f"choose from {', '.join(EXPERIMENTS)}"
        )
    return importlib.import_module(f"coordnet.experiments.{name}")


def summary(name: str) -> str:
    """One line: the name and what it reproduces (imports nothing)."""
    return f"{name:<14} {EXPERIMENTS[name]}"


def budget_of(name: str, budget_name: str, overrides: Sequence[str] = ()) -> Budget:
    """Budget ``budget_name`` of experiment ``name`` with ``KEY=VALUE`` overrides applied."""
    budgets = experiment(name).BUDGETS
    if budget_name not in budgets:
        raise ValueError(
            f"unknown budget {budget_name!r} of {name}{nearest(budget_name, list(budgets))}; "
            f"choose from {', '.join(budgets)}"
        )
    return budgets[budget_name].with_overrides(overrides)


def check_options(name: str, options: RunOptions) -> None:
    """``ValueError`` naming an option set away from its default that ``name`` does not read."""
    for field, (default, flag, users) in _OPTION_USERS.items():
        if name not in users and getattr(options, field) != default:
            raise ValueError(f"{flag} applies to {', '.join(users)}, not to {name}")


def reproduce(
    name: str,
    budget_name: str = "cpu",
    overrides: Sequence[str] = (),
    options: Optional[RunOptions] = None,
) -> int:
    """Run experiment ``name`` at budget ``budget_name`` (with overrides); return its exit status.

    ``options`` defaults to ``RunOptions(out=Path("reproductions") / f"{name}-{budget_name}")``."""
    budget = budget_of(name, budget_name, overrides)
    if options is None:
        options = RunOptions(out=default_out(name, budget_name))
    check_options(name, options)
    return int(experiment(name).run(budget_name, budget, options))


def default_out(name: str, budget_name: str) -> Path:
    """The default output folder of a run: ``reproductions/NAME-BUDGET``."""
    return Path("reproductions") / f"{name}-{budget_name}"
