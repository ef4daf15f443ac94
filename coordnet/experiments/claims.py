"""Claims: a paper's statement, its value, ours, and a verdict."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import stats

VERDICTS = ("holds", "reverses", "inconclusive", "within", "outside")


@dataclasses.dataclass
class Claim:
    """One claim of a paper checked by an experiment.

    ``source`` names the paper's section/table/figure or the authors' code file; ``paper`` is the
    paper's value (or statement), ``ours`` our measurement; ``verdict`` is one of ``VERDICTS``
    (holds/reverses/inconclusive for directions, within/outside for numeric matches);
    ``differs`` lists the settings that differ from the paper's (``"key: ours vs paper"``).

    A direction claim tested by a p-value (build it with :func:`direction_claim`) also carries
    ``n`` (seeds, images or runs), ``interval`` (the uncorrected ``confidence`` interval of the
    effect), ``p_value`` (two-sided, uncorrected), ``expected_sign``, ``effect`` (its estimate) and,
    once the experiment's family of claims is corrected (:func:`~coordnet.experiments.
    multiple_comparisons.holm_correct`, done by ``write_results``), ``p_holm`` and ``raw_verdict``
    (the verdict before the correction); ``verdict`` is then the corrected one."""

    name: str
    source: str
    paper: Any
    ours: Any
    verdict: str
    differs: list[str] = dataclasses.field(default_factory=list)
    note: str = ""
    n: Optional[int] = None
    interval: Optional[Tuple[float, float]] = None
    p_value: Optional[float] = None
    p_holm: Optional[float] = None
    expected_sign: Optional[int] = None
    effect: Optional[float] = None
    raw_verdict: Optional[str] = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"verdict {self.verdict!r} of claim {self.name!r} is not one of {', '.join(VERDICTS)}"
            )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def mean_interval(
    values: Union[Sequence[float], np.ndarray], confidence: float = 0.95
) -> Tuple[float, float, float]:
    """Mean of ``values`` and its two-sided t-based ``confidence`` interval (NaN bounds for one value)."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return mean, mean - half, mean + half


def verdict_from_interval(low: float, high: float, expected_sign: int) -> str:
    """``holds`` when [low, high] excludes zero on the side of ``expected_sign`` (+1 or -1),
    ``reverses`` when it excludes zero on the other side, ``inconclusive`` when it spans zero."""
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low > high:
        raise ValueError(f"interval [{low}, {high}] has low > high")
    if low > 0:
        return "holds" if expected_sign == 1 else "reverses"
    if high < 0:
        return "holds" if expected_sign == -1 else "reverses"
    return "inconclusive"


def verdict_within(ours: float, paper: float, tol: float) -> str:
    """``within`` when ``|ours - paper| <= tol``, else ``outside`` (NaN is outside)."""
    if tol < 0:
        raise ValueError(f"tolerance must be non-negative, got {tol}")
    if math.isnan(ours) or math.isnan(paper):
        return "outside"
    return "within" if abs(ours - paper) <= tol else "outside"


def verdict_from_sign(value: float, expected_sign: int, margin: float = 0.0) -> str:
    """For a single statistic (e.g. a rank correlation): ``holds`` when ``value`` exceeds
    ``margin`` in the direction of ``expected_sign``, ``reverses`` when it does in the opposite
    direction, ``inconclusive`` when ``|value| <= margin`` (or NaN/None)."""
    if margin < 0:
        raise ValueError(f"margin must be non-negative, got {margin}")
    if value is None or math.isnan(value) or abs(value) <= margin:
        return "inconclusive"
    return verdict_from_interval(value, value, expected_sign)


def verdict_from_p(effect: float, p: float, expected_sign: int, alpha: float = 0.05) -> str:
    """``holds`` / ``reverses`` when ``p < alpha`` and ``effect`` has / has not the expected
    sign; ``inconclusive`` otherwise."""
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    if math.isnan(effect) or math.isnan(p) or p >= alpha or effect == 0:
        return "inconclusive"
    return "holds" if (effect > 0) == (expected_sign > 0) else "reverses"


def paired_test(
    differences: Sequence[float], confidence: float = 0.95
) -> Tuple[float, float, float, float]:
    """Mean of paired ``differences`` (one per seed or image), its t-based ``confidence`` interval
    and the two-sided one-sample t-test p-value against 0 (``scipy.stats.ttest_1samp``).

    Fewer than two values: p = 1 (no evidence). All equal: the t-test is undefined (zero spread);
    the interval is the value itself and p is the exact two-sided sign test
    (``scipy.stats.binomtest``: ``2 · 0.5^n`` for a nonzero value, 1 for zero), so that a few
    identical runs are not taken for certainty."""
    d = np.asarray(differences, dtype=float)
    mean, low, high = mean_interval(d, confidence)
    if len(d) < 2:
        return mean, low, high, 1.0
    if float(np.ptp(d)) == 0.0:
        p_sign = 1.0 if mean == 0 else float(stats.binomtest(len(d), len(d), 0.5).pvalue)
        return mean, mean, mean, p_sign
    return mean, low, high, float(stats.ttest_1samp(d, 0.0).pvalue)


def direction_claim(
    name: str,
    source: str,
    paper: Any,
    differences: Sequence[float],
    expected_sign: int,
    *,
    differs: Sequence[str] = (),
    note: str = "",
    unit: str = "",
    digits: int = 4,
    confidence: float = 0.95,
) -> Claim:
    """A claim that an effect has sign ``expected_sign``, tested on paired ``differences``
    (intervention − reference, one per seed/image). ``ours`` reads ``"+0.1234 unit [low, high]"``;
    the verdict before the multiple-comparison correction is :func:`verdict_from_p` at level
    ``1 - confidence`` (for differences that vary, the same as the t-interval excluding 0)."""
    mean, low, high, p = paired_test(differences, confidence)
    f = f"+.{digits}f"
    ours = f"{mean:{f}}{' ' + unit if unit else ''} [{low:{f}}, {high:{f}}]"
    return Claim(
        name,
        source,
        paper,
        ours,
        verdict_from_p(mean, p, expected_sign, 1 - confidence),
        list(differs),
        note,
        n=len(differences),
        interval=(low, high),
        p_value=p,
        expected_sign=expected_sign,
        effect=mean,
    )
