#!/usr/bin/env python
"""Benchmark of the fused Fourier-feature encoder against its pure-PyTorch reference.

For N points in d dimensions and M frequencies, in one run:
  (a) eager reference:   z = 2π x Bᵀ; cat(sin z, cos z); autograd for the backward
  (b) (a) under torch.compile (inductor)
  (c) coordnet:          coordnet.ops.fourier_features (what GaussianFourierFeatures calls)
  (d) compute floor:     torch.sin(z) + torch.cos(z) on precomputed phases z (forward only)
"forward+backward" asks for the gradient with respect to x (the encoder has no trainable
parameters, so that is the only backward an encoder does). Ratios > 1 mean coordnet is faster.

Hash grid section (instant-NGP's encoding, tiny-cuda-nn's defaults: 16 levels x 2 features,
2^19-entry tables, base resolution 16, per-level scale 2, d = 3), on the same three paths:
  (a) eager reference:   coordnet.ops.hashgrid_reference (pure PyTorch)
  (b) (a) under torch.compile (inductor)
  (c) coordnet:          coordnet.ops.hashgrid_encode (what HashGrid calls)
"forward+backward" there asks for the gradient with respect to the table (the trained parameters).

Usage: python scripts/bench_encoders.py [--sizes 1,256,4096,65536,262144] [--no-compile] [--json out.json]
       python scripts/bench_encoders.py --section hashgrid [--hash-sizes 262144]
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Callable, Dict, List

import torch
import torch.utils.benchmark as benchmark

from coordnet import ops
from coordnet.atomic import write_json
from coordnet.ops import fourier_features, hashgrid_encode, hashgrid_reference
from coordnet.encoders import GaussianFourierFeatures, HashGrid


def reference_encoding(x: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    z = (2 * math.pi) * (x @ B.T)
    return torch.cat((torch.sin(z), torch.cos(z)), dim=-1)


def seconds(fn: Callable[[], object], min_run_time: float) -> float:
    fn()  # warm-up (allocations, compilation)
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def forward_backward(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, grad: torch.Tensor):
    def run():
        x.grad = None
        encode(x).backward(grad)

    return run


def forward(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor):
    def run():
        with torch.no_grad():
            encode(x)

    return run


def bench_case(n: int, d: int, m: int, use_compile: bool, min_run_time: float) -> Dict[str, float]:
    B = GaussianFourierFeatures(d, m, scale=10.0).B
    x = torch.rand(n, d, requires_grad=True)
    grad = torch.randn(n, 2 * m)
    z = (2 * math.pi) * (x.detach() @ B.T)
    candidates = {"reference": lambda x: reference_encoding(x, B), "coordnet": lambda x: fourier_features(x, B)}
    row: Dict[str, float] = {"n": n, "d": d, "m": m}
    for name, encode in candidates.items():
        row[f"{name}_fwd"] = seconds(forward(encode, x), min_run_time)
        row[f"{name}_fwdbwd"] = seconds(forward_backward(encode, x, grad), min_run_time)
    if use_compile:
        # One compiled function per mode, so that neither recompiles for the other's grad mode.
        torch._dynamo.reset()
        compiled_forward = torch.compile(lambda x: reference_encoding(x, B), dynamic=False)
        compiled_training = torch.compile(lambda x: reference_encoding(x, B), dynamic=False)
        row["compiled_fwd"] = seconds(forward(compiled_forward, x), min_run_time)
        row["compiled_fwdbwd"] = seconds(forward_backward(compiled_training, x, grad), min_run_time)
    row["floor_fwd"] = seconds(lambda: (torch.sin(z), torch.cos(z)), min_run_time)
    return row


def bench_hashgrid_case(n: int, use_compile: bool, min_run_time: float) -> Dict[str, float]:
    grid = HashGrid(3, n_levels=16, n_features_per_level=2, log2_hashmap_size=19, base_resolution=16,
                    per_level_scale=2.0)
    levels = grid.levels
    table = grid.table.detach().clone().requires_grad_()
    x = torch.rand(n, 3)
    grad = torch.randn(n, grid.out_dim)
    row: Dict[str, float] = {"section": "hashgrid", "n": n, "d": 3, "levels": levels.n_levels,
                             "features": levels.n_features_per_level, "params": levels.n_params}
    candidates = {
        "reference": lambda t: hashgrid_reference(x, t, levels, "linear"),
        "coordnet": lambda t: hashgrid_encode(x, t, levels, "linear"),
    }
    if use_compile:
        torch._dynamo.reset()
        candidates["compiled"] = torch.compile(lambda t: hashgrid_reference(x, t, levels, "linear"), dynamic=False)
        training = torch.compile(lambda t: hashgrid_reference(x, t, levels, "linear"), dynamic=False)
    for name, encode in candidates.items():
        row[f"{name}_fwd"] = seconds(forward(encode, table), min_run_time)
        train = training if name == "compiled" else encode
        row[f"{name}_fwdbwd"] = seconds(forward_backward(train, table, grad), min_run_time)
    return row


def print_hashgrid_row(row: Dict[str, float], use_compile: bool) -> None:
    for phase in ("fwd", "fwdbwd"):
        ours = row[f"coordnet_{phase}"]
        text = (
            f"hashgrid N={row['n']:>7} d=3 L={row['levels']} F={row['features']} {phase:>6}: "
            f"ref {row['reference_' + phase] * 1e3:9.1f} ms  coordnet {ours * 1e3:8.1f} ms  "
            f"ref/coordnet {row[f'reference_{phase}'] / ours:6.2f}x"
        )
        if use_compile:
            text += (f"  compiled {row['compiled_' + phase] * 1e3:9.1f} ms  "
                     f"compiled/coordnet {row[f'compiled_{phase}'] / ours:6.2f}x")
        print(text, flush=True)


def print_row(row: Dict[str, float], use_compile: bool) -> None:
    def ms(key: str) -> str:
        return f"{row[key] * 1e3:9.3f}"

    for phase in ("fwd", "fwdbwd"):
        ours = row[f"coordnet_{phase}"]
        text = (
            f"N={row['n']:>7} d={row['d']} M={row['m']} {phase:>6}: "
            f"ref {ms('reference_' + phase)} ms  coordnet {ms('coordnet_' + phase)} ms  "
            f"ref/coordnet {row[f'reference_{phase}'] / ours:6.2f}x"
        )
        if use_compile:
            text += f"  compiled {ms('compiled_' + phase)} ms  compiled/coordnet {row[f'compiled_{phase}'] / ours:6.2f}x"
        if phase == "fwd":
            text += f"  floor {ms('floor_fwd')} ms  coordnet/floor {ours / row['floor_fwd']:5.2f}"
        print(text, flush=True)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,64,1024,16384,262144", help="comma-separated N values")
    parser.add_argument("--dims", default="2,3", help="comma-separated d values")
    parser.add_argument("--frequencies", type=int, default=256, help="M")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile reference (b)")
    parser.add_argument("--min-run-time", type=float, default=1.0, help="seconds of timing per measurement")
    parser.add_argument("--section", choices=("all", "fourier", "hashgrid"), default="all",
                        help="which encoders to time")
    parser.add_argument("--hash-sizes", default="262144", help="comma-separated N of the hash grid section")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, backend {ops.backend('cpu')}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}", flush=True)
    rows = []
    if args.section in ("all", "fourier"):
        for d in (int(v) for v in args.dims.split(",")):
            for n in (int(v) for v in args.sizes.split(",")):
                row = bench_case(n, d, args.frequencies, not args.no_compile, args.min_run_time)
                print_row(row, not args.no_compile)
                rows.append(row)
    if args.section in ("all", "hashgrid"):
        for n in (int(v) for v in args.hash_sizes.split(",")):
            row = bench_hashgrid_case(n, not args.no_compile, args.min_run_time)
            print_hashgrid_row(row, not args.no_compile)
            rows.append(row)
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
