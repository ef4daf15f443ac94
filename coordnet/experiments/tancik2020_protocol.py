"""The protocol of Tancik et al. 2020's image regression (``Experiments/2d_image_regression.ipynb``):
the images, the coordinate grid, the four input mappings and the batched fit of one chunk of images.

Each 512² image is split into its even pixels (train, the 256² grid ``linspace(0, 1, 257)[:-1]``)
and its odd pixels (test); mappings ``[sin(2π x Bᵀ), cos(2π x Bᵀ)]``: none (raw x), basic
(B = I), positional (per-axis ``2**linspace(0, s, 128) - 1``), Gaussian (256×2 standard normal ×
σ); a ReLU MLP of 3 hidden layers of 256 with a sigmoid output, full-batch Adam, loss 0.5·MSE.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch

from coordnet.nets.stacked import StackedMLP
from coordnet.signals import load_image
from coordnet.training.stacked import fit_stacked

SETS = ("div2k", "text")
MAPPINGS = ("none", "basic", "positional", "gaussian")
POSENC_SCALE = {"div2k": 6.0, "text": 5.0}
LR = {
    "div2k": {"none": 1e-2, "basic": 1e-2, "positional": 1e-3, "gaussian": 1e-3},
    "text": {"none": 1e-3, "basic": 1e-3, "positional": 1e-3, "gaussian": 1e-3},
}
PAPER_RESOLUTION = 512


class OutOfTime(Exception):
    """The wall-clock guard stopped a chunk."""


def image_paths(data_dir: Path, split: str = "test") -> Dict[str, List[Path]]:
    """The sorted PNGs of ``data_dir/<set>/<split>`` per set; ``FileNotFoundError`` naming a missing one."""
    if not data_dir.is_dir():
        raise FileNotFoundError(f"DATA_DIR {str(data_dir)!r} does not exist or is not a folder")
    found = {}
    for name in SETS:
        folder = data_dir / name / split
        files = (
            sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
            if folder.is_dir()
            else []
        )
        if not files:
            raise FileNotFoundError(
                f"no PNG images in {str(folder)!r} (DATA_DIR must hold div2k/{split} and text/{split})"
            )
        found[name] = files
    return found


def grid(resolution: int) -> torch.Tensor:
    """``(R, R, 2)`` coordinates ``linspace(0, 1, R+1)[:-1]`` stacked as ``meshgrid(x, x)`` (``"xy"``, the notebook's)."""
    x = torch.linspace(0.0, 1.0, resolution + 1, dtype=torch.float64)[:-1]
    xx, yy = torch.meshgrid(x, x, indexing="xy")
    return torch.stack([xx, yy], dim=-1)


def posenc_B(scale: float, per_axis: int = 128) -> torch.Tensor:
    """Positional frequencies ``2**linspace(0, scale, 128) - 1`` on each axis: ``(256, 2)``."""
    f = 2.0 ** torch.linspace(0.0, scale, per_axis, dtype=torch.float64) - 1.0
    zeros = torch.zeros_like(f)
    return torch.cat([torch.stack([f, zeros], 1), torch.stack([zeros, f], 1)])


def frequencies(
    mapping: str, dataset: str, budget: Any, members: int, sigma: float
) -> Optional[torch.Tensor]:
    """B of ``mapping``: ``None`` (raw x), ``(K, 2)`` shared, or ``(M, K, 2)`` per image (Gaussian without shared B)."""
    factor = budget.resolution / PAPER_RESOLUTION
    if mapping == "none":
        return None
    if mapping == "basic":
        return torch.eye(2, dtype=torch.float64)
    if mapping == "positional":
        return posenc_B(POSENC_SCALE[dataset]) * factor
    generator = torch.Generator().manual_seed(budget.seed)
    shape = (256, 2) if budget.shared_b else (members, 256, 2)
    return torch.randn(shape, generator=generator, dtype=torch.float64) * sigma * factor


def features(x: torch.Tensor, B: Optional[torch.Tensor]) -> torch.Tensor:
    """``x (N, 2)`` mapped by ``B``: ``(N, 2)``, ``(N, 2K)`` or ``(M, N, 2K)``, float32."""
    if B is None:
        return x.float()
    phase = 2.0 * math.pi * torch.matmul(x, B.transpose(-1, -2))
    return torch.cat([torch.sin(phase), torch.cos(phase)], dim=-1).float()


def load_rgb(path: Path, resolution: int) -> torch.Tensor:
    """The image at ``resolution²`` as ``(R, R, 3)`` float32 in [0, 1]."""
    signal = load_image(path)
    if signal.grid_shape != (resolution, resolution):
        signal = load_image(path, size=(resolution, resolution))
    values = signal.values
    if values.shape[-1] == 1:
        values = values.expand(*values.shape[:2], 3)
    return values[..., :3].float()


def fit_chunk(
    paths: Sequence[Path],
    dataset: str,
    mapping: str,
    budget: Any,
    sigma: float,
    device: torch.device,
    deadline: Optional[float],
) -> dict:
    """Fit one chunk of images of a (set, mapping) together; the per-image results as a dict."""
    images = torch.stack([load_rgb(p, budget.resolution) for p in paths])  # (M, R, R, 3)
    coords = grid(budget.resolution)
    B = frequencies(mapping, dataset, budget, len(paths), sigma)
    train_x = features(coords[::2, ::2].reshape(-1, 2), B).to(device)
    test_x = features(coords[1::2, 1::2].reshape(-1, 2), B).to(device)
    members = len(paths)
    train_y = images[:, ::2, ::2].reshape(members, -1, 3).to(device)
    test_y = images[:, 1::2, 1::2].reshape(members, -1, 3).to(device)
    generator = torch.Generator().manual_seed(budget.seed)
    model = StackedMLP(
        members,
        train_x.shape[-1],
        3,
        256,
        3,
        "sigmoid",
        init=budget.init,
        same_init=budget.same_init,
        generator=generator,
        tf32=budget.tf32 and device.type != "cuda",
    ).to(device)
    result = fit_stacked(
        model,
        train_x,
        train_y,
        test_x,
        test_y,
        steps=budget.steps,
        lr=LR[dataset][mapping],
        record_every=budget.record_every,
        loss_scale=budget.loss_scale,
        deadline=deadline,
    )
    if not result.completed:
        raise OutOfTime(
            f"{dataset} {mapping}: stopped by the wall-clock guard after {result.steps_done} steps"
        )
    return {
        "images": [p.name for p in paths],
        "test_psnr": result.test_psnr[:, -1].tolist(),
        "train_psnr": result.train_psnr[:, -1].tolist(),
        "final_test_psnr": result.final_test_psnr.tolist(),
        "record_step": result.record_steps[-1],
        "seconds": result.seconds,
    }
