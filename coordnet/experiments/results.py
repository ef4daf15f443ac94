"""One writer of an experiment's ``results.json`` and ``results.md``."""

from __future__ import annotations

import datetime
import json
import platform
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import coordnet
from coordnet.atomic import write_json, write_text
from coordnet.experiments.budget import Budget
from coordnet.experiments.claims import Claim
from coordnet.experiments.multiple_comparisons import holm_correct
from coordnet.experiments.report import report_markdown


def _versions() -> dict[str, str]:
    import torch

    return {
        "torch": torch.__version__,
        "coordnet": coordnet.__version__,
        "python": platform.python_version(),
    }


def write_results(
    out: Path,
    *,
    experiment: str,
    budget_name: str,
    budget: Budget,
    paper_budget: Optional[Budget],
    claims: Sequence[Claim],
    tables: Mapping[str, Any] = {},
    extra: Mapping[str, Any] = {},
    alpha: float = 0.05,
) -> Path:
    """Write ``out/results.json`` and ``out/results.md`` atomically; return the JSON path.

    JSON keys: experiment, budget, settings, differs_from_paper, claims (as dicts), tables, extra,
    versions {torch, coordnet, python}, date. ``differs_from_paper`` is
    ``budget.differences(paper_budget)`` (empty without a paper budget). The claims with p-values
    are one family: their verdicts are Holm-corrected at ``alpha`` (:func:`holm_correct`; ``alpha``
    is stored in ``extra``). ``results.md`` is :func:`report_markdown` of the payload."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    differs = budget.differences(paper_budget) if paper_budget is not None else []
    payload = {
        "experiment": experiment,
        "budget": budget_name,
        "settings": budget.as_dict(),
        "differs_from_paper": differs,
        "claims": [claim.as_dict() for claim in holm_correct(claims, alpha)],
        "tables": dict(tables),
        "extra": {**dict(extra), "alpha": alpha},
        "versions": _versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    payload = json.loads(json.dumps(payload, default=str))  # one normal form for both files
    path = out / "results.json"
    write_json(str(path), payload, allow_nan=True)
    write_text(str(out / "results.md"), report_markdown(payload))
    return path
