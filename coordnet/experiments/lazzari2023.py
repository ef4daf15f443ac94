"""Lazzari & Liu 2023, "Understanding the Spectral Bias of Coordinate Based MLPs Via Training
Dynamics" (arXiv 2301.05816): activation regions of a ReLU MLP fitting an image.

Definitions (taken from the authors' code, kept by every budget):

* inputs: raw coordinates in ``[0, 1]`` and ``[−1, 1]``, and positional encodings
  ``sin/cos(2^l · π · x)``, ``l < L`` (factor π, not coordnet's default 2π, so ``L`` means what it
  means in their code: ``L = 8`` tops at 64 cycles per unit);
* a ReLU MLP of ``depth`` hidden layers of ``width`` fitted to every pixel with Adam on shuffled
  mini-batches (one epoch = one pass over all pixels in random order);
* regions = distinct activation patterns of all hidden units over the pixel grid, counted at
  epoch 0 and every ``count_every`` epochs, for raw [0, 1], raw [−1, 1] and PE ``L`` in
  ``count_levels``;
* after training, for PE ``L`` in ``pair_levels``: Hamming distance (number of hidden units that
  differ) and gradient confusion (cosine of the two pixels' squared-error parameter gradients) on
  pairs inside random ``patch x patch``-pixel windows (local) and across opposite quadrants (global)
  (:func:`coordnet.regions.pixel_pairs.patch_and_quadrant_pairs`).

Ours, not the authors': a sigmoid output (coordnet's image convention), the number of pairs and
the seeds. ``paper`` needs the data folder (``--data``: the first ``images`` files, sorted, of the
DIV2K test folder of Tancik et al.'s data, 512² RGB); ``cpu`` shrinks only sizes and steps and,
without ``--data``, uses scikit-image's bundled ``camera`` and ``astronaut`` images (said in results).
Verdicts: a claim holds when its difference has the expected sign for every image (the interval
is the range over images), reverses when the opposite sign holds for every image.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import Optional, Sequence

import torch

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import Claim, verdict_from_interval
from coordnet.experiments.cli import experiment_main, flags_to_overrides
from coordnet.experiments.results import write_results
from coordnet.nets import build_model
from coordnet.plots.regions import save_count_curves
from coordnet.regions import compare_pairs, count_regions
from coordnet.regions.pixel_pairs import patch_and_quadrant_pairs
from coordnet.signals import load_signal
from coordnet.training.metrics import psnr
from coordnet.training.trainer import predict

TITLE = "Lazzari & Liu 2023, Understanding the Spectral Bias of Coordinate Based MLPs Via Training Dynamics"
SOURCE_REGIONS = "paper, region counts during training (2D images); authors' code"
SOURCE_PAIRS = (
    "paper, Hamming distance and gradient confusion vs L (directions; no numbers); authors' code"
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
BUNDLED = ("camera", "astronaut")


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
    count_levels: tuple[int, ...] = (1, 2, 8)
    pair_levels: tuple[int, ...] = (4, 8, 16)
    patch: int = 50
    pairs: int = 512


PAPER_BUDGET = LazzariBudget()
BUDGETS = {
    "paper": PAPER_BUDGET,
    "cpu": LazzariBudget(
        images=2, size=64, width=128, batch_size=512, epochs=200, count_every=20, patch=6, pairs=128
    ),
    # seconds-long settings for tests (not a reproduction)
    "smoke": LazzariBudget(
        images=1,
        size=16,
        width=16,
        depth=2,
        batch_size=64,
        epochs=4,
        count_every=2,
        count_levels=(1, 2),
        pair_levels=(1, 2),
        patch=4,
        pairs=8,
    ),
}


def mappings(b: LazzariBudget) -> dict[str, str]:
    """Name -> encoder part of the model spec (``""``: raw [0, 1])."""
    names = {"raw01": "", "raw11": "none:scale=2,offset=-1"}
    for level in sorted(set(b.count_levels) | set(b.pair_levels)):
        names[f"pe{level}"] = f"pe:L={level},factor={math.pi!r}"
    return names


def image_sources(
    b: LazzariBudget, data: Optional[Path], image: Optional[str], budget_name: str
) -> list[str]:
    """The first ``b.images`` image files of ``data`` (sorted), or ``image``, or bundled images."""
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


def train_and_measure(source: str, mapping: str, encoder: str, b: LazzariBudget) -> dict:
    """Fit one mapping to one image; region counts over training; pair measures for ``pair_levels``."""
    signal = load_signal(source, size=b.size)
    coords, values = signal.flat()
    torch.manual_seed(b.seed)
    net = f"relu:width={b.width},depth={b.depth}"
    model = build_model(
        f"{encoder}+{net}" if encoder else net, 2, signal.channels, output_activation="sigmoid"
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=b.lr)
    generator = torch.Generator().manual_seed(b.seed)
    epochs, counts = [0], [count_regions(model, coords)]
    for epoch in range(1, b.epochs + 1):
        order = torch.randperm(coords.shape[0], generator=generator)
        for start in range(0, coords.shape[0], b.batch_size):
            index = order[start : start + b.batch_size]
            loss = torch.mean((model(coords[index]) - values[index]) ** 2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if epoch % b.count_every == 0 or epoch == b.epochs:
            epochs.append(epoch)
            counts.append(count_regions(model, coords))
    record = {
        "epochs": epochs,
        "counts": counts,
        "pixels": int(coords.shape[0]),
        "psnr": psnr(predict(model, coords), values),
    }
    if mapping.startswith("pe") and int(mapping[2:]) in b.pair_levels:
        grid = values.reshape(b.size, b.size, -1)

        def target(points: torch.Tensor) -> torch.Tensor:
            index = (points * b.size).round().long()
            return grid[index[:, 0], index[:, 1]].to(torch.float32)

        pairs = patch_and_quadrant_pairs(b.pairs, b.size, b.patch, seed=b.seed)
        pairs = dataclasses.replace(
            pairs, **{k: getattr(pairs, k).float() for k in ("near_a", "near_b", "far_a", "far_b")}
        )
        comparison = compare_pairs(model, pairs, target=target)
        record["pairs"] = {
            kind: {
                "hamming": group.hamming_mean,
                "hamming_std": group.hamming_std,
                "confusion": group.confusion_mean,
                "confusion_std": group.confusion_std,
            }
            for kind, group in (("local", comparison.near), ("global", comparison.far))
        }
    return record


def _difference(runs: dict, first: str, second: str, value) -> list[float]:
    """Per image, ``value(run of first) − value(run of second)``."""
    return [value(per[first]) - value(per[second]) for per in runs.values()]


def claims(runs: dict[str, dict[str, dict]], b: LazzariBudget) -> list[Claim]:
    differs = b.differences(PAPER_BUDGET)
    final = lambda r: math.log(r["counts"][-1])  # noqa: E731 - log ratio of the final region counts
    low, high = min(b.count_levels), max(b.count_levels)
    checks = [
        (
            "pe_more_regions",
            SOURCE_REGIONS,
            f"PE L={high} ends with more regions than raw [−1, 1]",
            f"pe{high}",
            "raw11",
            final,
            +1,
            "log ratio of final region counts",
        ),
        (
            "regions_grow_with_L",
            SOURCE_REGIONS,
            f"more regions with more frequencies (L={high} vs L={low})",
            f"pe{high}",
            f"pe{low}",
            final,
            +1,
            "log ratio of final region counts",
        ),
        (
            "centring_more_regions",
            SOURCE_REGIONS,
            "raw [−1, 1] ends with more regions than raw [0, 1]",
            "raw11",
            "raw01",
            final,
            +1,
            "log ratio of final region counts",
        ),
        (
            "pe_fits_better",
            SOURCE_REGIONS,
            f"PE L={high} fits better than raw [−1, 1]",
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
                lambda r, k=kind: r["pairs"][k]["hamming"],
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
                lambda r, k=kind: r["pairs"][k]["confusion"],
                -1,
                "gradient-cosine difference",
            )
        )
    found = []
    for name, source, paper, first, second, value, sign, unit in checks:
        d = _difference(runs, first, second, value)
        found.append(
            Claim(
                name,
                source,
                paper,
                [round(v, 4) for v in d],
                verdict_from_interval(min(d), max(d), sign),
                differs,
                note=f"{first} − {second}, {unit}, per image",
            )
        )
    return found


def run(name: str, b: LazzariBudget, args: argparse.Namespace) -> int:
    out: Path = args.out
    cache = RunCache(out)
    sources = image_sources(b, args.data, args.image, name)
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
            pair = mapping.startswith("pe") and int(mapping[2:]) in b.pair_levels
            runs[stem][mapping] = cache.load_or_run(
                key,
                {**settings, "source": source, "encoder": encoder, "pairs_measured": pair},
                lambda s=source, m=mapping, e=encoder: train_and_measure(s, m, e, b),
            )
            print(
                f"  {key}: regions {runs[stem][mapping]['counts'][0]} -> {runs[stem][mapping]['counts'][-1]}, "
                f"PSNR {runs[stem][mapping]['psnr']:.2f} dB",
                flush=True,
            )
    found = claims(runs, b)
    tables = {
        "final_regions": {
            stem: {m: r["counts"][-1] for m, r in per.items()} for stem, per in runs.items()
        },
        "initial_regions": {
            stem: {m: r["counts"][0] for m, r in per.items()} for stem, per in runs.items()
        },
        "psnr": {stem: {m: r["psnr"] for m, r in per.items()} for stem, per in runs.items()},
        "pairs": {
            stem: {m: r["pairs"] for m, r in per.items() if "pairs" in r}
            for stem, per in runs.items()
        },
    }
    extra = {
        "images": sources,
        "bundled_images": args.data is None and args.image is None,
        "encoding": "sin/cos(2^l·π·x), l < L",
        "output": "sigmoid (ours)",
    }
    path = write_results(
        out,
        experiment="lazzari2023",
        budget_name=name,
        budget=b,
        paper_budget=PAPER_BUDGET,
        claims=found,
        tables=tables,
        extra=extra,
    )
    if not args.no_figures:
        first = next(iter(runs))
        save_count_curves(
            str(out / "counts.png"),
            {m: (r["epochs"], r["counts"]) for m, r in runs[first].items()},
            title=f"activation regions over the {b.size}² pixel grid, {first}",
            limit=b.size * b.size,
            xlabel="epoch",
        )
    for claim in found:
        print(f"{claim.name}: {claim.paper}; ours {claim.ours} ({claim.note}) -> {claim.verdict}")
    print(f"wrote {path}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of the test images (or Tancik et al.'s data folder with div2k/test)",
    )
    parser.add_argument(
        "--image", default=None, help="one bundled image name or image file instead of --data"
    )
    parser.add_argument("--no-figures", action="store_true", help=argparse.SUPPRESS)


LEGACY_FLAGS = {
    "--size": "size",
    "--width": "width",
    "--depth": "depth",
    "--pairs": "pairs",
    "--steps": "epochs",
    "--every": "count_every",
    "--seed": "seed",
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``--budget cpu|paper --out DIR [--data DIR | --image NAME] [--set KEY=VALUE ...]``."""
    return experiment_main(
        flags_to_overrides(argv, LEGACY_FLAGS),
        prog="reproduce_lazzari2023",
        description=TITLE,
        budgets=BUDGETS,
        run=run,
        add_arguments=add_arguments,
    )
