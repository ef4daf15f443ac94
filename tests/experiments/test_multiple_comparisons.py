"""Holm's step-down correction, direction claims and the corrected verdicts in results.json."""

import json
import math

import pytest
from scipy import stats

from coordnet.experiments import Claim, direction_claim, holm, holm_correct, paired_test
from coordnet.experiments.budget import Budget
from coordnet.experiments.claims import verdict_from_p
from coordnet.experiments.results import write_results


def test_holm_matches_a_hand_computed_case():
    # sorted: 0.005, 0.01, 0.03, 0.04 -> ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04
    # running maximum: 0.02, 0.03, 0.06, 0.06; back in the given order:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1, monotone
    assert holm([0.2]) == [0.2] and holm([]) == []
    assert holm([float("nan"), 0.01]) == pytest.approx([1.0, 0.02])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([1.5])


def test_paired_test_is_scipys_t_test():
    d = [0.3, 0.1, 0.4, 0.2, 0.25]
    mean, low, high, p = paired_test(d)
    result = stats.ttest_1samp(d, 0.0)
    interval = result.confidence_interval(0.95)
    assert mean == pytest.approx(0.25) and p == pytest.approx(result.pvalue)
    assert (low, high) == pytest.approx((interval.low, interval.high))
    # identical runs: the exact two-sided sign test, 2 * 0.5**n, not a degenerate t-test's 0
    assert paired_test([0.1, 0.1, 0.1])[3] == 0.25 and paired_test([0.0, 0.0])[3] == 1.0
    assert paired_test([0.1, 0.1, 0.1])[1:3] == pytest.approx((0.1, 0.1))
    assert math.isclose(paired_test([-0.2] * 8)[3], 2 * 0.5**8)
    assert paired_test([0.5])[3] == 1.0 and math.isnan(paired_test([0.5])[1])


def test_verdict_from_p():
    assert verdict_from_p(0.2, 0.01, 1) == "holds"
    assert verdict_from_p(-0.2, 0.01, 1) == "reverses"
    assert verdict_from_p(-0.2, 0.01, -1) == "holds"
    assert verdict_from_p(0.2, 0.06, 1) == "inconclusive"


def _claims():
    # p ≈ 0.031 uncorrected ("holds") is not significant once corrected among three claims
    weak = direction_claim("weak", "s", "up", [0.3, 0.05, 0.4, 0.1, 0.2], 1)
    strong = direction_claim("strong", "s", "up", [1.0, 1.1, 0.9, 1.05, 0.95], 1)
    null = direction_claim("null", "s", "down", [0.1, -0.1, 0.05, -0.02, 0.0], -1)
    match = Claim("numeric", "s", 1.0, 1.1, "within")
    return weak, strong, null, match


def test_holm_correct_changes_only_the_verdicts_it_should():
    weak, strong, null, match = _claims()
    assert weak.verdict == "holds" and 0.01 < weak.p_value < 0.05 and weak.n == 5
    corrected = holm_correct([weak, strong, null, match])
    by_name = {c.name: c for c in corrected}
    expected = holm([weak.p_value, strong.p_value, null.p_value])
    assert [by_name[k].p_holm for k in ("weak", "strong", "null")] == pytest.approx(expected)
    assert by_name["weak"].verdict == "inconclusive" and by_name["weak"].raw_verdict == "holds"
    assert by_name["strong"].verdict == "holds" and by_name["null"].verdict == "inconclusive"
    assert by_name["numeric"] == match  # numeric matches are not tested claims


def test_write_results_stores_raw_and_corrected(tmp_path):
    write_results(
        tmp_path,
        experiment="e",
        budget_name="cpu",
        budget=Budget(),
        paper_budget=None,
        claims=list(_claims()),
    )
    results = json.loads((tmp_path / "results.json").read_text())
    weak = results["claims"][0]
    assert weak["verdict"] == "inconclusive" and weak["raw_verdict"] == "holds"
    assert weak["p_holm"] > 0.05 > weak["p_value"] and weak["n"] == 5
    assert len(weak["interval"]) == 2 and results["extra"]["alpha"] == 0.05
    markdown = (tmp_path / "results.md").read_text()
    assert "| inconclusive (uncorrected: holds) |" in markdown
    assert "Holm's correction over the 3 tested claims" in markdown
