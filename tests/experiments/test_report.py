"""Reports generated from results.json: `coordnet reproduce NAME --report [--out DIR] [--into PAGE]`."""

import json

from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.experiments import direction_claim
from coordnet.experiments import tancik2020 as tancik
from coordnet.experiments.results import write_results

PER_IMAGE = {
    "div2k": {"none": [19.0, 20.0, 21.0], "basic": [19.8, 21.5, 22.0]},
    "text": {"none": [18.0, 18.5, 18.2], "basic": [19.2, 19.1, 19.0]},
}


def _results(out):
    claims = [
        direction_claim(
            f"{s}: basic above no mapping",
            tancik.SOURCE,
            "+2.39 dB",
            [b - a for a, b in zip(PER_IMAGE[s]["none"], PER_IMAGE[s]["basic"])],
            1,
            differs=["steps: 3 vs 2000"],
            note="paired over 3 images",
            unit="dB",
            digits=2,
        )
        for s in ("div2k", "text")
    ]
    write_results(
        out,
        experiment="tancik2020",
        budget_name="cpu",
        budget=tancik.BUDGETS["cpu"],
        paper_budget=tancik.PAPER_BUDGET,
        claims=claims,
        tables={"per_image": PER_IMAGE, "paper": tancik.PAPER},
    )
    return json.loads((out / "results.json").read_text())


def invoke(*argv):
    return CliRunner().invoke(cli, ["reproduce", *argv])


def test_report_is_generated_from_results_json(tmp_path):
    results = _results(tmp_path)
    page = tmp_path / "page.md"
    begin = "<!-- coordnet reproduce tancik2020 --report: begin -->"
    end = "<!-- coordnet reproduce tancik2020 --report: end -->"
    page.write_text(f"# Tancik\n\nintro\n{begin}\nold table typed by hand\n{end}\noutro\n")
    result = invoke("tancik2020", "--report", "--out", str(tmp_path), "--into", str(page))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report.md").read_text()
    assert result.output == report
    div2k, text = results["claims"]
    # p ≈ 0.034 and 0.039: both hold uncorrected, neither after Holm (2 × 0.034 ≈ 0.068)
    assert div2k["p_value"] < text["p_value"] < 0.05 and text["p_holm"] > 0.05
    for claim in (div2k, text):
        assert claim["raw_verdict"] == "holds" and claim["verdict"] == "inconclusive"
        assert claim["p_holm"] == 2 * div2k["p_value"] and claim["n"] == 3
    assert (
        f"| text: basic above no mapping (paired over 3 images) | {tancik.SOURCE} | +2.39 dB | "
        f"{text['ours']} | 3 | {text['p_value']:.4f} | {text['p_holm']:.4f} | "
        "inconclusive (uncorrected: holds) | steps: 3 vs 2000 |"
    ) in report
    assert "| no mapping | 20.00 (0.82) | 19.32 (2.48) | 18.23 (0.21) |" in report
    assert "mean (std) over 3 div2k, 3 text test images" in report
    assert (
        "- steps: 150 vs 2000" in report and "Holm's correction over the 2 tested claims" in report
    )
    assert page.read_text() == f"# Tancik\n\nintro\n{begin}\n{report.rstrip()}\n{end}\noutro\n"


def test_report_errors_are_one_line(tmp_path):
    result = invoke("tancik2020", "--report", "--out", str(tmp_path))
    assert result.exit_code == 1 and "results.json: no results" in result.stderr
    _results(tmp_path)
    result = invoke("lazzari2023", "--report", "--out", str(tmp_path))
    assert "holds experiment 'tancik2020', not 'lazzari2023'" in result.stderr
    page = tmp_path / "page.md"
    page.write_text("no markers\n")
    result = invoke("tancik2020", "--report", "--out", str(tmp_path), "--into", str(page))
    assert result.exit_code == 1 and "no block between" in result.stderr
    assert page.read_text() == "no markers\n" and result.stderr.count("\n") == 1
