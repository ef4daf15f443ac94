"""The figure of Tancik et al. 2020's Table 1: our means beside the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Sequence, Tuple

import numpy as np

from coordnet.plots.figure import save_figure, subplots


def plot_table(
    path: Path,
    per_image: Mapping[str, Mapping[str, List[float]]],
    paper: Mapping[str, Mapping[str, Tuple[float, float]]],
    labels: Mapping[str, str],
    label: str,
) -> None:
    """One panel per set: bars of our mean test PSNR (``per_image[set][mapping]``, std as error
    bars) beside the paper's ``paper[set][mapping] = (mean, std)``, mappings in ``labels``' order."""
    sets: Sequence[str] = list(paper)
    mappings = list(labels)
    fig, axes = subplots(1, len(sets), figsize=(10, 4), sharey=True, squeeze=False)
    x = np.arange(len(mappings))
    for ax, s in zip(axes[0], sets):
        ours = [per_image.get(s, {}).get(m) or [np.nan] for m in mappings]
        ax.bar(
            x - 0.2,
            [np.mean(v) for v in ours],
            0.4,
            yerr=[np.std(v) for v in ours],
            label=f"ours ({label})",
        )
        ax.bar(
            x + 0.2,
            [paper[s][m][0] for m in mappings],
            0.4,
            yerr=[paper[s][m][1] for m in mappings],
            label="paper",
        )
        ax.set_xticks(x, [labels[m] for m in mappings], rotation=15)
        ax.set_title(s)
        ax.set_ylabel("test PSNR (dB)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, str(path))
