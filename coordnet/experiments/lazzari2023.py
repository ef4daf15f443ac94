"""Lazzari & Liu 2023, "Understanding the Spectral Bias of Coordinate Based MLPs Via Training
Dynamics" (arXiv 2301.05816): activation regions of a ReLU MLP fitting an image.

The protocol of the authors' code (``JohnLazzari/Spectral-Bias-Training-Dynamics``,
``scripts/nerf2D.py``, ``act_regions_image.py``, ``hamming_image.py``,
``gradient_confusion_image.py``), kept by every budget:

* inputs: positional encodings ``sin/cos(2^l · π · x)``, ``l < L``, of the grid
  ``linspace(0, 1, W)`` (endpoint included: on an ``i / W`` grid the levels ``2^l >= W/2`` alias
  to constants on the pixels); raw coordinates on the authors' raw grid ``i / W`` in ``[0, 1)``
  and ``2 i / W − 1`` in ``[−1, 1)``;
* a ReLU MLP of ``depth`` hidden layers of ``width`` with a **linear** output, PyTorch's default
  initialisation, Adam on the mean squared error; the pixels are shuffled **once** into
  mini-batches of ``batch_size`` that every epoch visits in the same order;
* regions = distinct activation patterns of all hidden units over the pixel grid, counted after
  the training pass of every epoch index ``e`` with ``e % count_every == 0`` (the authors' 0, 50,
  …, 950), for raw [0, 1), raw [−1, 1) and PE ``L`` in ``count_levels``;
* for PE ``L`` in ``pair_levels``: Hamming distance (hidden units whose on/off state differs),
  recorded every ``hamming_every`` epochs as the authors' curve, and gradient confusion (cosine of
  the two pixels' squared-error parameter gradients) after the last epoch, on the authors' pixel
  pairs (:func:`coordnet.regions.pixel_pairs.lazzari_pairs`: ``windows`` random windows ×
  ``window_pairs`` pairs, and ``global_pairs`` pairs across diagonally opposite corners).

Images: ``paper`` needs ``data`` (the first ``images`` files, in file-name order, of the DIV2K
test folder of Tancik et al.'s data: ``00.png`` … ``04.png``, 512² RGB). Smaller budgets
downsample the same files when ``data`` is given; without it they use scikit-image's bundled RGB
photographs (centre-cropped to a square, then downsampled), so they run without any download.
Verdicts: per image the difference of the two mappings; the claim's interval is the paired t
interval of its mean over the images.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
from torch import Tensor

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import Claim, direction_claim
from coordnet.experiments.reproduce import RunOptions
from coordnet.experiments.results import write_results
from coordnet.nets import build_model
from coordnet.regions import count_regions
from coordnet.regions.pixel_pairs import PixelPairs, lazzari_pairs
from coordnet.regions.similarity import gradient_confusion, hamming_distance
from coordnet.signals import load_signal
from coordnet.signals.image import image_signal
from coordnet.signals.signal import Signal
from coordnet.training.metrics import psnr
from coordnet.training.trainer import predict

TITLE = "Lazzari & Liu 2023, Understanding the Spectral Bias of Coordinate Based MLPs Via Training Dynamics"
SOURCE_REGIONS = "paper, region counts during training (2D images); authors' act_regions_image.py"
SOURCE_PAIRS = (
    "paper, Hamming distance and gradient confusion vs L (directions; no numbers); "
    "authors' hamming_image.py, gradient_confusion_image.py"
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
#: scikit-image's bundled RGB photographs, used when no data folder is given.
BUNDLED = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")
#: The run options this experiment reads besides ``out`` and ``figures``.
OPTIONS = ("data", "image")


@dataclasses.dataclass(frozen=True)
class LazzariBudget(Budget):
    seed: int = 0
    images: int = 5
    size: int = 512
    width: int = 512
    depth: int = 4
    lr: float = 1e-3
    batch_size: int = 8192
    epochs: int = 1000
    count_every: int = 50
    hamming_every: int = 10
    count_levels: tuple[int, ...] = (1, 2, 8)
    pair_levels: tuple[int, ...] = (4, 8, 16)
    windows: int = 100
    window_pairs: int = 500
    global_pairs: int = 50000


PAPER_BUDGET = LazzariBudget()
BUDGETS = {
    "cpu": LazzariBudget(
        size=64,
        width=128,
        batch_size=512,
        epochs=100,
        count_every=5,
        windows=20,
        window_pairs=25,
        global_pairs=500,
    ),
    "paper": PAPER_BUDGET,
    # seconds-long settings for tests (not a reproduction)
    "smoke": LazzariBudget(
        images=2,
        size=16,
        width=16,
        depth=2,
        batch_size=64,
        epochs=4,
        count_every=2,
        hamming_every=2,
        count_levels=(1, 2),
        pair_levels=(1, 2),
        windows=2,
        window_pairs=4,
        global_pairs=8,
    ),
}


def mappings(b: LazzariBudget) -> dict[str, str]:
    """Name -> encoder part of the model spec (``""``: raw [0, 1))."""
    names = {"raw01": "", "raw11": "none:scale=2,offset=-1"}
    for level in sorted(set(b.count_levels) | set(b.pair_levels)):
        names[f"pe{level}"] = f"pe:L={level},factor={math.pi!r}"
    return names


def training_grid(mapping: str, size: int) -> Tensor:
    """The ``(size², 2)`` float32 inputs of ``mapping`` in row-major pixel order: the authors'
    ``linspace(0, 1, size)`` for positional encodings, ``i / size`` for raw coordinates."""
    if mapping.startswith("pe"):
        axis = torch.linspace(0.0, 1.0, size, dtype=torch.float64)
    else:
        axis = torch.arange(size, dtype=torch.float64) / size
    rows, cols = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([rows, cols], -1).reshape(-1, 2).float()


def pair_level(mapping: str, b: LazzariBudget) -> bool:
    """Whether ``mapping`` is a PE level whose pairs are measured."""
    return mapping.startswith("pe") and int(mapping[2:]) in b.pair_levels


def image_sources(
    b: LazzariBudget, data: Optional[Path], image: Optional[str], budget_name: str
) -> list[str]:
    """The first ``b.images`` image files of ``data`` in file-name order, or ``image``, or
    the first ``b.images`` of :data:`BUNDLED`."""
    if data is not None:
        folder = data / "div2k" / "test" if (data / "div2k" / "test").is_dir() else data
        if not folder.is_dir():
            raise FileNotFoundError(f"data folder {data} does not exist")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if len(files) < b.images:
            raise ValueError(f"{folder} holds {len(files)} images, the budget needs {b.images}")
        return [str(p) for p in files[: b.images]]
    if budget_name == "paper":
        raise ValueError(
            "the paper budget needs --data (the DIV2K test images of Tancik et al.'s data)"
        )
    if image is not None:
        return [image]
    if b.images > len(BUNDLED):
        raise ValueError(
            f"without --data at most {len(BUNDLED)} bundled images, the budget asks for {b.images}"
        )
    return list(BUNDLED[: b.images])


def load_image(source: str, size: int) -> Signal:
    """A bundled scikit-image photograph (centre-cropped square) or an image file, ``size²``."""
    if source not in BUNDLED:
        return load_signal(source, size=(size, size))  # size², whatever the aspect ratio
    import skimage.data

    array = getattr(skimage.data, source)()
    side = min(array.shape[:2])
    top, left = (array.shape[0] - side) // 2, (array.shape[1] - side) // 2
    square = np.ascontiguousarray(array[top : top + side, left : left + side])
    return image_signal(square, name=source, size=size, source=f"scikit-image {source!r}")


def fixed_batches(count: int, batch_size: int, seed: int) -> list[Tensor]:
    """Pixel indices shuffled once, cut into batches of ``batch_size`` (the last may be short)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return list(order.split(batch_size))


def pair_measures(model, x: Tensor, y: Tensor, pairs: PixelPairs, size: int, confusion: bool):
    """Mean Hamming distance (and gradient confusion) of the local and global pairs.

    ``x (S², 2)`` inputs and ``y (S², C)`` targets in pixel order. The fixed encoding is applied
    once and the gradients are taken through the MLP (the encoding has no parameters)."""
    if model.encoder is not None:
        with torch.no_grad():
            x = model.encoder(model.map_coordinates(x))
        model = model.net
    found: dict[str, float] = {}
    for kind, (a, b) in (
        ("local", (pairs.local_a, pairs.local_b)),
        ("global", (pairs.global_a, pairs.global_b)),
    ):
        ia, ib = a[:, 0] * size + a[:, 1], b[:, 0] * size + b[:, 1]
        found[f"hamming_{kind}"] = float(hamming_distance(model, x[ia], x[ib]).double().mean())
        if confusion:
            cosines = gradient_confusion(model, x[ia], x[ib], y[ia], y[ib])
            found[f"confusion_{kind}"] = float(cosines.mean())
    return found


def make_model(encoder: str, channels: int, b: LazzariBudget) -> torch.nn.Module:
    """The authors' net: ``encoder`` (``""``: none), ``depth`` ReLU layers of ``width``, linear
    output of ``channels``; PyTorch's default initialisation from the global seed."""
    net = f"relu:width={b.width},depth={b.depth}"
    return build_model(
        f"{encoder}+{net}" if encoder else net, 2, channels, output_activation="none"
    )


def train_and_measure(source: str, mapping: str, encoder: str, b: LazzariBudget) -> dict:
    """Fit one mapping to one image; region counts and (for ``pair_levels``) pair measures."""
    signal = load_image(source, b.size)
    values = signal.values.reshape(-1, signal.channels)
    x = training_grid(mapping, b.size)
    torch.manual_seed(b.seed)
    model = make_model(encoder, signal.channels, b)
    optimizer = torch.optim.Adam(model.parameters(), lr=b.lr)
    pairs = lazzari_pairs(b.size, b.windows, b.window_pairs, b.global_pairs, seed=b.seed)
    measured = pair_level(mapping, b)
    record: dict[str, Any] = {"count_epochs": [], "counts": [], "hamming_epochs": [], "hamming": []}
    batches = fixed_batches(x.shape[0], b.batch_size, b.seed)
    for epoch in range(b.epochs):
        for index in batches:
            loss = torch.mean((model(x[index]) - values[index]) ** 2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if epoch % b.count_every == 0:
            record["count_epochs"].append(epoch + 1)
            record["counts"].append(count_regions(model, x))
        if measured and epoch % b.hamming_every == 0:
            record["hamming_epochs"].append(epoch + 1)
            record["hamming"].append(pair_measures(model, x, values, pairs, b.size, False))
    record["pixels"] = int(x.shape[0])
    record["psnr"] = psnr(predict(model, x), values)
    if measured:
        record["pairs"] = {
            **pair_measures(model, x, values, pairs, b.size, True),
            **record["hamming"][-1],  # the last Hamming record of the curve (the authors')
        }
    return record


Value = Callable[[dict], float]


def _pair_value(key: str) -> Value:
    """The pair measure ``key`` of a run record."""
    return lambda record: record["pairs"][key]


def _checks(b: LazzariBudget) -> list[tuple[str, str, str, str, str, Value, int, str]]:
    """(name, source, statement, first, second, value, expected sign, unit) of every claim."""
    final: Value = lambda r: math.log(r["counts"][-1])  # noqa: E731 - log ratio of final counts
    low, high = min(b.count_levels), max(b.count_levels)
    regions = "log ratio of final region counts"
    checks = [
        (
            "pe_more_regions",
            SOURCE_REGIONS,
            f"PE L={high} ends with more regions than raw [−1, 1)",
            f"pe{high}",
            "raw11",
            final,
            +1,
            regions,
        ),
        (
            "regions_grow_with_L",
            SOURCE_REGIONS,
            f"more regions with more frequencies (L={high} vs L={low})",
            f"pe{high}",
            f"pe{low}",
            final,
            +1,
            regions,
        ),
        (
            "centring_more_regions",
            SOURCE_REGIONS,
            "raw [−1, 1) ends with more regions than raw [0, 1)",
            "raw11",
            "raw01",
            final,
            +1,
            regions,
        ),
        (
            "pe_fits_better",
            SOURCE_REGIONS,
            f"PE L={high} fits better than raw [−1, 1)",
            f"pe{high}",
            "raw11",
            lambda r: r["psnr"],
            +1,
            "PSNR difference, dB",
        ),
    ]
    top, bottom = f"pe{max(b.pair_levels)}", f"pe{min(b.pair_levels)}"
    for kind in ("local", "global"):
        checks.append(
            (
                f"hamming_grows_with_L_{kind}",
                SOURCE_PAIRS,
                f"{kind} pairs: larger L, more units differ",
                top,
                bottom,
                _pair_value(f"hamming_{kind}"),
                +1,
                "Hamming difference, units",
            )
        )
        checks.append(
            (
                f"gradients_less_alike_with_L_{kind}",
                SOURCE_PAIRS,
                f"{kind} pairs: larger L, less aligned gradients (lower cosine)",
                top,
                bottom,
                _pair_value(f"confusion_{kind}"),
                -1,
                "gradient-cosine difference",
            )
        )
    return checks


def differences(runs: dict[str, dict[str, dict]], b: LazzariBudget) -> dict[str, list[float]]:
    """Claim name -> per image ``value(first) − value(second)`` (the paired differences)."""
    return {
        name: [value(per[first]) - value(per[second]) for per in runs.values()]
        for name, _, _, first, second, value, _, _ in _checks(b)
    }


def claims(runs: dict[str, dict[str, dict]], b: LazzariBudget) -> list[Claim]:
    """One direction claim per check, tested on the per-image differences (paired t interval
    and p-value over the images; the Holm correction over the family is applied on writing)."""
    paired = differences(runs, b)
    return [
        direction_claim(
            name,
            source,
            paper,
            paired[name],
            sign,
            differs=b.differences(PAPER_BUDGET),
            note=f"{first} − {second}, {unit}; paired over {len(paired[name])} images",
        )
        for name, source, paper, first, second, _, sign, unit in _checks(b)
    ]


def _tables(runs: dict[str, dict[str, dict]]) -> dict[str, Any]:
    return {
        "final_regions": {
            s: {m: r["counts"][-1] for m, r in per.items()} for s, per in runs.items()
        },
        "first_count_regions": {
            s: {m: r["counts"][0] for m, r in per.items()} for s, per in runs.items()
        },
        "psnr": {s: {m: r["psnr"] for m, r in per.items()} for s, per in runs.items()},
        "pairs": {
            s: {m: r["pairs"] for m, r in per.items() if "pairs" in r} for s, per in runs.items()
        },
    }


def _extra(b: LazzariBudget, sources: list[str], bundled: bool) -> dict[str, Any]:
    layout = lazzari_pairs(b.size, 1, 1, 1).layout
    return {
        "images": sources,
        "bundled_images": bundled,
        "encoding": "sin/cos(2^l·π·x), l < L, x on linspace(0, 1, W)",
        "raw_grid": "i / W ([0, 1)) and 2 i / W − 1 ([−1, 1)), as the authors' raw_xy",
        "output": "linear",
        "batches": "pixels shuffled once; the same batches in the same order every epoch",
        "count_epochs": "after the pass of epoch index e, e % count_every == 0 (authors: 0, 50, …, 950)",
        "pair_layout": dataclasses.asdict(layout) | {"window": layout.window, "gap": layout.gap},
        "scaled_by_size": f"window, centres and corner ranges × {b.size}/512",
    }


def run(name: str, b: LazzariBudget, options: RunOptions) -> int:
    """Run budget ``name``; reads ``options.out``, ``data``, ``image`` and ``figures``."""
    out = Path(options.out)
    cache = RunCache(out)
    sources = image_sources(b, options.data, options.image, name)
    print(f"{TITLE}\nbudget {name}: {b}\nimages: {', '.join(sources)}", flush=True)
    settings = {
        k: v for k, v in b.as_dict().items() if k not in ("images", "count_levels", "pair_levels")
    }
    runs: dict[str, dict[str, dict]] = {}
    for source in sources:
        stem = Path(source).stem
        runs[stem] = {}
        for mapping, encoder in mappings(b).items():
            key = f"{stem}__{mapping}"
            spec = {
                **settings,
                "source": source,
                "encoder": encoder,
                "pairs": pair_level(mapping, b),
            }
            result = cache.load_or_run(
                key, spec, functools.partial(train_and_measure, source, mapping, encoder, b)
            )
            runs[stem][mapping] = result
            print(
                f"  {key}: regions {result['counts'][0]} -> {result['counts'][-1]}, "
                f"PSNR {result['psnr']:.2f} dB",
                flush=True,
            )
    found = claims(runs, b)
    tables = {**_tables(runs), "paired_differences": differences(runs, b)}
    bundled = options.data is None and options.image is None
    path = write_results(
        out,
        experiment="lazzari2023",
        budget_name=name,
        budget=b,
        paper_budget=PAPER_BUDGET,
        claims=found,
        tables=tables,
        extra=_extra(b, sources, bundled),
    )
    if options.figures:
        _figure(out, runs, b)
    for claim in found:
        print(f"{claim.name}: {claim.paper}; ours {claim.ours} ({claim.note}) -> {claim.verdict}")
    print(f"wrote {path}")
    return 0


def _figure(out: Path, runs: dict[str, dict[str, dict]], b: LazzariBudget) -> None:
    from coordnet.plots.regions import save_count_curves

    first = next(iter(runs))
    save_count_curves(
        str(out / "counts.png"),
        {m: (r["count_epochs"], r["counts"]) for m, r in runs[first].items()},
        title=f"activation regions over the {b.size}² pixel grid, {first}",
        limit=b.size * b.size,
        xlabel="epoch",
    )
