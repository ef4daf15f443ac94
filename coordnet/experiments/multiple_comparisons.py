"""Multiple comparisons: Holm's step-down correction of an experiment's family of claims.

An experiment tests many claims at once (Fridovich-Keil et al. about 25, Tancik et al. 6); with
each at level α the chance of at least one false "holds" grows with their number. Holm (1979)
controls that family-wise error rate at α for any dependence between the tests and is uniformly
more powerful than Bonferroni. Step-down: sort the m p-values ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎; the
adjusted value of the i-th is max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎). A claim is significant
when its adjusted p-value is below α. (The same numbers as statsmodels'
``multipletests(p, method="holm")``, without the dependency.)
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, Sequence

import numpy as np

from coordnet.experiments.claims import Claim, verdict_from_p


def holm(p_values: Sequence[float]) -> List[float]:
    """Holm-adjusted p-values, in the order given (NaN counts as 1)."""
    p = np.asarray([1.0 if math.isnan(v) else float(v) for v in p_values], dtype=float)
    if p.size == 0:
        return []
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    order = np.argsort(p, kind="stable")
    m = len(p)
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()


def holm_correct(claims: Sequence[Claim], alpha: float = 0.05) -> List[Claim]:
    """Copies of ``claims`` where every claim with a ``p_value`` gets ``p_holm`` (Holm over all of
    them: one family per experiment), keeps its uncorrected verdict as ``raw_verdict`` and takes
    the corrected verdict :func:`verdict_from_p` (``effect``, ``p_holm``). Other claims (numeric
    matches: within/outside) are returned unchanged."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    tested = [i for i, c in enumerate(claims) if c.p_value is not None]
    adjusted = holm([claims[i].p_value for i in tested])  # type: ignore[misc]
    out = list(claims)
    for i, p in zip(tested, adjusted):
        c = claims[i]
        if c.effect is None or c.expected_sign is None:
            raise ValueError(f"claim {c.name!r} has a p-value but no effect or expected sign")
        verdict = verdict_from_p(c.effect, p, c.expected_sign, alpha)
        out[i] = dataclasses.replace(c, p_holm=p, raw_verdict=c.verdict, verdict=verdict)
    return out
