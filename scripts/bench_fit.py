#!/usr/bin/env python
"""Training throughput of coordnet's Trainer vs a bare PyTorch loop vs the matmul floor.

What is measured, in one run, for each model spec (default ``gauss`` = Gaussian Fourier
features (256 frequencies) + ReLU MLP 512-256-256-256-3, and ``none`` = ReLU MLP 2-256-256-256-3,
both ``build_model(spec, in_dim=2, out_dim=3, output_activation="sigmoid")``) and each grid
size (default 128² and 256²), full batch on the FULL pixel grid (split "full": N = size² points,
the bundled RGB image "astronaut" resized to size×size):

  trainer  seconds per optimiser step of ``coordnet.fit.Trainer.fit()`` (full batch,
           constant lr); the step time is the difference of consecutive ``on_step`` callback
           timestamps (and on_start -> first on_step), i.e. the whole loop iteration
           (train_step with autocast context, LambdaLR step, float(loss), isfinite, callbacks).
           Evaluation is EXCLUDED: the trainer is run in blocks, each fit() with
           config.steps = current step + block and eval_every = config.steps, so its only
           evaluation runs after the block's last on_step, outside the timed deltas.
           Also recorded: Trainer.seconds (its own timer around train_step only).
  bare     the same model class (a fresh model, same seed, same data): zero_grad, forward,
           MSE, backward, Adam step; per-step wall time.
  floor    MLP FLOPs per step / GEMM FLOP/s measured in the same run: forward = 2·N·Σ in·out over
           the MLP's nn.Linear layers (the encoder is not counted), backward ≈ 2× forward, so
           3·forward; GEMM rate from F.linear on an (N×256)·(256×256) product (fp32 and bf16).
  bf16     the same with bf16 autocast on the MLP (``TrainConfig(bf16=True)``; the bare loop
           under ``torch.autocast("cpu", dtype=torch.bfloat16)``; the encoder stays float32).
  psnr     final train PSNR after a fixed number of steps on scikit-image "camera"
           (``load_signal("camera", size=psnr_size)``, full grid, out_dim = 1 channel),
           float32 vs bf16, through the Trainer (its final evaluation).

Warm-up steps are discarded; bare and trainer blocks alternate (``--rounds`` × ``--per-round``
steps each) so that background load hits both alike; the reported time is the median of the
timed steps. The machine may be shared: the 1-minute load average is stored with each row.
Ratios printed: trainer/bare (target ≤ 1.10), bare/floor, bf16 speed-up (fp32 time / bf16 time,
> 1 means bf16 is faster), bf16 PSNR cost (fp32 PSNR − bf16 PSNR, dB).

Usage: python scripts/bench_fit.py [--sizes 128,256] [--specs gauss,none] [--bf16-sizes 128,256]
       [--psnr-size 128 --psnr-steps 300] [--json rows.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from coordnet.fit import Trainer
from coordnet.fit.trainer import Callback, Samples, TrainConfig
from coordnet.fit.metrics import psnr_from_mse
from coordnet.nets import build_model
from coordnet.signals import load_signal, split_signal


class StepClock(Callback):
    """Timestamps at on_start and at every on_step."""

    def __init__(self) -> None:
        self.stamps: List[float] = []

    def on_start(self, trainer) -> None:
        self.stamps.append(time.perf_counter())

    def on_step(self, trainer, step, loss) -> None:
        self.stamps.append(time.perf_counter())


def make_model(spec: str, out_dim: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(spec, in_dim=2, out_dim=out_dim, output_activation="sigmoid")


def mlp_linears(model: nn.Module) -> List[nn.Linear]:
    return [m for m in model.net.modules() if isinstance(m, nn.Linear)]


def forward_flops(model: nn.Module, n: int) -> int:
    return sum(2 * n * lin.in_features * lin.out_features for lin in mlp_linears(model))


def gemm_rate(n: int, dtype: torch.dtype, width: int = 256, reps: int = 3) -> float:
    """FLOP/s of F.linear((n×width), (width×width)) in ``dtype`` (median of ``reps``)."""
    x = torch.randn(n, width).to(dtype)
    w = torch.randn(width, width).to(dtype)
    F.linear(x, w)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        F.linear(x, w)
        times.append(time.perf_counter() - t)
    return 2 * n * width * width / statistics.median(times)


def time_pair(spec: str, samples: Samples, warmup: int, rounds: int, per_round: int, bf16: bool, seed: int):
    """Alternate blocks of bare-loop steps and Trainer steps, so that load from other processes
    hits both alike. Returns per-step durations (seconds) of each, warm-up steps dropped.

    Trainer: one Trainer whose ``config.steps`` grows by ``per_round`` before each ``fit()``
    call; eval_every = config.steps, so each fit() evaluates once, after its last on_step,
    outside the timed deltas. Bare: the same model class, fresh model, same seed and data.
    """
    x, y = samples.train_coords, samples.train_values
    # bare loop
    model = make_model(spec, y.shape[1], seed)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def bare_steps(count: int) -> List[float]:
        deltas = []
        for _ in range(count):
            t = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                prediction = model(x)
            loss = F.mse_loss(prediction.float(), y)
            loss.backward()
            optimizer.step()
            deltas.append(time.perf_counter() - t)
        return deltas

    # trainer
    clock = StepClock()
    config = TrainConfig(steps=warmup, lr=1e-3, eval_every=10**9, bf16=bf16, seed=seed)
    trainer = Trainer(make_model(spec, y.shape[1], seed), samples, config, callbacks=[clock])

    def trainer_steps(count: int) -> List[float]:
        clock.stamps = []
        trainer.config.steps = trainer.step + count
        trainer.config.eval_every = trainer.config.steps  # the one evaluation runs after the last on_step
        trainer.fit()
        return [b - a for a, b in zip(clock.stamps, clock.stamps[1:])]

    bare_steps(warmup)
    trainer_steps(warmup)
    bare, train, inner = [], [], []
    for _ in range(rounds):
        bare += bare_steps(per_round)
        before = trainer.seconds
        train += trainer_steps(per_round)
        inner.append((trainer.seconds - before) / per_round)
    return bare, train, inner


def psnr_run(spec: str, size: int, steps: int, bf16: bool, seed: int) -> Dict[str, float]:
    split = split_signal(load_signal("camera", size=size), "full")
    samples = Samples(split.train_coords, split.train_values)
    model = make_model(spec, samples.train_values.shape[1], seed)
    config = TrainConfig(steps=steps, lr=1e-3, eval_every=steps, bf16=bf16, seed=seed)
    t = time.perf_counter()
    result = Trainer(model, samples, config).fit()
    # The trainer evaluates under bf16 too when bf16=True; also report the float32 evaluation.
    with torch.no_grad():
        mse32 = float(torch.mean((model(samples.train_coords).float() - samples.train_values) ** 2))
    return {"train_psnr": result.train_psnr, "train_psnr_fp32_eval": psnr_from_mse(mse32),
            "seconds": time.perf_counter() - t}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,256")
    parser.add_argument("--specs", default="gauss,none")
    parser.add_argument("--bf16-sizes", default="128,256", help="grid sizes also timed under bf16 ('' = none)")
    parser.add_argument("--image", default="astronaut", help="3-channel image for the timings")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps of each loop first")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/trainer blocks")
    parser.add_argument("--per-round", type=int, default=2, help="steps per block")
    parser.add_argument("--bf16-warmup", type=int, default=1)
    parser.add_argument("--bf16-rounds", type=int, default=2)
    parser.add_argument("--bf16-per-round", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--psnr-spec", default="gauss")
    parser.add_argument("--psnr-size", type=int, default=128)
    parser.add_argument("--psnr-steps", type=int, default=300)
    parser.add_argument("--no-psnr", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    bf16_sizes = {int(s) for s in args.bf16_sizes.split(",") if s}
    specs = [s for s in args.specs.split(",") if s]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    rows: List[Dict] = []
    for size in sizes:
        split = split_signal(load_signal(args.image, size=size), "full")
        samples = Samples(split.train_coords, split.train_values)
        n = samples.train_coords.shape[0]
        rate32 = gemm_rate(n, torch.float32)
        modes = [False] + ([True] if size in bf16_sizes else [])
        rate16 = gemm_rate(min(n, 16384), torch.bfloat16) if True in modes else None
        print(f"\n{size}x{size} full grid, N={n}: GEMM (N×256)·(256×256) fp32 {rate32 / 1e9:.1f} GFLOP/s"
              + (f", bf16 {rate16 / 1e9:.1f} GFLOP/s" if rate16 else ""))
        for spec in specs:
            for bf16 in modes:
                warm, rounds, per = ((args.bf16_warmup, args.bf16_rounds, args.bf16_per_round) if bf16
                                     else (args.warmup, args.rounds, args.per_round))
                bare_d, train_d, inner = time_pair(spec, samples, warm, rounds, per, bf16, args.seed)
                trainer = {"median": statistics.median(train_d), "train_step_seconds_per_step": statistics.median(inner)}
                bare = {"median": statistics.median(bare_d)}
                fwd = forward_flops(make_model(spec, 3, args.seed), n)
                floor = 3 * fwd / (rate16 if bf16 else rate32)
                row = {
                    "size": size, "n": n, "spec": spec, "dtype": "bf16" if bf16 else "fp32",
                    "trainer_s": trainer["median"], "trainer_train_step_s": trainer["train_step_seconds_per_step"],
                    "bare_s": bare["median"], "floor_s": floor, "mlp_gflop_per_step": 3 * fwd / 1e9,
                    "gemm_gflops": (rate16 if bf16 else rate32) / 1e9,
                    "trainer_over_bare": trainer["median"] / bare["median"],
                    "bare_over_floor": bare["median"] / floor,
                    "warmup": warm, "timed_steps": len(bare_d),
                    "bare_steps_s": bare_d, "trainer_steps_s": train_d,
                    "loadavg_1min": os.getloadavg()[0],
                }
                rows.append(row)
                print(f"  {spec:6s} {row['dtype']}: trainer {row['trainer_s'] * 1e3:8.1f} ms/step "
                      f"({1 / row['trainer_s']:.2f} steps/s)  bare {row['bare_s'] * 1e3:8.1f} ms  "
                      f"floor {floor * 1e3:8.1f} ms  trainer/bare {row['trainer_over_bare']:.3f}  "
                      f"bare/floor {row['bare_over_floor']:.2f}", flush=True)
            if True in modes:
                r32 = next(r for r in rows if r["size"] == size and r["spec"] == spec and r["dtype"] == "fp32")
                r16 = rows[-1]
                print(f"  {spec:6s} bf16 speed-up (fp32/bf16): bare {r32['bare_s'] / r16['bare_s']:.2f}x, "
                      f"trainer {r32['trainer_s'] / r16['trainer_s']:.2f}x", flush=True)

    if not args.no_psnr:
        print(f"\nPSNR after {args.psnr_steps} steps, camera {args.psnr_size}x{args.psnr_size} full grid, "
              f"spec {args.psnr_spec} (out_dim=1):")
        p = {}
        for bf16 in (False, True):
            p[bf16] = psnr_run(args.psnr_spec, args.psnr_size, args.psnr_steps, bf16, args.seed)
            print(f"  {'bf16' if bf16 else 'fp32'}: train PSNR {p[bf16]['train_psnr']:.2f} dB "
                  f"(fp32 eval {p[bf16]['train_psnr_fp32_eval']:.2f} dB), {p[bf16]['seconds']:.1f} s", flush=True)
        cost = p[False]["train_psnr"] - p[True]["train_psnr"]
        print(f"  bf16 PSNR cost: {cost:.2f} dB (fp32 - bf16, trainer's own eval); "
              f"{p[False]['train_psnr_fp32_eval'] - p[True]['train_psnr_fp32_eval']:.2f} dB with fp32 eval")
        rows.append({"psnr_size": args.psnr_size, "psnr_steps": args.psnr_steps, "spec": args.psnr_spec,
                     "fp32": p[False], "bf16": p[True], "bf16_psnr_cost_db": cost})

    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)
        print(f"\nrows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
