"""Reproductions of published experiments on one harness.

``budget``               frozen dataclasses of an experiment's settings, typed ``key=value`` overrides
``cache``                per-run results stored atomically and reused when the settings match
``claims``               a paper's claim next to ours: verdict, n, interval, p-value, what differs
``multiple_comparisons`` Holm's correction of an experiment's family of claims
``results``              ``results.json`` (the single source) / ``results.md`` written atomically
``report``               Markdown reports and documentation blocks generated from ``results.json``
``reproduce``            the registry of experiments and the options of a run (``coordnet reproduce``)

The per-paper definitions (``coordnet.experiments.<paper>``) are imported by name, not here.
"""

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import (
    VERDICTS,
    Claim,
    direction_claim,
    mean_interval,
    paired_test,
    verdict_from_interval,
    verdict_within,
)
from coordnet.experiments.multiple_comparisons import holm, holm_correct
from coordnet.experiments.results import write_results

__all__ = [
    "Budget",
    "Claim",
    "RunCache",
    "VERDICTS",
    "direction_claim",
    "holm",
    "holm_correct",
    "mean_interval",
    "paired_test",
    "verdict_from_interval",
    "verdict_within",
    "write_results",
]
