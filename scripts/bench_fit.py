#!/usr/bin/env python
"""Training throughput of coordnet's Trainer vs a bare PyTorch loop vs the matmul floor.

What is measured, in one run, for each model spec (default ``gauss`` = Gaussian Fourier
features (256 frequencies) + ReLU MLP 512-256-256-256-3, and ``none`` = ReLU MLP 2-256-256-256-3,
both ``build_model(spec, in_dim=2, out_dim=3, output_activation="sigmoid")``) and each grid
size (default 128² and 256²), full batch on the FULL pixel grid (split "full": N = size² points,
the bundled RGB image "astronaut" resized to size×size):

  trainer  seconds per optimiser step of ``coordnet.training.Trainer.fit()`` (full batch,
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

--floor: for the hash grid (16 levels x 2 features, base 8, scale 1.26) + 2x64 ReLU MLP, the
demo's width-128 models and the paper's gauss, on the default image's training pixels: the
compute floor = encoder forward+backward + MLP forward+backward + Adam update, each measured bare
(best of --reps), against the Trainer's wall time per step with its evaluations included.

--time-to-psnr: wall time to 25 and 30 dB train and test PSNR on the default image for raw
coordinates, positional encoding, Gaussian features, SIREN and the hash grid, trained by
coordnet's fast settings and by the plain loop of the reference repositories (SIREN's
image-fitting loop / the Fourier-features notebook's loop: full-batch Adam, PSNRs every 25
steps), plus the paper's Gaussian-feature MLP in the plain loop; each run stops after --budget s.

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

from coordnet.nets import build_model
from coordnet.signals import load_signal, split_signal
from coordnet.training import Trainer
from coordnet.training.metrics import psnr_from_mse
from coordnet.training.trainer import Callback, Samples, TrainConfig


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


def time_pair(
    spec: str, samples: Samples, warmup: int, rounds: int, per_round: int, bf16: bool, seed: int
):
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
        trainer.config.eval_every = (
            trainer.config.steps
        )  # the one evaluation runs after the last on_step
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
    return {
        "train_psnr": result.train_psnr,
        "train_psnr_fp32_eval": psnr_from_mse(mse32),
        "seconds": time.perf_counter() - t,
    }


# ---------------------------------------------------------------------------------------------
# --floor: a fit step of the Trainer against its compute floor, measured bare in the same run.
# ---------------------------------------------------------------------------------------------
FLOOR_SPECS = (
    "hash:levels=16,F=2,N_min=8,b=1.26+relu:width=64,depth=2",
    "relu:width=128",
    "pe:num_frequencies=6,max_log2_freq=5+relu:width=128",
    "gauss:num_frequencies=128+relu:width=128",
    "siren:width=128",
    "gauss",
)


def camera_samples() -> Samples:
    """The default image (``camera``, 512²) split as ``coordnet fit`` splits it (train even pixels, test odd)."""
    parts = split_signal(load_signal("camera"), "tancik", seed=0)
    return Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)


def best_of(fn, reps: int) -> float:
    """Best-of-``reps`` wall time of ``fn()`` after one untimed call."""
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def floor_parts(spec: str, samples: Samples, reps: int, seed: int) -> Dict[str, float]:
    """Bare seconds of encoder forward+backward, MLP forward+backward (down to its input when the
    encoder has parameters) and the optimiser's update (the Trainer's Adam on all parameters) for
    one full-batch step of ``spec``."""
    from coordnet.training.trainer import make_adam

    model = make_model(spec, samples.train_values.shape[1], seed)
    x = model.map_coordinates(samples.train_coords)
    encoder = model.encoder if model.encoder is not None else nn.Identity()
    trainable_encoder = any(p.requires_grad for p in encoder.parameters())

    def encoder_step():
        h = encoder(x)
        if trainable_encoder:
            h.backward(torch.ones_like(h))

    # A trainable encoder needs the gradient of the loss with respect to the MLP's input.
    features = encoder(x).detach().requires_grad_(trainable_encoder)

    def mlp_step():
        out = model.net(features)
        F.mse_loss(out, samples.train_values).backward()

    optimizer = make_adam(model.parameters(), 1e-3, torch.device("cpu"))
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    return {
        "encoder": best_of(encoder_step, reps),
        "mlp": best_of(mlp_step, reps),
        "optimizer": best_of(optimizer.step, reps),
    }


def trainer_step_seconds(
    spec: str, samples: Samples, steps: int, seed: int, eval_every: int
) -> float:
    """Wall seconds per step of ``Trainer.fit()`` over ``steps`` steps (after 2 warm-up steps),
    evaluations every ``eval_every`` steps and the final one included."""
    trainer = Trainer(
        make_model(spec, samples.train_values.shape[1], seed),
        samples,
        TrainConfig(steps=2, lr=1e-3, eval_every=eval_every, seed=seed),
    )
    trainer.fit()
    trainer.config.steps = 2 + steps
    t = time.perf_counter()
    trainer.fit()
    return (time.perf_counter() - t) / steps


def floor_main(args) -> int:
    samples = camera_samples()
    print(
        f"fit step vs compute floor on camera 512² (tancik split: {samples.train_coords.shape[0]} train points), "
        f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}; best of {args.reps} for the floor parts, "
        f"trainer over {args.floor_steps} steps with evaluations every {args.eval_every} steps included"
    )
    rows = []
    for spec in args.floor_specs.split(";"):
        parts = floor_parts(spec, samples, args.reps, args.seed)
        floor = sum(parts.values())
        trainer = min(
            trainer_step_seconds(spec, samples, args.floor_steps, args.seed, args.eval_every)
            for _ in range(args.trainer_reps)
        )
        row = {
            "spec": spec,
            **{f"{k}_s": v for k, v in parts.items()},
            "floor_s": floor,
            "trainer_s": trainer,
            "trainer_over_floor": trainer / floor,
            "loadavg_1min": os.getloadavg()[0],
        }
        rows.append(row)
        print(
            f"  {spec:55s} encoder {parts['encoder'] * 1e3:7.1f}  mlp {parts['mlp'] * 1e3:7.1f}  "
            f"adam {parts['optimizer'] * 1e3:6.1f}  floor {floor * 1e3:7.1f} ms  trainer {trainer * 1e3:7.1f} ms  "
            f"trainer/floor {trainer / floor:.2f}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)
    return 0


# ---------------------------------------------------------------------------------------------
# --time-to-psnr: wall time to 25 and 30 dB, coordnet's fast settings vs the reference repos' loops.
# ---------------------------------------------------------------------------------------------
# (label, coordnet spec, coordnet lr, plain-loop lr). The plain loops use the reference
# repositories' learning rates: 1e-4 for SIREN (its image-fitting loop) and for the
# Fourier-features notebook's networks, 1e-2 for the hash grid (instant-NGP).
TTP_MODELS = (
    ("raw", "relu:width=128,depth=2", 1e-2, 1e-4),
    ("pe", "pe:num_frequencies=6,max_log2_freq=5+relu:width=128,depth=2", 3e-3, 1e-4),
    ("gauss", "gauss:num_frequencies=256+relu:width=128,depth=2", 3e-3, 1e-4),
    ("siren", "siren:width=128,depth=2", 1e-4, 1e-4),
    ("hash", "hash:levels=16,F=2,N_min=8,b=1.26+relu:width=64,depth=2", 1e-2, 1e-2),
)
#: The paper's Gaussian-feature MLP as the Fourier-features notebook builds it: 256 features,
#: σ = 10, 4 layers of width 256 (depth 3 hidden + output here), Adam 1e-4.
PAPER_GAUSS = (
    "paper gauss",
    "gauss:num_frequencies=256,sigma=10+relu:width=256,depth=3",
    1e-3,
    1e-4,
)
LEVELS = (25.0, 30.0)


def first_time(curve: List[tuple], index: int, level: float) -> Optional[float]:
    return next((row[0] for row in curve if row[index] is not None and row[index] >= level), None)


def plain_loop(
    model: nn.Module, samples: Samples, lr: float, budget: float, every: int
) -> List[tuple]:
    """The reference repositories' loop: full-batch Adam on the MSE, train and test PSNR every
    ``every`` steps (the notebook's cadence), until ``budget`` wall seconds have passed.
    Returns ``(seconds, train_psnr, test_psnr)`` per evaluation."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = samples.train_coords, samples.train_values
    curve, started, step = [], time.perf_counter(), 0
    while True:
        prediction = model(x)
        loss = ((prediction - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % every == 0:
            with torch.no_grad():
                train = psnr_from_mse(float(((model(x) - y) ** 2).mean()))
                test = psnr_from_mse(
                    float(((model(samples.test_coords) - samples.test_values) ** 2).mean())
                )
            elapsed = time.perf_counter() - started
            curve.append((elapsed, train, test))
            if elapsed >= budget:
                return curve


def coordnet_run(spec: str, samples: Samples, lr: float, budget: float, seed: int) -> List[tuple]:
    """``spec`` trained by coordnet's Trainer with the fast preset's settings (bf16 auto,
    evaluation every 25 steps) for ``budget`` wall seconds. Returns ``(seconds, train, test)`` rows."""
    from coordnet.runs.presets import get_preset

    fast = get_preset("fast")
    config = TrainConfig(
        steps=10**6, lr=lr, eval_every=fast.eval_every, bf16=fast.bf16, seed=seed, time_limit=budget
    )
    result = Trainer(make_model(spec, samples.train_values.shape[1], seed), samples, config).fit()
    return list(zip(result.eval_seconds, result.history.train_psnr, result.history.test_psnr))


def fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def time_to_psnr_main(args) -> int:
    samples = camera_samples()
    print(
        f"time to PSNR on camera 512² (train even pixels, test odd), threads {torch.get_num_threads()}, "
        f"load {os.getloadavg()[0]:.1f}, budget {args.budget:.0f} s per run"
    )
    rows, curves = [], {}
    for label, spec, lr, plain_lr in (*TTP_MODELS, PAPER_GAUSS):
        for loop in ("coordnet", "plain"):
            if label == PAPER_GAUSS[0] and loop == "coordnet":
                continue
            if loop == "coordnet":
                curve = coordnet_run(spec, samples, lr, args.budget, args.seed)
            else:
                curve = plain_loop(
                    make_model(spec, samples.train_values.shape[1], args.seed),
                    samples,
                    plain_lr,
                    args.budget,
                    25,
                )
            curves[(label, loop)] = curve
            row = {
                "model": label,
                "loop": loop,
                "spec": spec,
                "lr": lr if loop == "coordnet" else plain_lr,
                "best_test_psnr": max(r[2] for r in curve),
                "seconds": curve[-1][0],
                "load": os.getloadavg()[0],
            }
            for level in LEVELS:
                row[f"train_{level:g}"] = first_time(curve, 1, level)
                row[f"test_{level:g}"] = first_time(curve, 2, level)
            rows.append(row)
            print(
                f"  {label:12s} {loop:8s} train 25/30 dB at {fmt(row['train_25'])}/{fmt(row['train_30'])} s, "
                f"test 25/30 dB at {fmt(row['test_25'])}/{fmt(row['test_30'])} s, best test "
                f"{row['best_test_psnr']:.2f} dB",
                flush=True,
            )
    # Target: the fastest coordnet model's time to 30 dB test (or to its best test PSNR) vs the
    # paper's Gaussian MLP in the plain loop reaching the same PSNR (a lower bound if it never does).
    coordnet_rows = [r for r in rows if r["loop"] == "coordnet"]
    level_of = {r["model"]: min(30.0, r["best_test_psnr"]) for r in coordnet_rows}
    reach = {
        r["model"]: first_time(curves[(r["model"], "coordnet")], 2, level_of[r["model"]])
        for r in coordnet_rows
    }
    fastest = min(reach, key=lambda m: reach[m])
    level = level_of[fastest]
    paper = first_time(curves[(PAPER_GAUSS[0], "plain")], 2, level)
    bound = paper if paper is not None else curves[(PAPER_GAUSS[0], "plain")][-1][0]
    speedup = bound / reach[fastest]
    print(
        f"\nfastest coordnet model: {fastest}, {level:.2f} dB test at {reach[fastest]:.1f} s; paper gauss "
        f"(plain loop) {'at ' + f'{paper:.1f} s' if paper is not None else f'not within {bound:.0f} s'}: "
        f"{'' if paper is not None else '> '}{speedup:.1f}x sooner (target >= 10x)"
    )
    print(
        "\n| model | loop | train 25 dB (s) | train 30 dB (s) | test 25 dB (s) | test 30 dB (s) | best test PSNR |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['loop']} | {fmt(r['train_25'])} | {fmt(r['train_30'])} | {fmt(r['test_25'])} | "
            f"{fmt(r['test_30'])} | {r['best_test_psnr']:.2f} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "rows": rows,
                    "fastest": fastest,
                    "level": level,
                    "speedup": speedup,
                    "speedup_is_lower_bound": paper is None,
                },
                handle,
                indent=2,
            )
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,256")
    parser.add_argument("--specs", default="gauss,none")
    parser.add_argument(
        "--bf16-sizes", default="128,256", help="grid sizes also timed under bf16 ('' = none)"
    )
    parser.add_argument("--image", default="astronaut", help="3-channel image for the timings")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps of each loop first")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/trainer blocks")
    parser.add_argument("--per-round", type=int, default=2, help="steps per block")
    parser.add_argument("--bf16-warmup", type=int, default=1)
    parser.add_argument("--bf16-rounds", type=int, default=2)
    parser.add_argument("--bf16-per-round", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument("--psnr-spec", default="gauss")
    parser.add_argument("--psnr-size", type=int, default=128)
    parser.add_argument("--psnr-steps", type=int, default=300)
    parser.add_argument("--no-psnr", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the rows to this file")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="only: Trainer step vs its compute floor (encoder + MLP fwd/bwd + Adam, bare)",
    )
    parser.add_argument(
        "--floor-specs", default=";".join(FLOOR_SPECS), help="';'-separated specs for --floor"
    )
    parser.add_argument("--floor-steps", type=int, default=50)
    parser.add_argument("--trainer-reps", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument(
        "--time-to-psnr",
        action="store_true",
        help="only: wall time to 25/30 dB, coordnet vs the reference repositories' plain loops",
    )
    parser.add_argument(
        "--budget", type=float, default=60.0, help="wall seconds per --time-to-psnr run"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.floor:
        return floor_main(args)
    if args.time_to_psnr:
        return time_to_psnr_main(args)

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    bf16_sizes = {int(s) for s in args.bf16_sizes.split(",") if s}
    specs = [s for s in args.specs.split(",") if s]
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}"
    )
    rows: List[Dict] = []
    for size in sizes:
        split = split_signal(load_signal(args.image, size=size), "full")
        samples = Samples(split.train_coords, split.train_values)
        n = samples.train_coords.shape[0]
        rate32 = gemm_rate(n, torch.float32)
        modes = [False] + ([True] if size in bf16_sizes else [])
        rate16 = gemm_rate(min(n, 16384), torch.bfloat16) if True in modes else None
        print(
            f"\n{size}x{size} full grid, N={n}: GEMM (N×256)·(256×256) fp32 {rate32 / 1e9:.1f} GFLOP/s"
            + (f", bf16 {rate16 / 1e9:.1f} GFLOP/s" if rate16 else "")
        )
        for spec in specs:
            for bf16 in modes:
                warm, rounds, per = (
                    (args.bf16_warmup, args.bf16_rounds, args.bf16_per_round)
                    if bf16
                    else (args.warmup, args.rounds, args.per_round)
                )
                bare_d, train_d, inner = time_pair(
                    spec, samples, warm, rounds, per, bf16, args.seed
                )
                trainer = {
                    "median": statistics.median(train_d),
                    "train_step_seconds_per_step": statistics.median(inner),
                }
                bare = {"median": statistics.median(bare_d)}
                fwd = forward_flops(make_model(spec, 3, args.seed), n)
                floor = 3 * fwd / (rate16 if bf16 else rate32)
                row = {
                    "size": size,
                    "n": n,
                    "spec": spec,
                    "dtype": "bf16" if bf16 else "fp32",
                    "trainer_s": trainer["median"],
                    "trainer_train_step_s": trainer["train_step_seconds_per_step"],
                    "bare_s": bare["median"],
                    "floor_s": floor,
                    "mlp_gflop_per_step": 3 * fwd / 1e9,
                    "gemm_gflops": (rate16 if bf16 else rate32) / 1e9,
                    "trainer_over_bare": trainer["median"] / bare["median"],
                    "bare_over_floor": bare["median"] / floor,
                    "warmup": warm,
                    "timed_steps": len(bare_d),
                    "bare_steps_s": bare_d,
                    "trainer_steps_s": train_d,
                    "loadavg_1min": os.getloadavg()[0],
                }
                rows.append(row)
                print(
                    f"  {spec:6s} {row['dtype']}: trainer {row['trainer_s'] * 1e3:8.1f} ms/step "
                    f"({1 / row['trainer_s']:.2f} steps/s)  bare {row['bare_s'] * 1e3:8.1f} ms  "
                    f"floor {floor * 1e3:8.1f} ms  trainer/bare {row['trainer_over_bare']:.3f}  "
                    f"bare/floor {row['bare_over_floor']:.2f}",
                    flush=True,
                )
            if True in modes:
                r32 = next(
                    r
                    for r in rows
                    if r["size"] == size and r["spec"] == spec and r["dtype"] == "fp32"
                )
                r16 = rows[-1]
                print(
                    f"  {spec:6s} bf16 speed-up (fp32/bf16): bare {r32['bare_s'] / r16['bare_s']:.2f}x, "
                    f"trainer {r32['trainer_s'] / r16['trainer_s']:.2f}x",
                    flush=True,
                )

    if not args.no_psnr:
        print(
            f"\nPSNR after {args.psnr_steps} steps, camera {args.psnr_size}x{args.psnr_size} full grid, "
            f"spec {args.psnr_spec} (out_dim=1):"
        )
        p = {}
        for bf16 in (False, True):
            p[bf16] = psnr_run(args.psnr_spec, args.psnr_size, args.psnr_steps, bf16, args.seed)
            print(
                f"  {'bf16' if bf16 else 'fp32'}: train PSNR {p[bf16]['train_psnr']:.2f} dB "
                f"(fp32 eval {p[bf16]['train_psnr_fp32_eval']:.2f} dB), {p[bf16]['seconds']:.1f} s",
                flush=True,
            )
        cost = p[False]["train_psnr"] - p[True]["train_psnr"]
        print(
            f"  bf16 PSNR cost: {cost:.2f} dB (fp32 - bf16, trainer's own eval); "
            f"{p[False]['train_psnr_fp32_eval'] - p[True]['train_psnr_fp32_eval']:.2f} dB with fp32 eval"
        )
        rows.append(
            {
                "psnr_size": args.psnr_size,
                "psnr_steps": args.psnr_steps,
                "spec": args.psnr_spec,
                "fp32": p[False],
                "bf16": p[True],
                "bf16_psnr_cost_db": cost,
            }
        )

    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)
        print(f"\nrows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
