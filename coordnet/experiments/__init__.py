"""Reproductions of published experiments on one harness.

``budget``   frozen dataclasses of an experiment's settings with typed ``key=value`` overrides
``cache``    per-run results stored atomically and reused when the settings match (resume)
``claims``   a paper's claim next to ours, with a verdict and the settings that differ
``results``  ``results.json`` / ``results.md`` written atomically
``reproduce`` the registry of experiments and the options of a run (``coordnet reproduce``)

The per-paper definitions (``coordnet.experiments.<paper>``) are imported by name, not here.
"""

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import (
    VERDICTS,
    Claim,
    mean_interval,
    verdict_from_interval,
    verdict_within,
)
from coordnet.experiments.results import write_results

__all__ = [
    "Budget",
    "Claim",
    "RunCache",
    "VERDICTS",
    "mean_interval",
    "verdict_from_interval",
    "verdict_within",
    "write_results",
]
