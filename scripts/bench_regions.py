#!/usr/bin/env python
"""Activation-region counting: coordnet's kernel vs the dense reference vs the bare forward pass.

The problem: the S x S grid of [0, 1]^2 (coordnet's half-open pixel grid, default S = 512,
N = 262,144 points), a seeded ``ReluMLP(2, 1, width, depth=4)`` (4 hidden layers of 256, and
of 512; PyTorch's default initialisation, ``torch.manual_seed(0)``). What is measured, in one
run, for each width:

  (a) reference  the dense baseline: the same chunked forward pass (``addmm`` + ReLU, chunk
                 rows as (b)) writing the booleans ``z > 0`` of every hidden unit into one
                 ``(N, units)`` bool matrix, then ``coordnet.ops.regions_reference.
                 unique_patterns_dense`` (``torch.unique(dim=0)``). Its two parts are also
                 timed alone (forward+booleans, unique).
  (b) coordnet   ``coordnet.regions.count_regions(net, points, chunk=chunk)``: chunked
                 ``addmm`` with the fused sign -> pack -> ReLU kernel, then the hash-table
                 deduplication of the packed patterns.
  (c) floor      the bare forward pass alone: the same chunked ``addmm`` + ``relu_`` into
                 preallocated buffers over the same grid and chunk, no patterns (the matmuls
                 are the compute floor of any counting method).

Times: one warm-up call each, then the best of ``--repeats`` rounds (wall clock); the rounds
interleave the methods, so load from other jobs falls on all alike. Ratios: (b)/(c)
(target <= 1.3) and (a)/(b). The counts of (a) and (b) must agree (checked, printed).

Peak memory: each (method, width) runs once more in a fresh subprocess with glibc's mmap
threshold pinned at 128 KiB (so freed blocks go back to the system and RSS follows live
memory); after imports, model, grid and a warm-up on 2 chunks, the RSS high-water mark is
reset (``/proc/self/clear_refs``) and the peak is ``VmHWM`` after the call minus ``VmRSS``
before it (fallback where the reset is refused: the growth of ``ru_maxrss``). The grid
points themselves (N x 2 float32) are allocated before the baseline and not counted.
Target: peak of (b) <= 1/8 of the peak of (a).

The machine may be shared: timings are noisy; the 1-minute load average before and after
each width is printed and stored.

--device cuda (default size 1024, N = 2^20): everything runs on the GPU, each call is timed
with CUDA events (after the warm-up), peak memory is torch's allocator peak above what was
allocated before the call, and the pattern ops alone are timed at N = 2^22 rows (--op-rows):
pack_signs_relu_ and hash_patterns against (a) their eager pure-PyTorch references, (b) the
same under torch.compile, (c) coordnet's kernels and (d) the memory floor = bytes the op must
read and write / the device-to-device copy bandwidth measured in the same run.

Usage: python scripts/bench_regions.py [--size 512] [--widths 256,512] [--depth 4]
       [--repeats 5] [--threads N] [--chunk ROWS] [--no-memory] [--json rows.json]
       python scripts/bench_regions.py --device cuda [--op-rows 4194304] --json rows.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

from coordnet import ops
from coordnet.nets import ReluMLP
from coordnet.ops.regions_reference import (
    hash_patterns_reference,
    pack_signs_relu_reference_,
    unique_patterns_dense,
)
from coordnet.regions import count_regions, default_chunk
from coordnet.regions.domain import GridSource

METHODS = ("reference", "coordnet", "floor")
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}
#: Where the benchmark runs (set by main): "cpu" or "cuda".
DEVICE = "cpu"


def make_problem(size: int, width: int, depth: int) -> Tuple[ReluMLP, torch.Tensor]:
    torch.manual_seed(0)
    net = ReluMLP(2, 1, width=width, depth=depth).eval().to(DEVICE)
    points = GridSource((size, size), ((0.0, 1.0), (0.0, 1.0))).points().contiguous().to(DEVICE)
    return net, points


def hidden_layers(net: ReluMLP) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """``(weight.t(), bias)`` of each hidden layer, detached."""
    return [(linear.weight.detach().t(), linear.bias.detach()) for linear, _ in net.hidden_layers()]


def reference_forward(net: ReluMLP, points: torch.Tensor, chunk: int) -> torch.Tensor:
    """Dense patterns ``(N, units)`` bool from a chunked forward pass."""
    layers = hidden_layers(net)
    units = sum(w.shape[1] for w, _ in layers)
    n = points.shape[0]
    patterns = torch.empty(n, units, dtype=torch.bool, device=points.device)
    with torch.no_grad():
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            h = points[start:end]
            column = 0
            for weight_t, bias in layers:
                z = torch.addmm(bias, h, weight_t)
                width = z.shape[1]
                torch.gt(z, 0, out=patterns[start:end, column : column + width])
                h = torch.relu_(z)
                column += width
    return patterns


def reference_count(net: ReluMLP, points: torch.Tensor, chunk: int) -> int:
    patterns = reference_forward(net, points, chunk)
    _, first = unique_patterns_dense(patterns)
    return int(first.numel())


def coordnet_count(net: ReluMLP, points: torch.Tensor, chunk: int) -> int:
    return count_regions(net, points, chunk=chunk)


def floor_forward(net: ReluMLP, points: torch.Tensor, chunk: int) -> int:
    """The bare chunked forward pass (``addmm`` + ``relu_`` into two preallocated buffers); returns 0."""
    layers = hidden_layers(net)
    n = points.shape[0]
    rows_max = min(chunk, n)
    widest = max(w.shape[1] for w, _ in layers)
    buffers = [torch.empty(rows_max * widest, device=points.device) for _ in range(2)]
    with torch.no_grad():
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            rows = end - start
            h = points[start:end]
            for index, (weight_t, bias) in enumerate(layers):
                out = buffers[index % 2][: rows * weight_t.shape[1]].view(rows, weight_t.shape[1])
                torch.addmm(bias, h, weight_t, out=out)
                torch.relu_(out)
                h = out
    return 0


RUNNERS: Dict[str, Callable[[ReluMLP, torch.Tensor, int], int]] = {
    "reference": reference_count,
    "coordnet": coordnet_count,
    "floor": floor_forward,
}


def best_times(
    functions: Dict[str, Callable[[], object]], repeats: int
) -> Tuple[Dict[str, float], Dict[str, object]]:
    """Best wall time of each function over ``repeats`` rounds, after one warm-up call each.

    Rounds interleave the functions (a, b, c, a, b, c, ...), so that load from other jobs on a
    shared machine falls on all of them alike. Returns ``(best seconds, last result)`` per name.
    """
    results = {name: fn() for name, fn in functions.items()}  # warm-up
    best = {name: float("inf") for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            if DEVICE == "cuda":
                elapsed, results[name] = cuda_time(fn)
            else:
                started = time.perf_counter()
                results[name] = fn()
                elapsed = time.perf_counter() - started
            best[name] = min(best[name], elapsed)
    return best, results


def cuda_time(fn: Callable[[], object]) -> Tuple[float, object]:
    """Seconds of one call between two CUDA events (the call's host work included), and its result."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    result = fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3, result


def cuda_peak(fn: Callable[[], object]) -> int:
    """Bytes allocated by torch on the GPU during ``fn`` above what was allocated before it."""
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def copy_bandwidth(repeats: int, nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth in bytes/s (read + write counted), best of ``repeats`` x 10 copies."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=DEVICE).uniform_()
    dst = torch.empty_like(src)
    dst.copy_(src)
    seconds, _ = best_times({"copy": lambda: [dst.copy_(src) for _ in range(10)]}, max(repeats, 3))
    return 2 * nbytes * 10 / seconds["copy"]


def bench_pattern_ops(
    rows: int, width: int, repeats: int, bandwidth: float, use_compile: bool
) -> dict:
    """The pattern ops alone on ``rows`` rows of one layer of ``width`` units: (a) eager reference,
    (b) the reference under torch.compile, (c) coordnet's kernel, (d) the memory floor."""
    torch.manual_seed(0)
    words = ops.pattern_words(width)
    preact = torch.randn(rows, width, device=DEVICE)
    work = preact.clone()
    packed = torch.zeros(rows, words, dtype=torch.int64, device=DEVICE)
    row: dict = {
        "section": "pattern_ops",
        "rows": rows,
        "width": width,
        "copy_bandwidth": bandwidth,
    }

    def pack_with(fn):
        def run():
            work.copy_(preact)  # the same input every call (also timed for every method)
            fn(work, packed, 0, True)

        return run

    def pack_reference(p, k, offset, relu):
        return pack_signs_relu_reference_(p, k, offset, relu)

    candidates = {"reference": pack_reference, "coordnet": ops.pack_signs_relu_}
    if use_compile:
        candidates["compiled"] = torch.compile(pack_reference, dynamic=False)
    copy_only = lambda: work.copy_(preact)  # noqa: E731
    functions = {f"pack_{name}": pack_with(fn) for name, fn in candidates.items()}
    functions["pack_copy"] = copy_only
    functions["hash_reference"] = lambda: hash_patterns_reference(packed)
    functions["hash_coordnet"] = lambda: ops.hash_patterns(packed)
    if use_compile:
        compiled_hash = torch.compile(hash_patterns_reference, dynamic=False)
        functions["hash_compiled"] = lambda: compiled_hash(packed)
    for name, fn in list(functions.items()):
        try:
            seconds, _ = best_times({name: fn}, repeats)
            row[f"{name}_seconds"] = seconds[name]
        except Exception as error:  # torch.compile may refuse an op; say so instead of stopping
            row[f"{name}_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    for name in candidates:  # subtract the input copy every pack call makes
        if f"pack_{name}_seconds" in row:
            row[f"pack_{name}_seconds"] = max(
                row[f"pack_{name}_seconds"] - row["pack_copy_seconds"], 1e-9
            )
    # pack: read and write preact (ReLU in place), write the packed words; hash: read words, write hashes.
    row["pack_floor_seconds"] = (2 * rows * width * 4 + rows * words * 8) / bandwidth
    row["hash_floor_seconds"] = (rows * words * 8 + rows * 8) / bandwidth
    return row


def pattern_op_lines(row: dict) -> List[str]:
    lines = []
    for op in ("pack", "hash"):
        ours = row.get(f"{op}_coordnet_seconds")
        if ours is None:
            lines.append(f"  {op}: coordnet failed: {row.get(f'{op}_coordnet_error')}")
            continue
        text = f"  {op} N={row['rows']} w={row['width']}: coordnet {ours * 1e3:.3f} ms"
        for other in ("reference", "compiled"):
            if f"{op}_{other}_seconds" in row:
                text += f"  {other}/coordnet {row[f'{op}_{other}_seconds'] / ours:.2f}x"
            elif f"{op}_{other}_error" in row:
                text += f"  {other}: {row[f'{op}_{other}_error']}"
        text += f"  coordnet/memory floor {ours / row[f'{op}_floor_seconds']:.2f}"
        lines.append(text)
    return lines


# ----------------------------------------------------------------------------- memory


def _status(field: str) -> Optional[int]:
    """``VmRSS``/``VmHWM`` of this process in bytes (``None`` where /proc is unavailable)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measure_peak(method: str, size: int, width: int, depth: int, chunk: int) -> dict:
    """Run ``method`` once in this (fresh) process; peak memory above the baseline before the call."""
    net, points = make_problem(size, width, depth)
    runner = RUNNERS[method]
    runner(
        net, points[: 2 * chunk].contiguous(), chunk
    )  # load lazily initialised libraries and pools
    reset = _reset_peak()
    baseline_rss = _status("VmRSS")
    baseline_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    count = runner(net, points, chunk)
    if reset and baseline_rss is not None:
        peak = _status("VmHWM") - baseline_rss
        how = "VmHWM after - VmRSS before (high-water mark reset)"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline_maxrss
        how = "ru_maxrss growth"
    return {"method": method, "width": width, "peak_bytes": int(peak), "count": count, "how": how}


def peak_in_subprocess(method: str, args, width: int, chunk: int) -> dict:
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--memory-child",
        method,
        "--size",
        str(args.size),
        "--widths",
        str(width),
        "--depth",
        str(args.depth),
        "--chunk",
        str(chunk),
        "--threads",
        str(args.threads),
    ]
    env = {**os.environ, **MALLOC_ENV, "OMP_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory run of {method} (width {width}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def bench_width(args, width: int) -> dict:
    net, points = make_problem(args.size, width, args.depth)
    chunk = args.chunk or default_chunk(width)
    load_before = load_average()
    row: dict = {
        "size": args.size,
        "n": points.shape[0],
        "width": width,
        "depth": args.depth,
        "chunk": chunk,
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
    }
    patterns = reference_forward(net, points, chunk)
    functions = {method: (lambda m=method: RUNNERS[m](net, points, chunk)) for method in METHODS}
    functions["reference_forward"] = lambda: reference_forward(net, points, chunk)
    functions["reference_unique"] = lambda patterns=patterns: unique_patterns_dense(patterns)
    seconds, results = best_times(functions, args.repeats)
    del patterns, functions
    for name, value in seconds.items():
        row[f"{name}_seconds"] = value
    row["reference_count"], row["coordnet_count"] = results["reference"], results["coordnet"]
    del results
    row["counts_agree"] = row["reference_count"] == row["coordnet_count"]
    row["coordnet_over_floor"] = row["coordnet_seconds"] / row["floor_seconds"]
    row["reference_over_coordnet"] = row["reference_seconds"] / row["coordnet_seconds"]
    row["load_before"], row["load_after"] = load_before, load_average()
    if DEVICE == "cuda":
        for method in METHODS:
            row[f"{method}_peak_bytes"] = cuda_peak(lambda m=method: RUNNERS[m](net, points, chunk))
            row["memory_how"] = (
                "torch.cuda.max_memory_allocated above the allocation before the call"
            )
        row["coordnet_over_reference_memory"] = (
            row["coordnet_peak_bytes"] / row["reference_peak_bytes"]
        )
    elif not args.no_memory:
        for method in METHODS:
            measured = peak_in_subprocess(method, args, width, chunk)
            row[f"{method}_peak_bytes"] = measured["peak_bytes"]
            row["memory_how"] = measured["how"]
        row["coordnet_over_reference_memory"] = (
            row["coordnet_peak_bytes"] / row["reference_peak_bytes"]
        )
    return row


def format_rows(rows: List[dict]) -> str:
    lines = [
        "| width | count (a) | count (b) | (a) reference | (a) fwd+bool / unique | (b) coordnet | (c) floor "
        "| (b)/(c) | (a)/(b) | peak (a) | peak (b) | peak (c) | (b)/(a) mem | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        memory = ["-", "-", "-", "-"]
        if "coordnet_peak_bytes" in r:
            memory = [
                mib(r["reference_peak_bytes"]),
                mib(r["coordnet_peak_bytes"]),
                mib(r["floor_peak_bytes"]),
                f"1/{1 / max(r['coordnet_over_reference_memory'], 1e-12):.0f}",
            ]
        lines.append(
            f"| {r['width']} | {r['reference_count']} | {r['coordnet_count']} | {r['reference_seconds'] * 1e3:.0f} ms "
            f"| {r['reference_forward_seconds'] * 1e3:.0f} / {r['reference_unique_seconds'] * 1e3:.0f} ms "
            f"| {r['coordnet_seconds'] * 1e3:.0f} ms | {r['floor_seconds'] * 1e3:.0f} ms "
            f"| {r['coordnet_over_floor']:.2f} | {r['reference_over_coordnet']:.1f}x | {' | '.join(memory)} "
            f"| {r['load_before']}-{r['load_after']} |"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where to run and time"
    )
    parser.add_argument(
        "--size", type=int, default=None, help="grid samples per axis (N = size²; 512, cuda 1024)"
    )
    parser.add_argument(
        "--op-rows", type=int, default=1 << 22, help="rows of the pattern-op timings (cuda)"
    )
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the torch.compile references (cuda)"
    )
    parser.add_argument("--widths", default="256,512", help="comma-separated hidden widths")
    parser.add_argument("--depth", type=int, default=4, help="hidden layers")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed calls per method (best is kept)"
    )
    parser.add_argument(
        "--threads", type=int, default=torch.get_num_threads(), help="torch threads"
    )
    parser.add_argument(
        "--chunk", type=int, default=None, help="rows per chunk [default: coordnet's default]"
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory subprocesses"
    )
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--memory-child", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print(
            "bench_regions.py: error: --device cuda but no CUDA device is available "
            "(torch.cuda.is_available() is False)",
            file=sys.stderr,
        )
        return 2
    if args.size is None:
        args.size = 1024 if DEVICE == "cuda" else 512
    for name in ("size", "depth", "repeats", "threads", "op_rows"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.chunk is not None and args.chunk < 1:
        parser.error(f"--chunk must be >= 1, got {args.chunk}")
    try:
        widths = [int(w) for w in args.widths.split(",") if w.strip()]
    except ValueError:
        parser.error(f"--widths must be comma-separated integers, got {args.widths!r}")
    if not widths or min(widths) < 1:
        parser.error(f"--widths must be positive integers, got {args.widths!r}")
    torch.set_num_threads(args.threads)

    if args.memory_child:
        chunk = args.chunk or default_chunk(widths[0])
        print(json.dumps(measure_peak(args.memory_child, args.size, widths[0], args.depth, chunk)))
        return 0

    where = (
        torch.cuda.get_device_name() if DEVICE == "cuda" else f"{torch.get_num_threads()} threads"
    )
    print(
        f"activation-region counting, {args.size}x{args.size} grid of [0,1]^2, ReluMLP depth {args.depth}, "
        f"torch {torch.__version__}, {where}, best of {args.repeats}",
        flush=True,
    )
    rows = []
    if DEVICE == "cuda":
        bandwidth = copy_bandwidth(args.repeats)
        print(f"device-to-device copy {bandwidth / 1e9:.0f} GB/s", flush=True)
        for width in widths:
            op_row = bench_pattern_ops(
                args.op_rows, width, args.repeats, bandwidth, not args.no_compile
            )
            print("\n".join(pattern_op_lines(op_row)), flush=True)
            rows.append(op_row)
    for width in widths:
        row = bench_width(args, width)
        row["device"] = DEVICE
        row["coordnet_over_floor_target_met"] = row["coordnet_over_floor"] <= 1.3
        rows.append(row)
        print(
            f"  width {width}: counts (a) {row['reference_count']} (b) {row['coordnet_count']}"
            f"{'' if row['counts_agree'] else '  MISMATCH'}; (b)/(c) {row['coordnet_over_floor']:.2f}, "
            f"(a)/(b) {row['reference_over_coordnet']:.1f}",
            flush=True,
        )
    print()
    print(format_rows([r for r in rows if "section" not in r]))
    counted = [r for r in rows if "section" not in r]
    print(
        "(b)/(c) <= 1.3: "
        + ", ".join(
            f"width {r['width']} {r['coordnet_over_floor']:.2f} {'met' if r['coordnet_over_floor_target_met'] else 'NOT met'}"
            for r in counted
        )
    )
    if DEVICE == "cuda" or not args.no_memory:
        how = (
            ""
            if DEVICE == "cuda"
            else ", fresh subprocess per method, glibc mmap threshold 128 KiB"
        )
        print(f"peak memory: {counted[0]['memory_how']}{how}")
    print(
        "targets: (b)/(c) <= 1.3, peak (b) <= 1/8 of peak (a); the machine may be shared (load = 1-min average)"
    )
    if args.json:
        from coordnet.atomic import write_json

        write_json(args.json, rows)
    return 0 if all(r.get("counts_agree", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
