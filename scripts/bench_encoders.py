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

--device cuda (defaults: Fourier features N = 2^20, 2^22, d = 3; hash grid N = 2^22): every time is measured with CUDA events after a
warm-up, and each forward+backward also gets (d) the memory floor = bytes the op must read and
write / the device-to-device copy bandwidth measured in the same run (gathers from the hash
table are not counted, so that floor is a lower bound). The hash grid is also timed with float16
parameters (tiny-cuda-nn's storage; reference paths upcast them). Every ratio is printed against
its target (met or not): Fourier features fwd+bwd >= 5x (a), >= 1.5x (b), within 2x of (d);
hash grid fwd+bwd >= 10x (a), >= 3x (b).

Usage: python scripts/bench_encoders.py [--sizes 1,256,4096,65536,262144] [--no-compile] [--json out.json]
       python scripts/bench_encoders.py --section hashgrid [--hash-sizes 262144]
       python scripts/bench_encoders.py --device cuda --json bench_encoders.json
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
from coordnet.encoders import GaussianFourierFeatures, HashGrid
from coordnet.ops import fourier_features, hashgrid_encode, hashgrid_reference

#: Where the benchmark runs (set by main): "cpu" or "cuda".
DEVICE = "cpu"
#: Targets of the CUDA benchmark: (section, ratio key, comparison, threshold).
CUDA_TARGETS = (
    ("fourier", "reference_fwdbwd/coordnet_fwdbwd", ">=", 5.0),
    ("fourier", "compiled_fwdbwd/coordnet_fwdbwd", ">=", 1.5),
    ("fourier", "coordnet_fwdbwd/floor_mem_fwdbwd", "<=", 2.0),
    ("hashgrid", "reference_fwdbwd/coordnet_fwdbwd", ">=", 10.0),
    ("hashgrid", "compiled_fwdbwd/coordnet_fwdbwd", ">=", 3.0),
)


def reference_encoding(x: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    z = (2 * math.pi) * (x @ B.T)
    return torch.cat((torch.sin(z), torch.cos(z)), dim=-1)


def cuda_seconds(fn: Callable[[], object], min_run_time: float) -> float:
    """Median seconds per call, timed with CUDA events after warm-up, in batches of calls of ~20 ms."""
    for _ in range(3):  # warm-up (allocations, compilation, autotuning)
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    once = max(start.elapsed_time(end) / 1e3, 1e-6)
    inner = max(1, min(200, int(0.02 / once)))
    repeats = max(3, min(25, int(min_run_time / (once * inner))))
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / inner)
    return sorted(times)[len(times) // 2]


def copy_bandwidth(min_run_time: float, nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth in bytes/s (read + write counted) of ``nbytes`` buffers."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=DEVICE).uniform_()
    dst = torch.empty_like(src)
    return 2 * nbytes / cuda_seconds(lambda: dst.copy_(src), min_run_time)


def seconds(fn: Callable[[], object], min_run_time: float) -> float:
    if DEVICE == "cuda":
        return cuda_seconds(fn, min_run_time)
    fn()  # warm-up (allocations, compilation)
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def forward_backward(
    encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, grad: torch.Tensor
):
    def run():
        x.grad = None
        encode(x).backward(grad)

    return run


def forward(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor):
    def run():
        with torch.no_grad():
            encode(x)

    return run


def bench_case(
    n: int, d: int, m: int, use_compile: bool, min_run_time: float, bandwidth: float = 0.0
) -> Dict[str, float]:
    B = GaussianFourierFeatures(d, m, sigma=10.0).B.to(DEVICE)
    x = torch.rand(n, d, device=DEVICE, requires_grad=True)
    grad = torch.randn(n, 2 * m, device=DEVICE)
    z = (2 * math.pi) * (x.detach() @ B.T)
    candidates = {
        "reference": lambda x: reference_encoding(x, B),
        "coordnet": lambda x: fourier_features(x, B),
    }
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
    if bandwidth:
        # Forward reads x, writes the features; backward reads x and their gradient, writes x's.
        row["bytes_fwdbwd"] = 4 * (2 * n * 2 * m + 3 * n * d)
        row["floor_mem_fwdbwd"] = row["bytes_fwdbwd"] / bandwidth
    return row


def bench_hashgrid_case(
    n: int,
    use_compile: bool,
    min_run_time: float,
    bandwidth: float = 0.0,
    param_dtype: torch.dtype = torch.float32,
) -> Dict[str, float]:
    grid = HashGrid(
        3,
        num_levels=16,
        num_features_per_level=2,
        log2_table_size=19,
        min_resolution=16,
        growth=2.0,
        param_dtype=param_dtype,
    )
    levels = grid.levels
    table = grid.table.detach().clone().to(DEVICE).requires_grad_()
    x = torch.rand(n, 3, device=DEVICE)
    grad = torch.randn(n, grid.out_dim, device=DEVICE)
    row: Dict[str, float] = {
        "section": "hashgrid",
        "n": n,
        "d": 3,
        "levels": levels.num_levels,
        "features": levels.num_features_per_level,
        "params": levels.num_params,
        "param_dtype": str(param_dtype).replace("torch.", ""),
    }

    def reference(t: torch.Tensor) -> torch.Tensor:  # the pure-PyTorch path upcasts half tables
        return hashgrid_reference(x, t.float(), levels, "linear")

    candidates = {
        "reference": reference,
        "coordnet": lambda t: hashgrid_encode(x, t, levels, "linear"),
    }
    if use_compile:
        torch._dynamo.reset()
        candidates["compiled"] = torch.compile(reference, dynamic=False)
        training = torch.compile(reference, dynamic=False)
    if bandwidth:
        # Reads x twice and the feature gradient, writes the features and the table gradient (zeroed
        # first); gathers from and scatters into the table are not counted.
        table_bytes = levels.num_params * table.element_size()
        row["bytes_fwdbwd"] = 4 * (2 * n * 3 + 2 * n * grid.out_dim) + 2 * table_bytes
        row["floor_mem_fwdbwd"] = row["bytes_fwdbwd"] / bandwidth
    for name, encode in candidates.items():
        if not (
            name == "compiled" and DEVICE == "cuda"
        ):  # on CUDA only fwd+bwd (the target): one compile
            row[f"{name}_fwd"] = seconds(forward(encode, table), min_run_time)
        train = training if name == "compiled" else encode
        row[f"{name}_fwdbwd"] = seconds(forward_backward(train, table, grad), min_run_time)
    return row


def ratio(row: Dict[str, float], key: str) -> float:
    top, bottom = key.split("/")
    return row[top] / row[bottom]


def check_targets(section: str, row: Dict[str, float]) -> List[str]:
    """Lines stating each CUDA target of the section: the measured ratio and whether it is met."""
    lines = []
    for name, key, comparison, threshold in CUDA_TARGETS:
        if name != section or any(k not in row for k in key.split("/")):
            continue
        value = ratio(row, key)
        met = value >= threshold if comparison == ">=" else value <= threshold
        row[f"target {key} {comparison} {threshold:g}"] = bool(met)
        row[key] = value
        lines.append(
            f"    target {key} {comparison} {threshold:g}: {value:6.2f}  {'met' if met else 'NOT met'}"
        )
    return lines


def print_hashgrid_row(row: Dict[str, float], use_compile: bool) -> None:
    for phase in ("fwd", "fwdbwd"):
        ours = row[f"coordnet_{phase}"]
        text = (
            f"hashgrid N={row['n']:>7} d=3 L={row['levels']} F={row['features']} {row['param_dtype']} {phase:>6}: "
            f"ref {row['reference_' + phase] * 1e3:9.1f} ms  coordnet {ours * 1e3:8.1f} ms  "
            f"ref/coordnet {row[f'reference_{phase}'] / ours:6.2f}x"
        )
        if use_compile and f"compiled_{phase}" in row:
            text += (
                f"  compiled {row['compiled_' + phase] * 1e3:9.1f} ms  "
                f"compiled/coordnet {row[f'compiled_{phase}'] / ours:6.2f}x"
            )
        if phase == "fwdbwd" and "floor_mem_fwdbwd" in row:
            text += f"  mem floor {row['floor_mem_fwdbwd'] * 1e3:8.3f} ms  coordnet/floor {ours / row['floor_mem_fwdbwd']:5.2f}"
        print(text, flush=True)
    if DEVICE == "cuda":
        print("\n".join(check_targets("hashgrid", row)), flush=True)


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
        elif "floor_mem_fwdbwd" in row:
            text += f"  mem floor {ms('floor_mem_fwdbwd')} ms  coordnet/floor {ours / row['floor_mem_fwdbwd']:5.2f}"
        print(text, flush=True)
    if DEVICE == "cuda":
        print("\n".join(check_targets("fourier", row)), flush=True)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where to run and time"
    )
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated N values (default 1,64,1024,16384,262144; cuda: 2^20, 2^22)",
    )
    parser.add_argument(
        "--dims", default=None, help="comma-separated d values (default 2,3; cuda: 3)"
    )
    parser.add_argument("--frequencies", type=int, default=256, help="M")
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the torch.compile reference (b)"
    )
    parser.add_argument(
        "--min-run-time", type=float, default=1.0, help="seconds of timing per measurement"
    )
    parser.add_argument(
        "--section",
        choices=("all", "fourier", "hashgrid"),
        default="all",
        help="which encoders to time",
    )
    parser.add_argument(
        "--hash-sizes",
        default=None,
        help="comma-separated N of the hash grid section (default 262144; cuda: 2^22)",
    )
    parser.add_argument(
        "--json", help="also write the rows to this JSON file (rewritten after every row)"
    )
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    cuda = DEVICE == "cuda"
    if cuda and not torch.cuda.is_available():
        print(
            "bench_encoders.py: error: --device cuda but no CUDA device is available "
            "(torch.cuda.is_available() is False)",
            file=sys.stderr,
        )
        return 2
    sizes = args.sizes or ("1048576,4194304" if cuda else "1,64,1024,16384,262144")
    dims = args.dims or ("3" if cuda else "2,3")
    hash_sizes = args.hash_sizes or ("4194304" if cuda else "262144")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False  # the reference's x Bᵀ stays float32
        bandwidth = copy_bandwidth(args.min_run_time)
        print(
            f"torch {torch.__version__}, {torch.cuda.get_device_name()}, backend {ops.backend('cuda')}, "
            f"device-to-device copy {bandwidth / 1e9:.0f} GB/s",
            flush=True,
        )
    else:
        bandwidth = 0.0
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, backend {ops.backend('cpu')}, "
            f"CPU capability {torch.backends.cpu.get_cpu_capability()}",
            flush=True,
        )
    rows: List[Dict[str, object]] = []

    def keep(row: Dict[str, object]) -> None:
        if cuda:
            row["device"], row["copy_bandwidth"] = torch.cuda.get_device_name(), bandwidth
        rows.append(row)
        if args.json:
            write_json(args.json, rows)

    if args.section in ("all", "fourier"):
        for d in (int(v) for v in dims.split(",")):
            for n in (int(v) for v in sizes.split(",")):
                row = bench_case(
                    n, d, args.frequencies, not args.no_compile, args.min_run_time, bandwidth
                )
                print_row(row, not args.no_compile)
                keep(row)
    if args.section in ("all", "hashgrid"):
        for param_dtype in (torch.float32, torch.float16) if cuda else (torch.float32,):
            for n in (int(v) for v in hash_sizes.split(",")):
                row = bench_hashgrid_case(
                    n, not args.no_compile, args.min_run_time, bandwidth, param_dtype
                )
                print_hashgrid_row(row, not args.no_compile)
                keep(row)
                if cuda:
                    torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
