#!/usr/bin/env python
"""Figure of the GPU benchmarks' ratios against their targets (one PNG for make gpu-check).

Reads the JSON rows of ``bench_encoders.py --device cuda`` and ``bench_regions.py --device cuda``
(either may be missing or partial: a part interrupted at its time budget keeps the rows it
finished) and draws one bar per measured ratio with its target as a marker; bars are green where
the target is met and red where it is not.

Usage: python scripts/plot_gpu_bench.py --encoders bench_encoders.json --regions bench_regions.json --out ratios.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional, Tuple

# (label, value, target, higher_is_better)
Bar = Tuple[str, float, float, bool]


def _rows(path: Optional[str]) -> List[dict]:
    if not path or not os.path.exists(path):
        return []
    with open(path) as handle:
        rows = json.load(handle)
    return rows if isinstance(rows, list) else []


def bars(encoder_rows: List[dict], region_rows: List[dict]) -> List[Bar]:
    """The measured ratios of both benchmarks, each with its target."""
    out: List[Bar] = []
    for r in encoder_rows:
        if "coordnet_fwdbwd" not in r:
            continue
        if r.get("section") == "hashgrid":
            name = f"hash {r.get('param_dtype', 'float32')} N={r['n']}"
            targets = (("reference", 10.0), ("compiled", 3.0))
        else:
            name = f"fourier N={r['n']}"
            targets = (("reference", 5.0), ("compiled", 1.5))
        for other, target in targets:
            if f"{other}_fwdbwd" in r:
                out.append(
                    (
                        f"{name} {other}/coordnet",
                        r[f"{other}_fwdbwd"] / r["coordnet_fwdbwd"],
                        target,
                        True,
                    )
                )
        if "floor_mem_fwdbwd" in r and r.get("section") != "hashgrid":
            out.append(
                (f"{name} coordnet/floor", r["coordnet_fwdbwd"] / r["floor_mem_fwdbwd"], 2.0, False)
            )
    for r in region_rows:
        if "coordnet_over_floor" in r:
            out.append(
                (f"regions w={r['width']} coordnet/forward", r["coordnet_over_floor"], 1.3, False)
            )
    return out


def draw(items: List[Bar], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coordnet.atomic import write_atomically

    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(items), 2) + 1.2))
    for i, (_label, value, target, higher) in enumerate(items):
        met = value >= target if higher else value <= target
        ax.barh(i, value, color="tab:green" if met else "tab:red")
        ax.plot([target, target], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(
            value, i, f" {value:.2f} ({'≥' if higher else '≤'} {target:g})", va="center", fontsize=8
        )
    ax.set_yticks(range(len(items)), [label for label, *_ in items], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("ratio (black tick: target)")
    ax.set_title(title, fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=120, format="png"))
    plt.close(fig)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoders", help="bench_encoders.py --json output")
    parser.add_argument("--regions", help="bench_regions.py --json output")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument(
        "--title", default="coordnet GPU benchmarks: measured ratios against targets"
    )
    args = parser.parse_args(argv)
    items = bars(_rows(args.encoders), _rows(args.regions))
    if not items:
        print("plot_gpu_bench.py: error: no benchmark rows with ratios to plot", file=sys.stderr)
        return 1
    draw(items, args.out, args.title)
    print(f"wrote {args.out} ({len(items)} ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
