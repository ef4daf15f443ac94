"""scikit-learn's handwritten digits for classifier experiments: data, small MLPs, shifts, training.

The digits (1797 grey images of 8×8 pixels, 10 classes) ship inside scikit-learn's wheel, so
nothing downloads at run time. Images are standardised with the training set's mean and standard
deviation over all pixels (one channel: what a per-channel normalisation reduces to), so a unit
of input distance means one standard deviation of pixel value.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.extras import missing_extra_message
from coordnet.validation import check_count

TRAIN_SIZE = 1200  # of 1797 images; the other 597 are the test set


def digits_arrays() -> Tuple[np.ndarray, np.ndarray]:
    """Images ``(1797, 8, 8)`` with values 0..16 and labels ``(1797,)``.

    Reads the CSV shipped inside scikit-learn (what ``load_digits`` reads) without importing
    scikit-learn, whose import takes seconds; falls back to ``sklearn.datasets.load_digits``.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise RuntimeError(missing_extra_message("digits", "the digits data"))
    for root in spec.submodule_search_locations or []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as handle:
                data = np.loadtxt(handle, delimiter=",")
            return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target


@dataclass
class Digits:
    """One seeded split. ``x_*``: ``(N, 1, 8, 8)`` float32 standardised; ``y_*``: ``(N,)`` int64.

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


def load_digits(seed: int = 0, examples: Optional[int] = None) -> Digits:
    """The digits shuffled by ``seed``: 1200 training and 597 test images, or with ``examples``
    only the first ``examples`` shuffled images, 70% of them for training."""
    images, target = digits_arrays()
    x = torch.tensor(images, dtype=torch.float32)[:, None] / 16.0
    y = torch.tensor(target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    if examples is not None:
        check_count("examples", examples, minimum=20)
        order = order[:examples]
    train = TRAIN_SIZE if examples is None else int(0.7 * len(order))
    mean, std = float(x[order[:train]].mean()), float(x[order[:train]].std())
    x = (x - mean) / std
    return Digits(x[order[:train]], y[order[:train]], x[order[train:]], y[order[train:]], mean, std)


def mlp(width: int, seed: int, classes: int = 10, hidden_layers: int = 2) -> nn.Module:
    """ReLU MLP ``64 -> width (× hidden_layers) -> classes`` initialised from ``seed``: ``(B, 1, 8, 8)`` -> logits."""
    check_count("width", width)
    torch.manual_seed(seed)
    layers, size = [nn.Flatten()], 64
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
