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


def _versions() -> dict[str, str]:
    import torch

    return {
        "torch": torch.__version__,
        "coordnet": coordnet.__version__,
        "python": platform.python_version(),
    }


def _cell(value: Any) -> str:
    """A value as one Markdown table cell (floats to 4 significant digits, pipes escaped)."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_cell(item) for item in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def claims_markdown(claims: Sequence[Claim]) -> str:
    """The claims table: claim | source | paper | ours | verdict | settings that differ."""
    lines = [
        "| claim | source | paper | ours | verdict | settings that differ |",
        "|---|---|---|---|---|---|",
    ]
    for claim in claims:
        differs = "; ".join(claim.differs) if claim.differs else "none"
        name = claim.name + (f" ({claim.note})" if claim.note else "")
        lines.append(
            f"| {_cell(name)} | {_cell(claim.source)} | {_cell(claim.paper)} | {_cell(claim.ours)} "
            f"| {claim.verdict} | {_cell(differs)} |"
        )
    return "\n".join(lines) + "\n"


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
) -> Path:
    """Write ``out/results.json`` and ``out/results.md`` atomically; return the JSON path.

    JSON keys: experiment, budget, settings, differs_from_paper, claims (as dicts), tables, extra,
    versions {torch, coordnet, python}, date. ``differs_from_paper`` is
    ``budget.differences(paper_budget)`` (empty without a paper budget)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    differs = budget.differences(paper_budget) if paper_budget is not None else []
    payload = {
        "experiment": experiment,
        "budget": budget_name,
        "settings": budget.as_dict(),
        "differs_from_paper": differs,
        "claims": [claim.as_dict() for claim in claims],
        "tables": dict(tables),
        "extra": dict(extra),
        "versions": _versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    payload = json.loads(json.dumps(payload, default=str))  # one normal form for both files
    path = out / "results.json"
    write_json(str(path), payload, allow_nan=True)
    markdown = [f"# {experiment}: budget `{budget_name}`", "", claims_markdown(claims)]
    if differs:
        markdown += ["Settings that differ from the paper (ours vs paper):", ""]
        markdown += [f"- {line}" for line in differs] + [""]
    write_text(str(out / "results.md"), "\n".join(markdown))
    return path
