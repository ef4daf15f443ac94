"""``coordnet classifier-spectrum MODEL DATA_DIR``: function frequency of a saved image classifier.

``MODEL`` is a TorchScript file (``torch.jit.save``); a full pickled ``nn.Module``
(``torch.save(model, path)``) is loaded only with ``--trust-pickle`` (unpickling runs code
from the file); ``DATA_DIR`` has one subfolder per class holding that class's
images, all of one size and channel count. Writes ``OUT/classifier_spectrum.json``
(:meth:`ClassifierSpectrum.to_dict` plus the class names) and ``OUT/classifier_spectrum.png``
(mean spectra) and prints the between- and within-class centroids.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import click

from coordnet.cli.errors import friendly_errors

if TYPE_CHECKING:
    import torch

RESULTS = "classifier_spectrum.json"
FIGURE = "classifier_spectrum.png"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
LAYOUTS = ("chw", "hwc", "flat")


TRUST_HINT = (
    "pass --trust-pickle to unpickle it (this runs code from the file: only for models you trust), "
    "or save it with torch.jit.save(torch.jit.script(model), path)"
)


def load_classifier(path: str, trust_pickle: bool = False):
    """A TorchScript module on the CPU; a full pickled ``nn.Module`` only with ``trust_pickle``.

    Without ``trust_pickle`` a file that is not TorchScript is opened with
    ``torch.load(weights_only=True)``, which unpickles tensors and plain containers only (no
    code runs); a module inside is refused with a hint. With ``trust_pickle``
    ``torch.load(weights_only=False)`` unpickles arbitrary objects, which runs code from the file.
    """
    import torch
    from torch import nn

    if not os.path.isfile(path):
        raise ValueError(f"MODEL {path!r} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit is deprecated, still the saved-model format
            return torch.jit.load(path, map_location="cpu")
    except Exception:  # not a TorchScript archive: try a torch.save'd file
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as error:
        lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
        marks = [i for i, line in enumerate(lines) if "Unpickler error" in line]
        # torch's reason follows its "WeightsUnpickler error:" line (the lines before advise
        # weights_only=False, which is what --trust-pickle decides)
        reason = (
            lines[marks[0] + 1]
            if marks and marks[0] + 1 < len(lines)
            else (lines or [type(error).__name__])[0]
        )
        if not trust_pickle and "Unsupported global" in str(
            error
        ):  # a pickled object, not a bad file
            raise ValueError(
                f"MODEL {path!r} is not TorchScript and holds pickled objects beyond tensors; {TRUST_HINT}"
            ) from None
        raise ValueError(
            f"MODEL {path!r} is neither a TorchScript file nor a torch.save'd module: {reason}"
        ) from None
    if isinstance(model, dict):
        raise ValueError(
            f"MODEL {path!r} holds a dict (a state_dict?), not a module: save the full module with "
            "torch.jit.save(torch.jit.script(model), path) (or torch.save(model, path) and --trust-pickle)"
        )
    if not isinstance(model, nn.Module):
        raise ValueError(f"MODEL {path!r} holds a {type(model).__name__}, not an nn.Module")
    return model


def check_finite_outputs(model, inputs: "torch.Tensor", path: str) -> None:
    """Refuse (one line naming ``path``) a classifier whose logits on the first images are not finite."""
    import torch

    with torch.no_grad():
        try:
            logits = model(inputs[:2])
        except Exception as error:
            reason = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            raise ValueError(
                f"MODEL {path!r} fails on a batch of shape {tuple(inputs[:2].shape)} (see --layout): {reason}"
            ) from None
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(
            f"MODEL {path!r} must return logits of shape (B, C), got {getattr(logits, 'shape', type(logits).__name__)}"
        )
    if not torch.isfinite(logits).all():
        raise ValueError(
            f"MODEL {path!r} outputs NaN or infinite logits on the images of DATA_DIR; its spectrum is undefined"
        )


def load_image_folder(
    data_dir: str, layout: str = "chw"
) -> Tuple["torch.Tensor", "torch.Tensor", List[str]]:
    """Images of ``DATA_DIR/<class>/*`` as ``(N, C, H, W)`` (``chw``), ``(N, H, W, C)`` (``hwc``) or
    ``(N, H·W·C)`` (``flat``) float32 in [0, 1], labels ``(N,)`` (index of the sorted class names), names."""
    import torch

    from coordnet.signals import load_image

    root = Path(data_dir)
    if not root.is_dir():
        raise ValueError(f"DATA_DIR {data_dir!r} does not exist or is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ValueError(
            f"DATA_DIR {data_dir!r} has no class subfolders (expected DATA_DIR/<class>/<image>)"
        )
    images, labels, first = [], [], None
    for index, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(
                f"class folder {str(root / name)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})"
            )
        for file in files:
            values = load_image(file).values
            if first is None:
                first = (file, tuple(values.shape))
            elif tuple(values.shape) != first[1]:
                raise ValueError(
                    f"image {str(file)!r} has shape {tuple(values.shape)} (H, W, C) but "
                    f"{str(first[0])!r} has {first[1]}: all images must have one size and channel count"
                )
            images.append(values)
            labels.append(index)
    if len(classes) < 2:
        raise ValueError(
            f"DATA_DIR {data_dir!r} has a single class ({classes[0]!r}): between-class paths need two or more"
        )
    x = torch.stack(images).float()
    if layout == "chw":
        x = x.permute(0, 3, 1, 2).contiguous()
    elif layout == "flat":
        x = x.reshape(len(x), -1)
    return x, torch.tensor(labels, dtype=torch.long), classes


def spectrum_bytes(
    input_shape: Tuple[int, ...],
    classes: int,
    pairs: int,
    samples: Optional[int],
    chunk: int,
    max_samples: int = 4096,
) -> Dict[str, float]:
    """Bytes a measurement holds at its peak, by part: ``probabilities`` (float64 softmax outputs of
    every path point, both kinds of path), ``spectra`` (each path's signal and power spectrum,
    float64), ``batch`` (one ``chunk`` of interpolated inputs and the model's logits, float32).
    ``samples=None`` (a fixed ``--step``): paths hold at most ``max_samples`` points."""
    points = (
        2.0 * pairs * float(samples if samples is not None else max_samples)
    )  # both kinds of path
    input_size = float(math.prod(input_shape)) if input_shape else 1.0
    return {
        "probabilities": points * max(classes, 2) * 8,
        "spectra": points * 3 * 8,
        "batch": float(chunk) * (input_size * 3 + max(classes, 2)) * 4,
    }


def check_spectrum_memory(
    input_shape: Tuple[int, ...], classes: int, pairs: int, samples: Optional[int], chunk: int
) -> None:
    """``MemoryLimitError`` (one line, naming the options and the estimate) when
    :func:`spectrum_bytes` exceeds the memory limit (:func:`coordnet.memory_limit.memory_limit`)."""
    from coordnet.memory_limit import check_memory, format_bytes

    parts = spectrum_bytes(input_shape, classes, pairs, samples, chunk)
    sampling = (
        f"--samples {samples}" if samples is not None else "--step (up to 4096 samples per path)"
    )
    check_memory(
        f"classifier-spectrum with --pairs {pairs}, {sampling}, --chunk {chunk}",
        sum(parts.values()),
        ", ".join(f"{name} {format_bytes(value)}" for name, value in parts.items()),
    )


@click.command("classifier-spectrum")
@click.argument("model_path", metavar="MODEL")
@click.argument("data_dir")
@click.option(
    "--pairs",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Paths of each kind.",
)
@click.option(
    "--samples",
    default=64,
    show_default=True,
    type=click.IntRange(min=2),
    help="Samples per path (ignored with --step).",
)
@click.option(
    "--step",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Fixed step in input space instead of a fixed number of samples.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the pair sampling.")
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="chw",
    show_default=True,
    help="Input layout the model expects: (N, C, H, W), (N, H, W, C) or flattened (N, H*W*C).",
)
@click.option(
    "--window",
    type=click.Choice(["hann", "none"]),
    default="hann",
    show_default=True,
    help="Taper of each path signal after mean removal (none: untapered).",
)
@click.option(
    "--chunk",
    default=8192,
    show_default=True,
    type=click.IntRange(min=1),
    help="Path points per forward.",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    help="Output folder [default: out/classifier-spectrum-<model>].",
)
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Also load a full pickled nn.Module (torch.save(model)) with torch.load(weights_only=False): "
    "unpickling runs code from MODEL, so use it only for files you trust. Without it MODEL must be "
    "TorchScript.",
)
@friendly_errors
def classifier_spectrum(
    model_path: str,
    data_dir: str,
    pairs: int,
    samples: int,
    step: Optional[float],
    seed: int,
    layout: str,
    window: str,
    chunk: int,
    out_dir: Optional[str],
    trust_pickle: bool,
) -> None:
    """Function frequency of the classifier MODEL along paths between the images of DATA_DIR.

    MODEL: a TorchScript file (torch.jit.save); a full pickled nn.Module (torch.save(model)) only
    with --trust-pickle, which loads it with torch.load(weights_only=False) and so runs code from
    the file: use it only for models you trust. It must map a batch of images to logits (B, C).
    DATA_DIR: one subfolder per class (e.g. DATA_DIR/cat/*.png), images of one size (no
    resizing), values in [0, 1].

    Pairs of images of different classes (between-class) and of one class (within-class) are
    drawn (--seed); softmax outputs p(t) are evaluated along the straight path between them at
    t = j/n (--samples n, or --step); the power spectrum of ||p(t) - p(0)|| (mean removed, Hann
    window unless --window none) is in cycles per path. Prints the spectral centroid of the mean spectrum of each kind (the
    function-frequency score) and writes classifier_spectrum.json and classifier_spectrum.png.
    """
    from coordnet.atomic import write_json
    from coordnet.outdir_lock import resolve_output_folder
    from coordnet.plots.classifiers import plot_mean_spectra
    from coordnet.spectral.classifiers import classifier_spectrum as measure

    model = load_classifier(model_path, trust_pickle)
    inputs, labels, classes = load_image_folder(data_dir, layout)
    check_finite_outputs(model, inputs, model_path)
    check_spectrum_memory(
        tuple(inputs.shape[1:]), len(classes), pairs, None if step else samples, chunk
    )
    result = measure(
        model,
        inputs,
        labels,
        num_pairs=pairs,
        samples=None if step else samples,
        step=step,
        seed=seed,
        window=window,
        chunk=chunk,
    )
    out_dir = resolve_output_folder(
        out_dir or os.path.join("out", f"classifier-spectrum-{Path(model_path).stem}")
    )
    payload: Dict[str, Any] = {
        **result.to_dict(),
        "model": model_path,
        "data_dir": data_dir,
        "classes": classes,
        "layout": layout,
    }
    try:
        json.dumps(payload, allow_nan=False, default=str)
    except ValueError:
        raise ValueError(
            f"MODEL {model_path!r} outputs NaN or infinite values along the paths between the images "
            "of DATA_DIR; its spectrum is undefined"
        ) from None
    write_json(os.path.join(out_dir, RESULTS), payload)
    plot_mean_spectra(
        os.path.join(out_dir, FIGURE),
        payload["between"],
        payload["within"],
        title=f"{Path(model_path).name} on {Path(data_dir).name} ({len(classes)} classes)",
    )
    click.echo(
        f"between-class centroid {result.between.centroid:.3f} cycles/path "
        f"(high share {result.between.high_share:.3f}), within-class centroid {result.within.centroid:.3f} "
        f"(high share {result.within.high_share:.3f})"
    )
    click.echo(f"wrote {os.path.join(out_dir, RESULTS)}, {FIGURE}")
