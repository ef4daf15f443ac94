"""Function frequency of classifiers along straight paths between inputs (Fridovich-Keil et al. 2022).

For a classifier ``model`` (inputs ``(B, ...)`` -> logits ``(B, C)``) and two inputs ``x_a``,
``x_b``, the **path** is ``x(t) = x_a + t (x_b - x_a)`` and the **path signal** is
``s(t) = ‖p(t) - p(0)‖₂``, ``p = softmax(model(x))``. Its power spectrum says how fast the
prediction changes along the path. Pairs are drawn at random (seeded) either from two different
classes (**between-class** paths) or from one class (**within-class** paths).

Conventions
-----------
* Sampling: a path with ``n`` samples is evaluated at ``t_j = j / n``, ``j = 0..n-1`` (the
  half-open grid of :mod:`coordnet.spectral.spectrum`; ``x_b`` itself, ``t = 1``, is the next
  period's first sample and is not evaluated). ``n`` is either fixed (``samples``, default 64)
  or set by a fixed step in input space (``step``): ``n = max(min_samples, ceil(‖x_b - x_a‖ / step))``.
* Frequency unit: **cycles per path**; bin ``k`` is ``k`` cycles per path, ``0 <= k <= n // 2``
  (the Nyquist frequency).
* Spectrum: the one-sided **power** is ``|X_k|² / n²``, doubled for ``0 < k < n/2``, of the
  mean-removed path signal, either untapered (``window="none"``: ``X = DFT(s - mean s)``) or
  tapered (``window="hann"``, the default of :func:`classifier_spectrum`: ``X = DFT((s - m) w) /
  sqrt(mean w²)`` with ``w`` the periodic Hann window and ``m = Σ w s / Σ w`` the window-weighted
  mean, so bin 0 is empty). Untapered, the bins add up to the variance of ``s`` along the path
  (Parseval): ``c (1 - cos 2πkt)`` has power ``c²/2`` in bin ``k`` and none elsewhere; the Hann
  window spreads it over ``k - 1, k, k + 1`` in the ratio 1 : 4 : 1 (same total, same centroid).
  Why the default tapers: ``s(0) = 0`` while ``s`` ends near its maximum on a between-class
  path, so the untapered DFT sees a jump at the wrap-around ``t = 1 -> 0`` whose ``1/k²`` tail
  is the same whatever the model does between the endpoints; the taper removes it, and the
  high frequencies then come from sharp changes *along* the path.
* Paths of different lengths (``step`` mode) are zero-padded to the longest path's bins for the
  mean spectrum (a short path measures nothing above its own Nyquist frequency).
* Summaries per path type: the **mean power spectrum** over paths; the **spectral centroid**
  ``Σ_k k P_k / Σ_k P_k`` of the mean spectrum, the single function-frequency score (paths along
  which the output changes more weigh more); the mean of the per-path centroids; and the
  **high-frequency share**, the fraction of the mean spectrum's power strictly above the cutoff
  ``cutoff_fraction × Nyquist`` (default a quarter of the Nyquist frequency of the longest path).
  A path along which the output does not change (all power zero) has centroid 0 and share 0.

This is coordnet's recipe. The paper's own recipe (Fridovich-Keil et al. 2022,
``google-research/google-research`` ``spectral_bias/interpolation/evaluate_interpolation.py``:
fixed step, ``|fftshift(fft(‖p(t) − p(0)‖))|²``) is :mod:`coordnet.spectral.path_power`; the
later RobustNets recipe ("Models Out of Line", 2022: per-class probabilities, fraction above
the lowest 10% of the bins) is :mod:`coordnet.spectral.path_fraction`. :func:`logits_at` and
:func:`probabilities_at` serve all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from coordnet.spectral.spectrum import unit_grid
from coordnet.validation import check_choice, check_count, check_positive

KINDS = ("between", "within")
WINDOWS = ("none", "hann")
DEFAULT_SAMPLES = 64
DEFAULT_CUTOFF_FRACTION = 0.25
DEFAULT_WINDOW = "hann"


def _check_dataset(inputs: Tensor, labels: Tensor) -> Tuple[Tensor, Tensor]:
    if not isinstance(inputs, Tensor) or inputs.ndim < 2 or not inputs.is_floating_point():
        shape = tuple(inputs.shape) if isinstance(inputs, Tensor) else type(inputs).__name__
        raise ValueError(
            f"inputs must be a floating-point tensor of shape (N, ...) with N >= 1, got {shape}"
        )
    if (
        not isinstance(labels, Tensor)
        or labels.ndim != 1
        or labels.is_floating_point()
        or labels.is_complex()
    ):
        shape = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be an integer tensor of shape (N,), got {shape}")
    if labels.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"labels has {labels.shape[0]} entries but inputs has {inputs.shape[0]} examples"
        )
    return inputs, labels.long()


def sample_pairs(
    inputs: Tensor, labels: Tensor, num_pairs: int, kind: str, seed: int = 0
) -> Tensor:
    """Random pairs of example indices: ``(num_pairs, 2)`` int64.

    ``kind="between"``: the two examples have different labels (the first is uniform over the
    dataset, the second uniform over the examples of other classes); ``"within"``: the same
    label (the first uniform over the examples whose class has at least two members, the second
    uniform over the other members of its class). Pairs whose two inputs are identical (a
    zero-length path) are redrawn.

    Raises:
        ValueError: a single class (no between-class pair), no class with two distinct inputs
        (no within-class pair), or too many identical inputs to draw non-degenerate pairs.
    """
    inputs, labels = _check_dataset(inputs, labels)
    check_count("num_pairs", num_pairs)
    check_choice("kind", kind, KINDS)
    classes, counts = torch.unique(labels, return_counts=True)
    if kind == "between" and len(classes) < 2:
        raise ValueError(
            f"between-class pairs need at least 2 classes, the labels hold only {classes.tolist()}"
        )
    if kind == "within" and not bool((counts >= 2).any()):
        raise ValueError(
            "within-class pairs need a class with at least 2 examples; every class has one"
        )
    generator = torch.Generator().manual_seed(int(seed))
    flat = inputs.reshape(inputs.shape[0], -1)
    by_class = {int(c): torch.nonzero(labels == c).flatten() for c in classes}
    starts_pool = (
        torch.arange(len(labels))
        if kind == "between"
        else torch.cat([by_class[int(c)] for c, n in zip(classes, counts) if n >= 2])
    )
    pairs = torch.empty(num_pairs, 2, dtype=torch.long)
    todo = torch.arange(num_pairs)
    for _ in range(100):
        a = starts_pool[torch.randint(len(starts_pool), (len(todo),), generator=generator)]
        b = torch.empty_like(a)
        for i, first in enumerate(a.tolist()):
            label = int(labels[first])
            if kind == "between":
                pool = torch.nonzero(labels != label).flatten()
            else:
                members = by_class[label]
                pool = members[members != first]
            b[i] = pool[torch.randint(len(pool), (1,), generator=generator)]
        pairs[todo, 0], pairs[todo, 1] = a, b
        degenerate = (flat[a] == flat[b]).all(dim=1)
        todo = todo[degenerate]
        if len(todo) == 0:
            return pairs
    raise ValueError(
        f"could not draw {kind}-class pairs of distinct inputs: too many identical examples "
        f"({len(todo)} of {num_pairs} pairs still had identical endpoints after 100 draws)"
    )


def path_lengths(inputs: Tensor, pairs: Tensor) -> Tensor:
    """Euclidean distance ``‖x_b - x_a‖`` of each pair: ``(P,)`` float64."""
    flat = inputs.reshape(inputs.shape[0], -1).double()
    return (flat[pairs[:, 1]] - flat[pairs[:, 0]]).norm(dim=1)


def samples_per_path(
    lengths: Tensor,
    samples: Optional[int] = None,
    step: Optional[float] = None,
    min_samples: int = 8,
    max_samples: int = 4096,
) -> Tensor:
    """Samples of each path ``(P,)`` int64: ``samples`` for all, or ``ceil(length / step)``
    clamped to ``[min_samples, max_samples]``. Exactly one of ``samples`` / ``step``."""
    if (samples is None) == (step is None):
        raise ValueError(
            f"give exactly one of samples and step, got samples={samples!r}, step={step!r}"
        )
    if samples is not None:
        check_count("samples", samples, minimum=2)
        return torch.full((len(lengths),), samples, dtype=torch.long)
    assert step is not None
    check_positive("step", step)
    check_count("min_samples", min_samples, minimum=2)
    check_count("max_samples", max_samples, minimum=min_samples)
    return torch.ceil(lengths / step).long().clamp(min_samples, max_samples)


def path_probabilities(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    counts: Tensor,
    chunk: int = 8192,
    lengths: Optional[Tensor] = None,
) -> List[Tensor]:
    """Softmax outputs along each path: a list of ``(n_i, C)`` float64 tensors, row ``j`` at ``t = j / n_i``.

    All path points of all paths go through ``model`` in one batched pass, ``chunk`` points per
    forward call, in eval mode (the model's training flag is restored afterwards), on the
    device and dtype of ``inputs``. ``lengths``: the ``(P,)`` :func:`path_lengths` of ``pairs``
    if already known (computed otherwise).
    """
    return probabilities_at(
        model, inputs, pairs, [unit_grid(int(n)) for n in counts], chunk, lengths
    )


def probabilities_at(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    positions: Sequence[Tensor],
    chunk: int = 8192,
    lengths: Optional[Tensor] = None,
) -> List[Tensor]:
    """Softmax outputs at chosen points of each path: a list of ``(n_i, C)`` float64 tensors,
    the row-wise softmax of :func:`logits_at`."""
    logits = logits_at(model, inputs, pairs, positions, chunk, lengths)
    return [torch.softmax(z, dim=1) for z in logits]


@torch.no_grad()
def logits_at(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    positions: Sequence[Tensor],
    chunk: int = 8192,
    lengths: Optional[Tensor] = None,
) -> List[Tensor]:
    """Logits at chosen points of each path: a list of ``(n_i, C)`` float64 tensors.

    ``positions[i]`` is a ``(n_i,)`` tensor of path fractions ``t``; row ``j`` of output ``i`` is
    ``model(x_a + t_j (x_b - x_a))`` for the pair ``(a, b) = pairs[i]``. Evaluation as in
    :func:`path_probabilities` (batched, ``chunk`` points per call, eval mode).

    Raises:
        ValueError: ``pairs`` not ``(P, 2)``, ``positions`` not one tensor per pair, a zero-length
        path, or a model that does not return logits ``(B, C)``.
    """
    check_count("chunk", chunk)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (P, 2), got {tuple(pairs.shape)}")
    if len(positions) != len(pairs):
        raise ValueError(
            f"positions must hold one tensor per pair ({len(pairs)}), got {len(positions)}"
        )
    if lengths is None:
        lengths = path_lengths(inputs, pairs)
    if bool((lengths == 0).any()):
        bad = int(torch.nonzero(lengths == 0)[0])
        raise ValueError(
            f"pair {bad} ({pairs[bad, 0].item()}, {pairs[bad, 1].item()}) is a zero-length path: "
            "its two inputs are identical"
        )
    counts = torch.tensor([len(t) for t in positions], dtype=torch.long)
    path_index = torch.repeat_interleave(torch.arange(len(pairs)), counts)
    t = torch.cat([torch.as_tensor(t, dtype=torch.float64).flatten() for t in positions]).to(
        inputs.dtype
    )
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for start in range(0, len(t), chunk):
            index = path_index[start : start + chunk]
            a, b = inputs[pairs[index, 0]], inputs[pairs[index, 1]]
            tt = t[start : start + chunk].to(inputs.device).reshape(-1, *([1] * (inputs.ndim - 1)))
            logits = model(a + tt * (b - a))
            if not isinstance(logits, Tensor) or logits.ndim != 2 or logits.shape[0] != len(index):
                got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
                raise ValueError(
                    f"model must map inputs (B, ...) to logits (B, C), got output {got} for B={len(index)}"
                )
            outputs.append(logits.double().cpu())
    finally:
        model.train(was_training)
    return list(torch.cat(outputs).split(counts.tolist()))


def path_signal(probabilities: Tensor) -> Tensor:
    """``‖p(t_j) - p(0)‖₂`` along one path: ``(n, C)`` -> ``(n,)``."""
    return (probabilities - probabilities[:1]).norm(dim=-1)


def power_spectrum(signal: Tensor, window: str = "none") -> Tensor:
    """One-sided power of ``signal (..., n)`` after mean removal: ``(..., n // 2 + 1)`` float64.

    Bin ``k`` is ``k`` cycles per path; see the module docstring for the normalisation.
    """
    check_choice("window", window, WINDOWS)
    signal = signal.double()
    n = signal.shape[-1]
    if window == "hann":
        w = torch.hann_window(n, periodic=True, dtype=torch.float64)
        mean = (signal * w).sum(dim=-1, keepdim=True) / w.sum()
        centred = (signal - mean) * w / w.pow(2).mean().sqrt()
    else:
        centred = signal - signal.mean(dim=-1, keepdim=True)
    power = torch.fft.rfft(centred, dim=-1).abs().pow(2) / n**2
    power[..., 1 : (n + 1) // 2] *= 2
    return power


def spectral_centroid(power: Tensor) -> Tensor:
    """``Σ_k k P_k / Σ_k P_k`` over the last axis (bins ``k = 0, 1, ...``); 0 where all power is 0."""
    k = torch.arange(power.shape[-1], dtype=power.dtype)
    total = power.sum(dim=-1)
    return torch.where(
        total > 0, (power * k).sum(dim=-1) / total.clamp_min(1e-300), torch.zeros_like(total)
    )


def high_frequency_share(power: Tensor, cutoff: float) -> Tensor:
    """Fraction of the power in bins ``k > cutoff`` (last axis); 0 where all power is 0."""
    k = torch.arange(power.shape[-1], dtype=power.dtype)
    total = power.sum(dim=-1)
    high = (power * (k > cutoff)).sum(dim=-1)
    return torch.where(total > 0, high / total.clamp_min(1e-300), torch.zeros_like(total))


@dataclass
class PathSpectra:
    """Spectra of ``P`` paths of one kind.

    Attributes:
        kind: ``"between"`` or ``"within"``.
        pairs: ``(P, 2)`` example indices ``(start, end)``.
        lengths: ``(P,)`` input-space distance of each path.
        samples: ``(P,)`` samples per path.
        power: ``(P, F)`` one-sided power, bin ``k`` = ``k`` cycles per path (zero-padded past a
            path's own Nyquist bin ``samples // 2``).
        signals: per path the ``(n_i,)`` path signal ``‖p(t) - p(0)‖``.
    """

    kind: str
    pairs: Tensor
    lengths: Tensor
    samples: Tensor
    power: Tensor
    signals: List[Tensor] = field(repr=False)

    @property
    def frequencies(self) -> Tensor:
        """``(F,)`` bin frequencies in cycles per path."""
        return torch.arange(self.power.shape[1], dtype=torch.float64)


def path_spectra(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    kind: str,
    samples: Optional[int] = None,
    step: Optional[float] = None,
    window: str = DEFAULT_WINDOW,
    chunk: int = 8192,
) -> PathSpectra:
    """Evaluate ``model`` along the paths ``pairs`` of ``inputs (N, ...)`` and take the spectra.

    ``samples`` (fixed number per path) or ``step`` (fixed input-space spacing); with neither,
    ``samples = DEFAULT_SAMPLES`` (64). ``window``: ``"hann"`` (default) or ``"none"``.
    """
    check_choice("kind", kind, KINDS)
    if samples is None and step is None:
        samples = DEFAULT_SAMPLES
    lengths = path_lengths(inputs, pairs)
    counts = samples_per_path(lengths, samples, step)
    probabilities = path_probabilities(model, inputs, pairs, counts, chunk=chunk, lengths=lengths)
    signals = [path_signal(p) for p in probabilities]
    return PathSpectra(
        kind, pairs.clone(), lengths, counts, spectra_of_signals(signals, window), signals
    )


def spectra_of_signals(signals: Sequence[Tensor], window: str = "none") -> Tensor:
    """Power spectra ``(P, F)`` of path signals of lengths ``n_i``, zero-padded to ``F = max n_i // 2 + 1`` bins."""
    bins = max(len(s) for s in signals) // 2 + 1
    power = torch.zeros(len(signals), bins, dtype=torch.float64)
    for i, s in enumerate(signals):
        spectrum = power_spectrum(s, window)
        power[i, : len(spectrum)] = spectrum
    return power


@dataclass
class SpectrumSummary:
    """Summary of one path type.

    Attributes:
        kind: ``"between"`` or ``"within"``.
        num_paths: ``P``.
        mean_power: ``(F,)`` mean power spectrum over paths, bin ``k`` = ``k`` cycles per path.
        centroid: spectral centroid of ``mean_power`` (cycles per path): the function-frequency score.
        path_centroid_mean: mean of the per-path centroids.
        high_share: share of ``mean_power`` strictly above ``cutoff``.
        cutoff: the cutoff in cycles per path (``cutoff_fraction × Nyquist``).
        cutoff_fraction: the cutoff as a fraction of the Nyquist frequency.
        mean_variation: mean over paths of the path signal's variance (total power).
    """

    kind: str
    num_paths: int
    mean_power: Tensor
    centroid: float
    path_centroid_mean: float
    high_share: float
    cutoff: float
    cutoff_fraction: float
    mean_variation: float

    def to_dict(self) -> Dict[str, object]:
        return {
            "kind": self.kind,
            "num_paths": self.num_paths,
            "frequencies_cycles_per_path": list(range(len(self.mean_power))),
            "mean_power": [float(v) for v in self.mean_power],
            "centroid": self.centroid,
            "path_centroid_mean": self.path_centroid_mean,
            "high_share": self.high_share,
            "cutoff": self.cutoff,
            "cutoff_fraction": self.cutoff_fraction,
            "mean_variation": self.mean_variation,
        }


def summarize(
    spectra: PathSpectra, cutoff_fraction: float = DEFAULT_CUTOFF_FRACTION
) -> SpectrumSummary:
    """Mean spectrum, centroid and high-frequency share of ``spectra`` (see the module docstring)."""
    check_positive("cutoff_fraction", cutoff_fraction)
    if cutoff_fraction >= 1:
        raise ValueError(
            f"cutoff_fraction must be below 1 (a fraction of the Nyquist frequency), got {cutoff_fraction!r}"
        )
    nyquist = int(spectra.samples.max()) / 2
    cutoff = cutoff_fraction * nyquist
    mean_power = spectra.power.mean(dim=0)
    return SpectrumSummary(
        kind=spectra.kind,
        num_paths=len(spectra.pairs),
        mean_power=mean_power,
        centroid=float(spectral_centroid(mean_power)),
        path_centroid_mean=float(spectral_centroid(spectra.power).mean()),
        high_share=float(high_frequency_share(mean_power, cutoff)),
        cutoff=cutoff,
        cutoff_fraction=float(cutoff_fraction),
        mean_variation=float(spectra.power.sum(dim=1).mean()),
    )


@dataclass
class ClassifierSpectrum:
    """Between- and within-class summaries of one classifier on one dataset, with the settings."""

    between: SpectrumSummary
    within: SpectrumSummary
    settings: Dict[str, object]

    def to_dict(self) -> Dict[str, object]:
        return {
            "between": self.between.to_dict(),
            "within": self.within.to_dict(),
            "settings": dict(self.settings),
            "frequency_unit": "cycles per path",
        }


def classifier_spectrum(
    model: nn.Module,
    inputs: Tensor,
    labels: Tensor,
    num_pairs: int = 100,
    samples: Optional[int] = None,
    step: Optional[float] = None,
    seed: int = 0,
    window: str = DEFAULT_WINDOW,
    cutoff_fraction: float = DEFAULT_CUTOFF_FRACTION,
    chunk: int = 8192,
) -> ClassifierSpectrum:
    """Function frequency of ``model`` between and within the classes of ``(inputs (N, ...), labels (N,))``.

    ``num_pairs`` paths of each kind (seeded by ``seed``; the within-class pairs use ``seed + 1``),
    ``samples`` per path (default 64) or a fixed ``step`` in input space.
    """
    inputs, labels = _check_dataset(inputs, labels)
    summaries = {}
    for offset, kind in enumerate(KINDS):
        pairs = sample_pairs(inputs, labels, num_pairs, kind, seed=seed + offset)
        summaries[kind] = summarize(
            path_spectra(model, inputs, pairs, kind, samples, step, window, chunk), cutoff_fraction
        )
    settings: Dict[str, object] = {
        "num_pairs": num_pairs,
        "samples": samples if (samples or step) else DEFAULT_SAMPLES,
        "step": step,
        "seed": seed,
        "window": window,
        "mean_removed": True,
        "cutoff_fraction": cutoff_fraction,
        "num_examples": int(inputs.shape[0]),
        "num_classes": int(torch.unique(labels).numel()),
    }
    return ClassifierSpectrum(summaries["between"], summaries["within"], settings)
