"""Markdown reports generated from an experiment's ``results.json`` (the single source).

``coordnet reproduce NAME --report --out DIR`` writes ``DIR/report.md`` and, with ``--into PAGE``,
replaces the block of ``PAGE`` between the two marker lines::

    <!-- coordnet reproduce NAME --report: begin -->
    <!-- coordnet reproduce NAME --report: end -->

so the documentation's tables and verdicts are never typed by hand. An experiment module may add
its own tables with ``report_tables(payload) -> str`` (Markdown).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from coordnet.atomic import write_text


def cell(value: Any) -> str:
    """A value as one Markdown table cell (floats to 4 significant digits, pipes escaped)."""
    if isinstance(value, float):
        text = "–" if math.isnan(value) else f"{value:.4g}"
    elif value is None:
        text = "–"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(cell(item) for item in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{key}={cell(item)}" for key, item in value.items())
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _p(value: Optional[float]) -> str:
    if value is None:
        return "–"
    return "<1e-4" if value < 1e-4 else f"{value:.4f}"


def claims_markdown(claims: Sequence[Mapping[str, Any]], common: Sequence[str] = ()) -> str:
    """The claims table: claim | source | paper | ours [95% interval] | n | p | p Holm | verdict |
    settings that differ (``"as listed below"`` when a claim's list equals ``common``)."""
    lines = [
        "| claim | source | paper | ours [95% interval] | n | p | p (Holm) | verdict | "
        "settings that differ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        differs = list(c.get("differs") or [])
        if not differs:
            differs_text = "none"
        elif common and differs == list(common):
            differs_text = "as listed below"
        else:
            differs_text = "; ".join(differs)
        name = c["name"] + (f" ({c['note']})" if c.get("note") else "")
        verdict = c["verdict"]
        if c.get("raw_verdict") and c["raw_verdict"] != verdict:
            verdict += f" (uncorrected: {c['raw_verdict']})"
        lines.append(
            f"| {cell(name)} | {cell(c['source'])} | {cell(c['paper'])} | {cell(c['ours'])} "
            f"| {cell(c.get('n'))} | {_p(c.get('p_value'))} | {_p(c.get('p_holm'))} "
            f"| {verdict} | {cell(differs_text)} |"
        )
    return "\n".join(lines) + "\n"


def report_markdown(payload: Mapping[str, Any], tables: str = "") -> str:
    """The report of one ``results.json`` payload: heading, claims table, how the verdicts were
    reached, the experiment's own ``tables`` (Markdown) and the settings that differ."""
    claims = payload.get("claims", [])
    differs = list(payload.get("differs_from_paper", []))
    shared = [list(c.get("differs") or []) for c in claims]
    if shared and shared[0] and all(d == shared[0] for d in shared):  # one list for every claim
        differs = shared[0] + [d for d in differs if d not in shared[0]]
    tested = sum(1 for c in claims if c.get("p_value") is not None)
    alpha = payload.get("extra", {}).get("alpha", 0.05)
    lines = [
        f"**{payload['experiment']}**, budget `{payload['budget']}` "
        f"(coordnet {payload.get('versions', {}).get('coordnet', '?')}, "
        f"{payload.get('date', '?')[:10]})",
        "",
        claims_markdown(claims, differs),
    ]
    if tested:
        lines += [
            f"Direction claims: two-sided t-test of the paired differences (n = seeds or images), "
            f"95% t-interval uncorrected; the verdict uses Holm's correction over the {tested} "
            f"tested claims of this run (holds/reverses when the adjusted p < {alpha:g}).",
            "",
        ]
    if tables:
        lines += [tables.rstrip("\n"), ""]
    if differs:
        lines += ["Settings that differ from the paper (ours vs paper):", ""]
        lines += [f"- {cell(d)}" for d in differs] + [""]
    return "\n".join(lines)


def _markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- coordnet reproduce {name} --report: begin -->",
        f"<!-- coordnet reproduce {name} --report: end -->",
    )


def replace_block(page: Path, name: str, text: str) -> None:
    """Replace the lines between ``name``'s begin and end markers of ``page`` by ``text``."""
    begin, end = _markers(name)
    if not page.is_file():
        raise ValueError(f"--into {page}: no such file")
    source = page.read_text()
    if begin not in source or end not in source or source.index(begin) > source.index(end):
        raise ValueError(f"--into {page}: no block between {begin!r} and {end!r}")
    head, rest = source.split(begin, 1)
    tail = rest.split(end, 1)[1]
    write_text(str(page), f"{head}{begin}\n{text.rstrip()}\n{end}{tail}")


def write_report(name: str, out: Path, into: Optional[Path] = None) -> str:
    """Read ``out/results.json`` of experiment ``name``, write ``out/report.md`` (and the block of
    ``into``), return the Markdown."""
    from coordnet.experiments.reproduce import experiment

    path = Path(out) / "results.json"
    if not path.is_file():
        raise ValueError(f"{path}: no results (run 'coordnet reproduce {name} --out {out}' first)")
    payload = json.loads(path.read_text())
    if payload.get("experiment") != name:
        raise ValueError(f"{path} holds experiment {payload.get('experiment')!r}, not {name!r}")
    tables = getattr(experiment(name), "report_tables", None)
    text = report_markdown(payload, tables(payload) if tables is not None else "")
    write_text(str(Path(out) / "report.md"), text)
    if into is not None:
        replace_block(Path(into), name, text)
    return text
