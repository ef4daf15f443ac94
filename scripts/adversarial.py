"""Adversarial pass over coordnet: generated CLI cases and Python API probes; prints totals.

Not part of the test suite (it runs for minutes). Usage::

    python scripts/adversarial.py [--cli] [--api] [--out FOLDER] [--case-timeout 60]

CLI cases run in one worker process (``CliRunner``, an alarm per case), except kills and
concurrent jobs, which start real ``coordnet`` processes one or two at a time. API probes run
in a child process under a 6 GiB address-space limit (``COORDNET_MAX_MEMORY=3e9``) with a 10 s
alarm each; a probe that kills or hangs the child is recorded and the child restarted after it.

A CLI case holds when the command exits 0, or exits 1/2 with exactly one ``error: ...`` line
on stderr, no traceback and no unexpected exception type; and nothing outside its folder
changed. An API probe holds when the call returns or raises ``ValueError``/``TypeError``
(``OSError`` for paths) with a one-line message. Every failure is listed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
QUICK = ["--steps", "3", "--eval-every", "1", "--quiet", "--time", "20s"]
TINY_MODEL = ["-m", "relu:width=8,depth=1"]


class CaseTimeout(Exception):
    pass


def _alarm(seconds: int) -> None:
    def handler(signum, frame):
        raise CaseTimeout(f"no result within {seconds} s")

    signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)


# ----------------------------------------------------------------------------- inputs


def _wav(path: str, fmt=1, ch=1, rate=8000, bits=16, data=b"\x00\x00" * 16) -> None:
    chunk = struct.pack("<HHIIHH", fmt, ch, rate, rate * ch * bits // 8, ch * bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(chunk)) + chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    with open(path, "wb") as handle:
        handle.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def _png_header(path: str, width: int, height: int) -> None:
    """A PNG whose header claims ``width x height`` with almost no data (a bomb or truncated)."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    with open(path, "wb") as handle:
        handle.write(
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
        )


def make_files(folder: str) -> Dict[str, str]:
    """Bad (and a few good) signal files; name -> path."""
    import imageio.v3 as iio
    import numpy as np

    rng = np.random.default_rng(0)
    files: Dict[str, str] = {}

    def add(name: str, writer: Callable[[str], Any]) -> None:
        path = os.path.join(folder, name)
        try:
            writer(path)
            files[name] = path
        except Exception as error:  # a writer this platform refuses: not a case
            print(f"skipped input {name}: {error}", file=sys.stderr)

    text = lambda content: lambda p: open(p, "w").write(content)  # noqa: E731
    raw = lambda content: lambda p: open(p, "wb").write(content)  # noqa: E731
    save = lambda array: lambda p: np.save(p, array)  # noqa: E731
    add("empty.png", raw(b""))
    add("text.png", text("not an image\n"))
    add(
        "truncated.png",
        lambda p: open(p, "wb").write(
            iio.imwrite("<bytes>", rng.integers(0, 255, (32, 32), np.uint8), extension=".png")[:60]
        ),
    )
    add("one.png", lambda p: iio.imwrite(p, np.zeros((1, 1), np.uint8)))
    add("line.png", lambda p: iio.imwrite(p, np.zeros((1, 40), np.uint8)))
    add("ga.png", lambda p: iio.imwrite(p, np.zeros((8, 8, 2), np.uint8)))
    add("rgb16.png", lambda p: iio.imwrite(p, rng.integers(0, 65535, (8, 8, 3), dtype=np.uint16)))
    add("ok.png", lambda p: iio.imwrite(p, rng.integers(0, 255, (12, 12, 3), np.uint8)))
    add("bomb.png", lambda p: _png_header(p, 100_000, 100_000))
    add("wide.png", lambda p: _png_header(p, 2**31 - 1, 1))
    add("liar.png", lambda p: _png_header(p, 4000, 4000))
    add(
        "ok.jpg",
        lambda p: iio.imwrite(p, rng.integers(0, 255, (12, 12, 3), np.uint8), extension=".jpg"),
    )
    add("text.jpg", text("jpeg?"))
    add("nan.tif", lambda p: iio.imwrite(p, np.full((6, 6), np.nan, np.float32), extension=".tif"))
    add("pages.tif", lambda p: iio.imwrite(p, np.zeros((3, 6, 6), np.uint8), extension=".tif"))
    add("text.tif", text("tiff?"))
    add("folder.png", lambda p: os.mkdir(p))
    add("zero.npy", lambda p: os.symlink("/dev/zero", p))
    add("loop.png", lambda p: os.symlink(p, p))
    add("obj.npy", lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True))
    add("complex.npy", save(np.ones(8, np.complex64)))
    add("scalar.npy", save(np.float64(1.0)))
    add("4d.npy", save(np.zeros((2, 2, 2, 2))))
    add("nan.npy", save(np.array([0.0, np.nan, 1.0])))
    add("inf.npy", save(np.array([0.0, np.inf, 1.0])))
    add("huge.npy", save(np.array([0.0, 1e300, 1.0])))
    add("empty.npy", save(np.zeros((0,))))
    add("bool.npy", save(np.array([True, False, True, False])))
    add("int64.npy", save(np.array([-(2**63), 2**63 - 1, 0, 5], np.int64)))
    add("vol.npy", save(rng.random((6, 6, 6)) > 0.5))
    add("vol1.npy", save(np.zeros((1, 1, 1))))
    add("series.npy", save(rng.random((16, 2))))
    add("text.npy", text("not numpy"))
    add("empty.csv", raw(b""))
    add("header.csv", text("a,b\n"))
    add("words.csv", text("a,b\nx,y\n"))
    add("nan.csv", text("1\nnan\n2\n"))
    add("inf.csv", text("1\ninf\n2\n"))
    add("ragged.csv", text("1,2\n3\n4,5,6\n"))
    add("onerow.csv", text("1.0\n"))
    add("big.csv", text("1e400\n2\n3\n"))
    add("bom.csv", raw(b"\xef\xbb\xbf1\n2\n3\n"))
    add("utf16.csv", lambda p: open(p, "w", encoding="utf-16").write("1\n2\n3\n"))
    add("binary.csv", raw(bytes(range(256))))
    add("ok.csv", text("\n".join(str(v) for v in rng.random(24)) + "\n"))
    add("text.wav", text("hello\n"))
    add("riff.wav", raw(b"RIFF" + b"\x00" * 40))
    add("ch0.wav", lambda p: _wav(p, ch=0))
    add("rate0.wav", lambda p: _wav(p, rate=0))
    add("bits0.wav", lambda p: _wav(p, bits=0))
    add("bits12.wav", lambda p: _wav(p, bits=12))
    add("fmt99.wav", lambda p: _wav(p, fmt=99))
    add(
        "inf.wav",
        lambda p: _wav(p, fmt=3, bits=32, data=np.array([0.1, np.inf, -0.2, 0.3], "<f4").tobytes()),
    )
    add(
        "nan.wav",
        lambda p: _wav(p, fmt=3, bits=32, data=np.array([0.1, np.nan, -0.2, 0.3], "<f4").tobytes()),
    )
    add(
        "big.wav",
        lambda p: _wav(p, fmt=3, bits=32, data=np.array([0.1, 1e30, -0.2, 0.3], "<f4").tobytes()),
    )
    add("one.wav", lambda p: _wav(p, data=b"\x10\x00"))
    add("odd.wav", lambda p: _wav(p, data=b"\x10\x00\x20"))
    add("stereo.wav", lambda p: _wav(p, ch=2, data=b"\x10\x00" * 32))
    add("pcm24.wav", lambda p: _wav(p, bits=24, data=b"\x10\x00\x00" * 16))
    add("pcm8.wav", lambda p: _wav(p, bits=8, data=bytes(range(16))))
    add(
        "ok.wav", lambda p: _wav(p, data=np.asarray(rng.integers(-3000, 3000, 64), "<i2").tobytes())
    )
    add("noext", text("1\n2\n"))
    add("fifo.csv", lambda p: os.mkfifo(p))
    return files


def make_specs(folder: str) -> List[str]:
    specs = [
        "",
        " ",
        "relu",
        "none",
        "pe:num_frequencies=-1",
        "pe:num_frequencies=0",
        "pe:num_frequencies=1000000000",
        "pe:num_frequencies=1.5",
        "gauss:sigma=nan",
        "gauss:sigma=inf",
        "gauss:sigma=-1",
        "gauss:num_frequencies=0",
        "hash:log2_table_size=64",
        "hash:num_levels=0",
        "hash:num_levels=100000",
        "relu:width=0",
        "relu:width=-5",
        "relu:depth=1000000",
        "relu:width=100000000",
        "siren:omega=nan",
        "siren:omega=0",
        "pe+pe+relu",
        "::",
        "pe:=",
        "pe:num_frequencies",
        "pe:x=1",
        "unknown",
        "relu:width=8,width=9",
        "é",
        "pe:" + "a" * 100_000,
        "pe:num_frequencies=1e400",
        "triwave:num_frequencies=10000000",
        "oneblob:num_bins=0",
        "sh:degree=100",
        "relu:width=true",
        "gauss-act:sigma=0",
        "wire:omega=nan",
        "finer:omega=-1",
        "tcnn:width=0",
        "relu:depth=-1",
    ]
    toml_files = {
        "empty.toml": b"",
        "nested.toml": ("[encoder]\ntype = 'pe'\nx = " + "[" * 3000 + "]" * 3000 + "\n").encode(),
        "utf16.toml": "[encoder]\ntype = 'pe'\n".encode("utf-16"),
        "binary.toml": bytes(range(256)),
        "badkey.toml": b"[encoder]\ntype = 'pe'\nnum_frequencies = 'x'\n[net]\ntype='relu'\n",
        "nonet.toml": b"[encoder]\ntype = 'pe'\n",
        "ok.toml": b"[encoder]\ntype = 'pe'\nnum_frequencies = 2\n[net]\ntype = 'relu'\nwidth = 8\ndepth = 1\n",
        "big.toml": b"# " + b"x" * (20 * 1024 * 1024) + b"\n",
    }
    for name, content in toml_files.items():
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(content)
        specs.append(os.path.join(folder, name))
    specs.append("/dev/zero")
    return specs


NUMBER_VALUES = [
    "0",
    "-1",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "1e309",
    str(10**30),
    "",
    " ",
    "abc",
    "1e3",
    "0x10",
    str(2**63),
    str(2**64),
    "3",
]
NUMBER_OPTIONS = [
    "--steps",
    "--size",
    "--lr",
    "--batch-size",
    "--seed",
    "--eval-every",
    "--patience",
    "--time",
    "--checkpoint-every",
    "--probe-every",
    "--split",
]
SPLIT_VALUES = [
    "full",
    "tancik",
    "holdout:0",
    "holdout:1",
    "holdout:0.5",
    "holdout:nan",
    "holdout:-1",
    "holdout:",
    "x",
    "",
]


def cli_cases(
    work: str, files: Dict[str, str], specs: List[str]
) -> List[Tuple[str, List[str], Dict[str, str]]]:
    """(name, argv, env) of every in-process CLI case."""
    cases = []
    out = lambda name: os.path.join(work, "out", name)  # noqa: E731
    n = 0

    def case(name, argv, env=None):
        nonlocal n
        n += 1
        cases.append((f"{n:04d} {name}", [str(a) for a in argv], env or {}))

    for name, path in sorted(files.items()):
        case(f"fit file {name}", ["fit", path, *QUICK, *TINY_MODEL, "--out", out(f"f{n}")])
        if name.endswith((".png", ".jpg", ".tif")):
            case(
                f"fit file {name} --size 8",
                ["fit", path, *QUICK, *TINY_MODEL, "--size", "8", "--out", out(f"f{n}")],
            )
    for spec in specs:
        case(
            f"fit -m {spec[:40]!r}",
            ["fit", "camera", "--size", "8", *QUICK, "-m", spec, "--out", out(f"m{n}")],
        )
    for option in NUMBER_OPTIONS:
        values = SPLIT_VALUES if option == "--split" else NUMBER_VALUES
        for value in values:
            base = (
                [a for a in QUICK if option != "--time"]
                if option != "--time"
                else ["--steps", "3", "--quiet"]
            )
            case(
                f"fit {option} {value!r}",
                [
                    "fit",
                    "camera",
                    "--size",
                    "8",
                    *base,
                    *TINY_MODEL,
                    option,
                    value,
                    "--out",
                    out(f"n{n}"),
                ],
            )
    for option in ("--seeds", "--steps", "--size"):
        for value in ("0", "-1", "1.5", str(10**9), str(2**64), "abc"):
            case(
                f"compare {option} {value}",
                [
                    "compare",
                    "camera",
                    "--size",
                    "8",
                    *QUICK,
                    *TINY_MODEL,
                    option,
                    value,
                    "--out",
                    out(f"c{n}"),
                ],
            )
    for spec_pair in (
        ["-m", "relu", "-m", "relu"],
        ["-m", ""],
        ["-m", "pe", "-m", " "],
        ["-m", "nope"],
    ):
        case(
            f"compare {spec_pair}",
            ["compare", "camera", "--size", "8", *QUICK, *spec_pair, "--out", out(f"c{n}")],
        )
    return cases


def path_cases(work: str, checkpoint: str) -> List[Tuple[str, List[str], Dict[str, str]]]:
    """Bad --out paths for fit, compare, render and regions."""
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    victim = os.path.join(work, "victim.txt")
    with open(victim, "w") as handle:
        handle.write("precious\n")
    special = os.path.join(work, "special")
    os.makedirs(special, exist_ok=True)
    linked = os.path.join(special, "linked-lock")
    os.makedirs(linked, exist_ok=True)
    os.symlink(victim, os.path.join(linked, ".coordnet.lock"))
    fifo_lock = os.path.join(special, "fifo-lock")
    os.makedirs(fifo_lock, exist_ok=True)
    os.mkfifo(os.path.join(fifo_lock, ".coordnet.lock"))
    dir_lock = os.path.join(special, "dir-lock")
    os.makedirs(os.path.join(dir_lock, ".coordnet.lock"), exist_ok=True)
    a_file = os.path.join(special, "a-file")
    open(a_file, "w").close()
    loop = os.path.join(special, "loop")
    os.symlink(loop, loop)
    os.mkfifo(os.path.join(special, "pipe.png"))
    os.symlink(victim, os.path.join(special, "link.png"))
    outs = [
        "",
        " ",
        "~/fitx",
        "~nosuchuser/x",
        a_file,
        os.path.join(a_file, "sub"),
        loop,
        os.path.join(loop, "x"),
        "x" * 5000,
        os.path.join(work, "y" * 300),
        "/proc/coordnet-x",
        linked,
        fifo_lock,
        dir_lock,
        "bad\x00path",
        os.path.join(work, "ok-out"),
    ]
    env = {"HOME": home}
    cases = []
    for i, target in enumerate(outs):
        label = repr(target[:40])
        cases.append(
            (
                f"p{i:02d} fit --out {label}",
                ["fit", "camera", "--size", "8", *QUICK, *TINY_MODEL, "--out", target],
                env,
            )
        )
        cases.append(
            (
                f"p{i:02d} compare --out {label}",
                ["compare", "camera", "--size", "8", *QUICK, *TINY_MODEL, "--out", target],
                env,
            )
        )
        cases.append(
            (
                f"p{i:02d} regions --out {label}",
                ["regions", "--init", "relu:width=8,depth=1", "--size", "8", "--out", target],
                env,
            )
        )
        png = target if target.endswith(".png") else os.path.join(target, "r.png")
        cases.append(
            (f"p{i:02d} render --out {png[:40]!r}", ["render", checkpoint, "--out", png], env)
        )
    for target in (
        "/dev/null",
        os.path.join(special, "pipe.png"),
        os.path.join(special, "link.png"),
        special,
        "~/r.png",
        os.path.join(work, "missing", "r.png"),
        "r.jpg",
    ):
        cases.append((f"render --out {target!r}", ["render", checkpoint, "--out", target], env))
    for size in ("0x0", "1x1", "100000x100000", "axb", "-1x5", "10x10x10", "", "8x8", "4000x4000"):
        cases.append(
            (
                f"render --size {size!r}",
                ["render", checkpoint, "--size", size, "--out", os.path.join(work, "render.png")],
                env,
            )
        )
    for chunk in ("0", "-1", "1", str(10**12), "1e3", "abc"):
        cases.append(
            (
                f"render --chunk {chunk}",
                [
                    "render",
                    checkpoint,
                    "--size",
                    "64x64",
                    "--chunk",
                    chunk,
                    "--out",
                    os.path.join(work, "render.png"),
                ],
                {"COORDNET_MAX_MEMORY": "200000000"},
            )
        )
    return cases


def checkpoint_cases(work: str, checkpoint: str) -> List[Tuple[str, List[str], Dict[str, str]]]:
    """Corrupted checkpoints given to render and fit --resume."""
    data = open(checkpoint, "rb").read()
    variants = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "text": b"hello",
        "flipped": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
        "tail": data[:-10],
        "zeros": b"\x00" * len(data),
    }
    cases = []
    for name, content in variants.items():
        path = os.path.join(work, f"ck-{name}.pt")
        with open(path, "wb") as handle:
            handle.write(content)
        cases.append(
            (
                f"render checkpoint {name}",
                ["render", path, "--out", os.path.join(work, f"r-{name}.png")],
                {},
            )
        )
        folder = os.path.join(work, f"resume-{name}")
        os.makedirs(folder, exist_ok=True)
        shutil.copy(path, os.path.join(folder, "checkpoint.pt"))
        cases.append(
            (
                f"fit --resume checkpoint {name}",
                ["fit", "camera", "--size", "12", *QUICK, *TINY_MODEL, "--resume", "--out", folder],
                {},
            )
        )
    for name in ("missing.pt", "folder"):
        cases.append(
            (
                f"render {name}",
                ["render", os.path.join(work, name), "--out", os.path.join(work, "r.png")],
                {},
            )
        )
    return cases


def sweep_cases(work: str) -> List[Tuple[str, List[str], Dict[str, str]]]:
    grid = lambda n: ", ".join(str(i + 1) for i in range(n))  # noqa: E731
    base = 'images = ["camera"]\nsize = 8\nsteps = 2\n'
    model = '[[models]]\nspec = "relu:width=8,depth=1"\n'
    files = {
        "huge-grid": base
        + '[[models]]\nspec = "pe+relu"\n[models.grid]\n'
        + f"num_frequencies = [{grid(1000)}]\nwidth = [{grid(1000)}]\ndepth = [{grid(1000)}]\n",
        "long-name": f'name = "{"n" * 2_000_000}"\n' + base + model,
        "control-name": 'name = "a\\u0007b"\n' + base + model,
        "nested": "x = " + "[" * 3000 + "]" * 3000 + "\n",
        "empty": "",
        "no-models": base,
        "bad-steps": 'images = ["camera"]\nsteps = -1\n' + model,
        "float-steps": 'images = ["camera"]\nsteps = 1.5\n' + model,
        "huge-seeds": base + "seeds = 1000000000\n" + model,
        "dup-seeds": base + "seeds = [1, 1]\n" + model,
        "missing-image": 'images = ["nope.png"]\nsteps = 2\n' + model,
        "bad-spec": base + '[[models]]\nspec = "pe:num_frequencies=-1"\n',
        "bad-grid": base + '[[models]]\nspec = "relu"\n[models.grid]\nwidth = []\n',
        "grid-type": base + '[[models]]\nspec = "relu"\n[models.grid]\nwidth = ["x"]\n',
        "unknown-key": base + "colour = 1\n" + model,
        "bad-device": base + 'device = "tpu"\n' + model,
        "bad-split": base + 'split = "holdout:2"\n' + model,
        "ok": base + model,
    }
    cases = []
    for name, text in files.items():
        path = os.path.join(work, f"sweep-{name}.toml")
        with open(path, "w") as handle:
            handle.write(text)
        cases.append(
            (
                f"sweep {name} --dry-run",
                ["sweep", path, "--dry-run", "--out", os.path.join(work, f"sw-{name}")],
                {},
            )
        )
    for raw_name, content in (
        ("utf16", "steps = 1\n".encode("utf-16")),
        ("binary", bytes(range(256))),
    ):
        path = os.path.join(work, f"sweep-{raw_name}.toml")
        with open(path, "wb") as handle:
            handle.write(content)
        cases.append((f"sweep {raw_name} --dry-run", ["sweep", path, "--dry-run"], {}))
    cases.append(("sweep /dev/zero", ["sweep", "/dev/zero", "--dry-run"], {}))
    cases.append(("sweep missing", ["sweep", os.path.join(work, "nope.toml"), "--dry-run"], {}))
    for workers in ("0", "-1", "1000", "abc"):
        cases.append(
            (
                f"sweep --workers {workers}",
                ["sweep", os.path.join(work, "sweep-ok.toml"), "--dry-run", "--workers", workers],
                {},
            )
        )
    return cases


def regions_cases(work: str, files: Dict[str, str]) -> List[Tuple[str, List[str], Dict[str, str]]]:
    cases = []
    for option, values in (
        ("--size", ["0", "1", "-1", "100000", "abc", "8"]),
        ("--init", ["relu:width=8,depth=1", "siren", "", "pe+relu:width=4", "relu:width=0"]),
    ):
        for value in values:
            base = [] if option == "--init" else ["--init", "relu:width=8,depth=1"]
            if option == "--init":
                base += ["--size", "8"]
            cases.append(
                (
                    f"regions {option} {value!r}",
                    [
                        "regions",
                        *base,
                        option,
                        value,
                        "--out",
                        os.path.join(work, f"rg-{len(cases)}"),
                    ],
                    {},
                )
            )
    # classifier-spectrum: untrusted and broken models
    data = os.path.join(work, "cls-data")
    import numpy as np

    from coordnet.signals import save_image

    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        os.makedirs(os.path.join(data, name), exist_ok=True)
        for i in range(2):
            save_image(
                os.path.join(data, name, f"{i}.png"), rng.random((4, 4, 3)).astype(np.float32)
            )
    import torch

    models = {}
    models["state"] = os.path.join(work, "state.pt")
    torch.save(torch.nn.Linear(48, 2).state_dict(), models["state"])
    models["pickled"] = os.path.join(work, "pickled.pt")
    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 2)), models["pickled"])
    models["text"] = os.path.join(work, "text.pt")
    open(models["text"], "w").write("model")
    models["missing"] = os.path.join(work, "missing.pt")
    for name, path in models.items():
        for extra in (
            [],
            ["--trust-pickle"],
            ["--pairs", "0"],
            ["--samples", "1"],
            ["--chunk", "0"],
            ["--layout", "flat"],
            ["--step", "nan"],
        ):
            cases.append(
                (
                    f"classifier-spectrum {name} {extra}",
                    [
                        "classifier-spectrum",
                        path,
                        data,
                        "--pairs",
                        "2",
                        "--samples",
                        "4",
                        *extra,
                        "--out",
                        os.path.join(work, f"cs-{len(cases)}"),
                    ],
                    {},
                )
            )
    cases.append(
        (
            "classifier-spectrum empty data",
            ["classifier-spectrum", models["pickled"], files["ok.png"], "--trust-pickle"],
            {},
        )
    )
    return cases


# ----------------------------------------------------------------------------- running


def run_cli_case(argv: List[str], env: Dict[str, str], timeout: int) -> Tuple[bool, str]:
    from click.testing import CliRunner

    from coordnet.cli.main import cli

    _alarm(timeout)
    try:
        result = CliRunner().invoke(cli, argv, prog_name="coordnet", env=env)
    except CaseTimeout as error:
        return False, f"timeout: {error}"
    finally:
        signal.alarm(0)
    if isinstance(result.exception, CaseTimeout):
        return False, f"timeout after {timeout} s"
    stderr = result.stderr.strip()
    lines = [
        line for line in stderr.splitlines() if line.strip() and not line.startswith("warning: ")
    ]
    if result.exit_code == 0:
        return True, "exit 0"
    if "Traceback" in result.output:
        return False, f"traceback (exit {result.exit_code})"
    if result.exit_code not in (1, 2):
        exception = result.exception
        return False, f"exit {result.exit_code}: {type(exception).__name__}: {str(exception)[:160]}"
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return False, f"exit {result.exit_code} with {len(lines)} stderr lines: {stderr[:200]!r}"
    if "rerun with --debug" in lines[0] or lines[0].strip() in (
        "error: RuntimeError",
        "error: ValueError",
    ):
        return False, f"unexpected exception: {lines[0][:200]}"
    return True, lines[0][:160]


def kill_cases(work: str, count: int, rng: random.Random) -> List[Tuple[str, bool, str]]:
    """Fits killed with SIGKILL at random points, then resumed: the resume must finish."""
    results = []
    exe = [sys.executable, "-m", "coordnet"]
    for i in range(count):
        folder = os.path.join(work, f"kill-{i}")
        args = [
            "fit",
            "camera",
            "--size",
            "24",
            "--steps",
            "400",
            "--eval-every",
            "50",
            "--checkpoint-every",
            "20",
            "--quiet",
            "--time",
            "0",
            *TINY_MODEL,
            "--out",
            folder,
        ]
        process = subprocess.Popen(
            exe + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work
        )
        delay = rng.uniform(3.0, 12.0)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        resumed = subprocess.run(
            exe + args + ["--resume"], capture_output=True, text=True, cwd=work, timeout=300
        )
        ok = resumed.returncode == 0 and os.path.exists(os.path.join(folder, "metrics.json"))
        if not ok and not os.path.exists(os.path.join(folder, "checkpoint.pt")):
            fresh = subprocess.run(
                exe + args, capture_output=True, text=True, cwd=work, timeout=300
            )
            ok = fresh.returncode == 0  # killed before the first checkpoint: a fresh fit works
        leftovers = (
            [n for n in os.listdir(folder) if n.startswith(".tmp-")]
            if os.path.isdir(folder)
            else []
        )
        detail = f"killed after {delay:.1f} s; resume exit {resumed.returncode}: {resumed.stderr.strip()[-200:]}"
        results.append(
            (
                f"kill {i} at {delay:.1f}s",
                ok and not leftovers,
                detail + (f"; leftovers {leftovers}" if leftovers else ""),
            )
        )
    return results


def concurrency_cases(work: str) -> List[Tuple[str, bool, str]]:
    """Two jobs on one folder at once; a lock file deleted while its holder runs."""
    results = []
    exe = [sys.executable, "-m", "coordnet"]
    for i, second in enumerate(
        ("fit", "compare", "regions", "fit-resume", "deleted-lock", "render")
    ):
        folder = os.path.join(work, f"conc-{i}")
        first = subprocess.Popen(
            exe
            + [
                "fit",
                "camera",
                "--size",
                "24",
                "--steps",
                "100000",
                "--time",
                "25s",
                "--quiet",
                *TINY_MODEL,
                "--out",
                folder,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=work,
            text=True,
        )
        lock = os.path.join(folder, ".coordnet.lock")
        deadline = time.time() + 60
        while time.time() < deadline and not os.path.exists(lock):
            time.sleep(0.2)
        time.sleep(1.0)
        if second == "deleted-lock" and os.path.exists(lock):
            os.unlink(lock)
        args = {
            "fit": [
                "fit",
                "camera",
                "--size",
                "24",
                "--steps",
                "3",
                "--quiet",
                *TINY_MODEL,
                "--out",
                folder,
            ],
            "compare": [
                "compare",
                "camera",
                "--size",
                "8",
                "--steps",
                "3",
                "--quiet",
                *TINY_MODEL,
                "--out",
                folder,
            ],
            "regions": [
                "regions",
                "--init",
                "relu:width=8,depth=1",
                "--size",
                "8",
                "--out",
                folder,
            ],
            "fit-resume": [
                "fit",
                "camera",
                "--size",
                "24",
                "--steps",
                "3",
                "--quiet",
                *TINY_MODEL,
                "--resume",
                "--out",
                folder,
            ],
            "deleted-lock": [
                "fit",
                "camera",
                "--size",
                "24",
                "--steps",
                "3",
                "--quiet",
                *TINY_MODEL,
                "--resume",
                "--out",
                folder,
            ],
            "render": None,
        }[second]
        if args is None:
            results.append((f"concurrent {second}", True, "skipped: needs a checkpoint"))
            first.kill()
            first.wait()
            continue
        other = subprocess.run(exe + args, capture_output=True, text=True, cwd=work, timeout=300)
        still_running = first.poll() is None
        first.kill()
        first.wait()
        ok = other.returncode == 1 and "in use" in other.stderr if still_running else True
        results.append(
            (
                f"concurrent {second}",
                ok,
                f"second exit {other.returncode}: {other.stderr.strip()[-200:]} (first still running: {still_running})",
            )
        )
    return results


def run_cli(work: str, timeout: int, kills: int) -> List[Tuple[str, bool, str]]:
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(work, "files"), exist_ok=True)
    files = make_files(os.path.join(work, "files"))
    specs = make_specs(os.path.join(work, "files"))
    fitted = os.path.join(work, "fitted")
    ok, detail = run_cli_case(
        ["fit", "camera", "--size", "12", *QUICK, *TINY_MODEL, "--out", fitted], {}, 300
    )
    if not ok:
        raise SystemExit(f"the reference fit failed: {detail}")
    checkpoint = os.path.join(fitted, "checkpoint.pt")
    victim = os.path.join(work, "victim.txt")
    cases = cli_cases(work, files, specs) + path_cases(work, checkpoint)
    cases += checkpoint_cases(work, checkpoint) + sweep_cases(work) + regions_cases(work, files)
    results = []
    cwd = os.getcwd()
    os.chdir(work)
    try:
        for name, argv, env in cases:
            started = time.time()
            try:
                ok, detail = run_cli_case(argv, env, timeout)
            except BaseException as error:  # noqa: BLE001 - the runner itself must go on
                ok, detail = False, f"runner: {type(error).__name__}: {error}"
            if open(victim).read() != "precious\n":
                ok, detail = False, f"victim.txt was written: {detail}"
                with open(victim, "w") as handle:
                    handle.write("precious\n")
            results.append((name, ok, f"{detail} [{time.time() - started:.1f} s]"))
            print(("ok   " if ok else "FAIL ") + name + ": " + detail[:160], flush=True)
    finally:
        os.chdir(cwd)
    results += kill_cases(work, kills, random.Random(0))
    results += concurrency_cases(work)
    return results


# ----------------------------------------------------------------------------- API probes

BAD_VALUES: List[Tuple[str, str]] = [
    ("None", "None"),
    ("-1", "-1"),
    ("0", "0"),
    ("1.5", "1.5"),
    ("nan", "float('nan')"),
    ("inf", "float('inf')"),
    ("1e12", "10**12"),
    ("str", "'x'"),
    ("True", "True"),
    ("[]", "[]"),
    ("-1e308", "-1e308"),
    ("2**64", "2**64"),
]


def api_targets() -> List[str]:
    import coordnet
    import coordnet.encoders
    import coordnet.nets
    import coordnet.ops
    import coordnet.regions
    import coordnet.signals
    import coordnet.spectral
    import coordnet.training

    names = []
    for module in (
        coordnet,
        coordnet.encoders,
        coordnet.nets,
        coordnet.signals,
        coordnet.spectral,
        coordnet.regions,
        coordnet.training,
        coordnet.ops,
    ):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if callable(obj) and not (isinstance(obj, type) and issubclass(obj, BaseException)):
                names.append(f"{module.__name__}:{name}")
    return sorted(set(names))


def _good(name: str, tmp: str) -> Any:
    """A valid value for a parameter called ``name`` (``...`` when unknown)."""
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    table = {
        "in_dim": 2,
        "out_dim": 1,
        "n_input_dims": 2,
        "num_frequencies": 4,
        "sigma": 1.0,
        "x": torch.rand(4, 2),
        "coords": torch.rand(4, 2),
        "inputs": torch.rand(4, 2),
        "image": torch.rand(8, 8),
        "values": torch.rand(8, 1),
        "net": net,
        "model": net,
        "network": net,
        "spec": "relu:width=8,depth=1",
        "kmax": 4,
        "bias": True,
        "num_lines": 2,
        "num_pairs": 2,
        "num_bands": 2,
        "size": 8,
        "steps": 2,
        "seed": 0,
        "num_levels": 2,
        "width": 8,
        "depth": 1,
        "path": os.path.join(tmp, "ok.png"),
        "source": "camera",
        "signal": "camera",
        "name": "camera",
        "array": torch.rand(8, 8).numpy(),
        "config": {"otype": "Frequency", "n_frequencies": 2},
        "domain": None,
        "B": torch.rand(4, 2),
        "scale": 1.0,
        "lr": 1e-3,
        "shape": "sphere",
        "resolution": 8,
        "degree": 2,
        "num_bins": 4,
        "max_samples": None,
        "device": "cpu",
        "a": torch.rand(8),
        "b": torch.rand(8),
        "prediction": torch.rand(8, 8, 1),
        "target": torch.rand(8, 8, 1),
        "grid_shape": (8, 8),
        "mode": "auto",
        "dim": 2,
    }
    return table.get(name, ...)


#: Arguments that keep the entry points' runs tiny while another argument is probed.
FIXED = {
    "coordnet:fit": {
        "model": "relu:width=8,depth=1",
        "steps": 2,
        "size": 8,
        "progress": False,
        "time_limit": 5,
    },
    "coordnet:compare": {
        "models": ["relu:width=8,depth=1"],
        "steps": 2,
        "size": 8,
        "progress": False,
        "time_limit": 5,
    },
}


def api_probes() -> List[Tuple[str, str, Any, str]]:
    """(probe id, target, parameter, value text) of the API probes: every public callable x its
    first parameters (all of the entry points' in :data:`FIXED`) x :data:`BAD_VALUES`."""
    import inspect

    probes = []
    for target in api_targets():
        module_name, name = target.split(":")
        obj = getattr(__import__(module_name, fromlist=[name]), name)
        try:
            params = [
                p
                for p in inspect.signature(obj).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
        except (TypeError, ValueError):
            params = []
        params = params[:4] or [None]
        for param in params:
            for label, value in BAD_VALUES:
                probes.append(
                    (
                        f"{target}({getattr(param, 'name', '*')}={label})",
                        target,
                        getattr(param, "name", None),
                        value,
                    )
                )
    return probes


def _probe_child(start: int, progress: str, tmp: str) -> None:
    """Run probes from ``start``, appending one JSON line per probe to ``progress``."""
    import inspect
    import resource
    import warnings

    # coordnet's own estimates refuse beyond 3 GB; the address-space cap (torch reserves far
    # more address space than it touches) only stops what escapes every estimate
    os.environ["COORDNET_MAX_MEMORY"] = str(3 * 10**9)
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))
    warnings.simplefilter("ignore")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    probes = api_probes()
    with open(progress, "a") as log:
        for index in range(start, len(probes)):
            pid, target, param, value_text = probes[index]
            log.write(json.dumps({"index": index, "start": True}) + "\n")
            log.flush()
            module_name, name = target.split(":")
            obj = getattr(__import__(module_name, fromlist=[name]), name)
            kwargs: Dict[str, Any] = {k: v for k, v in FIXED.get(target, {}).items() if k != param}
            try:
                signature = inspect.signature(obj)
                for p in signature.parameters.values():
                    if (
                        p.name == param
                        or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                        or p.default is not p.empty
                    ):
                        continue
                    good = _good(p.name, tmp)
                    if good is not ...:
                        kwargs[p.name] = good
            except (TypeError, ValueError):
                pass
            value = eval(value_text, {"np": np, "torch": torch})
            _alarm(10)
            try:
                if param is None:
                    obj(value)
                else:
                    obj(**kwargs, **{param: value})
                ok, detail = True, "returned"
            except CaseTimeout:
                ok, detail = False, "timeout (10 s)"
            except (ValueError, TypeError, OSError, KeyError, NotImplementedError) as error:
                text = str(error).strip()
                ok = bool(text) and len(text.splitlines()) == 1 and "Traceback" not in text
                if "enforce fail" in text or "can't allocate memory" in text:
                    ok = False
                detail = f"{type(error).__name__}: {text[:160]}"
            except BaseException as error:  # noqa: BLE001 - classified, not raised
                ok, detail = False, f"{type(error).__name__}: {str(error).strip()[:160]}"
            finally:
                signal.alarm(0)
            log.write(json.dumps({"index": index, "id": pid, "ok": ok, "detail": detail}) + "\n")
            log.flush()


def run_api(work: str) -> List[Tuple[str, bool, str]]:
    os.makedirs(work, exist_ok=True)
    import numpy as np

    from coordnet.signals import save_image

    save_image(
        os.path.join(work, "ok.png"), np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    )
    total = len(api_probes())
    progress = os.path.join(work, "api-progress.jsonl")
    if os.path.exists(progress):
        os.unlink(progress)
    results: Dict[int, Tuple[str, bool, str]] = {}
    start = 0
    while start < total:
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--api-child", str(start), progress, work]
        )
        last_size, last_change = -1, time.time()
        while child.poll() is None:
            time.sleep(1)
            size = os.path.getsize(progress) if os.path.exists(progress) else 0
            if size != last_size:
                last_size, last_change = size, time.time()
            elif time.time() - last_change > 40:  # a C loop the alarm cannot interrupt
                child.kill()
                child.wait()
        started = None
        with open(progress) as log:
            for line in log:
                record = json.loads(line)
                if record.get("start"):
                    started = record["index"]
                else:
                    results[record["index"]] = (record["id"], record["ok"], record["detail"])
                    started = None
        if started is not None and started not in results:  # the child died or hung on it
            probe_id = api_probes()[started][0]
            results[started] = (probe_id, False, f"process died or hung (exit {child.returncode})")
            with open(progress, "a") as log:
                log.write(
                    json.dumps(
                        {
                            "index": started,
                            "id": probe_id,
                            "ok": False,
                            "detail": results[started][2],
                        }
                    )
                    + "\n"
                )
        start = (max(results) + 1) if results else total
    return [results[i] for i in sorted(results)]


def report(title: str, results: List[Tuple[str, bool, str]]) -> int:
    failed = [r for r in results if not r[1]]
    print(
        f"\n{title}: {len(results)} cases, {len(results) - len(failed)} held, {len(failed)} failed"
    )
    for name, _, detail in failed:
        print(f"  FAIL {name}: {detail}")
    return len(failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true", help="Run the CLI cases.")
    parser.add_argument("--api", action="store_true", help="Run the API probes.")
    parser.add_argument("--out", default=None, help="Work folder [default: a temporary folder].")
    parser.add_argument("--case-timeout", type=int, default=60, help="Seconds per CLI case.")
    parser.add_argument("--kills", type=int, default=12, help="Kill-and-resume cases.")
    parser.add_argument("--api-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.api_child:
        _probe_child(int(args.api_child[0]), args.api_child[1], args.api_child[2])
        return
    both = not (args.cli or args.api)
    work = args.out or tempfile.mkdtemp(prefix="coordnet-adversarial-")
    failures = 0
    if args.api or both:
        failures += report("API probes", run_api(os.path.join(work, "api")))
    if args.cli or both:
        failures += report(
            "CLI cases", run_cli(os.path.join(work, "cli"), args.case_timeout, args.kills)
        )
    print(f"work folder: {work}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
