"""coordnet.signals: loaders, grids, splits, bundled signals, volumes, save_image."""

import os
import socket
import struct
import wave
import zlib

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from coordnet.signals import (
    BUNDLED_SIGNALS,
    VOLUME_SHAPES,
    Signal,
    SignalError,
    iou,
    load_audio,
    load_image,
    load_series,
    load_signal,
    load_volume,
    make_volume,
    save_image,
    split_signal,
    text_image,
)

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- file writers


def write_png16(path, array):
    """A minimal 16-bit PNG encoder (Pillow cannot write 16-bit colour PNGs)."""
    a = np.asarray(array, dtype=">u2")
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    color_type = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + a[i].tobytes() for i in range(h))

    def chunk(tag, data):
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_wav(path, ints, width, rate=8000):
    """PCM WAV from integer samples (N, C): width 1 (uint8 stored), 2 or 4 bytes."""
    ints = np.asarray(ints)
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[width]
    with wave.open(str(path), "wb") as f:
        f.setnchannels(ints.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(ints.astype(dtype).tobytes())


# ---------------------------------------------------------------- Signal and coordinates


def test_coordinates_half_open_grid():
    s = Signal(torch.zeros(4, 8, 3))
    assert s.kind == "image" and s.dim == 2 and s.grid_shape == (4, 8) and s.channels == 3
    assert s.domain == ((0.0, 1.0), (0.0, 1.0))
    c = s.coordinates()
    assert c.shape == (4, 8, 2) and c.dtype == torch.float32
    assert c[0, 0].tolist() == [0.0, 0.0]
    assert torch.allclose(c[1, 0] - c[0, 0], torch.tensor([0.25, 0.0]))
    assert torch.allclose(c[0, 1] - c[0, 0], torch.tensor([0.0, 0.125]))
    assert torch.allclose(c[-1, -1], torch.tensor([0.75, 0.875]))  # high end excluded
    coords, values = s.flat()
    assert coords.shape == (32, 2) and values.shape == (32, 3)
    assert torch.equal(coords[9], c[1, 1])  # row-major order


def test_coordinates_custom_domain_1d_and_3d():
    s = Signal(torch.zeros(10, 1), domain=[(-1, 1)])
    assert s.kind == "1d"
    x = s.coordinates()[:, 0]
    assert x[0] == -1.0 and torch.allclose(x[1:] - x[:-1], torch.full((9,), 0.2))
    v = Signal(torch.zeros(2, 3, 4, 1))
    assert v.kind == "volume" and v.coordinates().shape == (2, 3, 4, 3)
    assert torch.allclose(v.coordinates()[1, 2, 3], torch.tensor([0.5, 2 / 3, 0.75]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(values=torch.zeros(4, 4, 1), kind="audio"), "'audio' signal has 1 grid axes"),
        (dict(values=torch.zeros(4, 4, 1), kind="movie"), "kind must be one of"),
        (dict(values=torch.full((4, 4, 1), 1.5)), r"\[0, 1\], got range \[1.5, 1.5\]"),
        (
            dict(values=torch.zeros(4, 4, 1), domain=[(0, 1)]),
            "one \\(low, high\\) pair per grid axis",
        ),
        (dict(values=torch.zeros(4, 4, 1), domain=[(0, 1), (1, 1)]), "low < high"),
        (dict(values=torch.tensor([[float("nan")]])), "NaN"),
        (dict(values=torch.zeros(4)), "got shape \\(4,\\)"),
        (dict(values=torch.zeros(4, 1), kind="audio", sample_rate=0), "sample_rate"),
    ],
)
def test_signal_validation(kwargs, match):
    with pytest.raises(SignalError, match=match):
        Signal(**kwargs)


# ---------------------------------------------------------------- splits


def test_split_full():
    s = Signal(torch.rand(6, 5, 2))
    sp = split_signal(s, "full")
    assert (
        sp.num_train == 30
        and sp.test_coords is None
        and sp.test_values is None
        and sp.test_mask is None
    )
    assert sp.train_mask.all() and sp.train_grid_shape == (6, 5)


def test_split_tancik_even_odd_2d():
    values = torch.rand(8, 6, 3)
    s = Signal(values)
    sp = split_signal(s, "tancik")
    assert sp.num_train == 4 * 3 and sp.num_test == 4 * 3
    assert torch.equal(sp.train_values, values[::2, ::2].reshape(-1, 3))
    assert torch.equal(sp.test_values, values[1::2, 1::2].reshape(-1, 3))
    assert torch.equal(sp.train_coords, s.coordinates()[::2, ::2].reshape(-1, 2))
    assert not (sp.train_mask & sp.test_mask).any()
    assert int((sp.train_mask | sp.test_mask).sum()) == 24  # mixed-parity pixels in neither
    # test points are the training grid shifted by half its spacing (one pixel)
    assert torch.allclose(sp.test_coords - sp.train_coords, torch.tensor([1 / 8, 1 / 6]))
    assert sp.train_grid_shape == (4, 3) and sp.test_grid_shape == (4, 3)


def test_split_tancik_odd_sizes_1d_3d():
    sp = split_signal(Signal(torch.arange(7.0)[:, None]), "tancik")
    assert sp.train_values[:, 0].tolist() == [0, 2, 4, 6] and sp.test_values[:, 0].tolist() == [
        1,
        3,
        5,
    ]
    v = Signal(torch.rand(4, 5, 6, 1))
    sp = split_signal(v, "tancik")
    assert sp.num_train == 2 * 3 * 3 and sp.num_test == 2 * 2 * 3
    assert torch.equal(sp.test_values, v.values[1::2, 1::2, 1::2].reshape(-1, 1))
    with pytest.raises(SignalError, match="at least 2 samples"):
        split_signal(Signal(torch.rand(1, 5, 1)), "tancik")


def test_split_holdout_fraction_and_seed():
    s = Signal(torch.rand(20, 10, 1))
    a = split_signal(s, "holdout:0.1", seed=1)
    b = split_signal(s, "holdout:0.1", seed=1)
    c = split_signal(s, "holdout:0.1", seed=2)
    assert a.num_test == 20 and a.num_train == 180 and a.split == "holdout:0.1"
    assert torch.equal(a.test_mask, b.test_mask) and not torch.equal(a.test_mask, c.test_mask)
    assert not (a.train_mask & a.test_mask).any() and (a.train_mask | a.test_mask).all()
    assert torch.equal(a.test_values, s.values[a.test_mask])
    assert split_signal(s, "holdout").num_test == 20


@pytest.mark.parametrize(
    "split, match",
    [
        ("random", "unknown split 'random'; valid splits: full, tancik, holdout"),
        ("holdout:1.5", "1.5"),
        ("holdout:0", "strictly between 0 and 1"),
        ("holdout:abc", "'abc'"),
    ],
)
def test_split_errors(split, match):
    with pytest.raises(ValueError, match=match):
        split_signal(Signal(torch.rand(4, 4, 1)), split)


# ---------------------------------------------------------------- images


@pytest.mark.parametrize("shape", [(6, 7), (6, 7, 3), (6, 7, 4)])
def test_png_8bit_round_trip(tmp_path, shape):
    a = RNG.integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "img.png"
    iio.imwrite(path, a)
    s = load_image(path)
    expected = a.reshape(6, 7, -1).astype(np.float32) / 255
    assert s.kind == "image" and s.name == "img" and s.values.shape == expected.shape
    assert np.allclose(s.values.numpy(), expected, atol=1e-7)


def test_png_16bit_gray_full_precision(tmp_path):
    a = RNG.integers(0, 65536, (5, 6), dtype=np.uint16)
    iio.imwrite(tmp_path / "g16.png", a)
    s = load_image(tmp_path / "g16.png")
    assert s.channels == 1
    assert np.allclose(s.values[..., 0].numpy(), a / 65535, atol=1e-7)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_16bit_written_by_hand(tmp_path, channels):
    shape = (5, 6) if channels == 1 else (5, 6, channels)
    a = RNG.integers(0, 65536, shape).astype(np.uint16)
    path = tmp_path / "c16.png"
    write_png16(path, a)
    if channels == 1:
        s = load_image(path)
        tolerance = 1e-7
    else:  # Pillow keeps the high byte of 16-bit colour PNGs
        with pytest.warns(RuntimeWarning, match="16-bit colour PNG"):
            s = load_image(path)
        tolerance = 1 / 255
    assert s.values.shape == (5, 6, channels)
    assert np.abs(s.values.numpy() - a.reshape(5, 6, channels) / 65535).max() <= tolerance


def test_jpeg_and_tiff(tmp_path):
    smooth = np.linspace(0, 255, 16 * 16 * 3).reshape(16, 16, 3).astype(np.uint8)
    iio.imwrite(tmp_path / "a.jpg", smooth)
    s = load_image(tmp_path / "a.jpg")
    assert s.values.shape == (16, 16, 3) and 0 <= s.values.min() and s.values.max() <= 1
    assert abs(float(s.values.mean()) - smooth.mean() / 255) < 0.02  # lossy

    a16 = RNG.integers(0, 65536, (5, 6, 3)).astype(np.uint16)
    iio.imwrite(tmp_path / "b.tif", a16)
    assert np.allclose(load_image(tmp_path / "b.tif").values.numpy(), a16 / 65535, atol=1e-7)

    f = np.linspace(-0.5, 1.5, 30, dtype=np.float32).reshape(5, 6)
    iio.imwrite(tmp_path / "c.tiff", f)
    v = load_image(tmp_path / "c.tiff").values[..., 0].numpy()
    assert np.allclose(v, np.clip(f, 0, 1))


def test_resize(tmp_path):
    iio.imwrite(tmp_path / "r.png", RNG.integers(0, 256, (40, 30, 3), dtype=np.uint8))
    assert load_image(tmp_path / "r.png", size=16).values.shape == (16, 12, 3)  # longest side 16
    assert load_image(tmp_path / "r.png", size=(8, 12)).values.shape == (8, 12, 3)
    with pytest.raises(SignalError, match="size must be"):
        load_image(tmp_path / "r.png", size=0)


def test_image_errors(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(SignalError, match="not found.*nope.png"):
        load_image(missing)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"this is not a png" * 8)
    with pytest.raises(SignalError, match="cannot read image.*corrupt.png"):
        load_image(corrupt)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(SignalError, match="empty.*empty.png"):
        load_image(empty)
    iio.imwrite(tmp_path / "la.png", np.zeros((4, 4, 2), np.uint8))  # gray + alpha
    with pytest.raises(SignalError, match=r"la.png.*unsupported image shape \(4, 4, 2\)"):
        load_image(tmp_path / "la.png")
    import tifffile

    with tifffile.TiffWriter(tmp_path / "pages.tif") as w:
        for _ in range(3):
            w.write(np.zeros((4, 5), np.uint8))
    with pytest.raises(SignalError, match="pages.tif.*multi-page TIFF \\(3 pages\\)"):
        load_image(tmp_path / "pages.tif")


# ---------------------------------------------------------------- save_image


def test_save_image_round_trip_and_atomic_replace(tmp_path):
    a = RNG.random((6, 5, 3)).astype(np.float32)
    target = tmp_path / "out.png"
    target.write_bytes(b"old content")
    assert save_image(target, torch.from_numpy(a)) == target
    back = iio.imread(target)
    assert back.dtype == np.uint8 and np.array_equal(back, np.round(a * 255).astype(np.uint8))
    save_image(target, np.zeros((3, 4)))  # replace again, gray
    assert iio.imread(target).shape == (3, 4)
    assert sorted(os.listdir(tmp_path)) == ["out.png"]  # no temporary files left
    with pytest.raises(SignalError, match="\\(3, 4, 2\\)"):
        save_image(target, np.zeros((3, 4, 2)))
    with pytest.raises(SignalError, match="must end in .png"):
        save_image(tmp_path / "out.jpg", np.zeros((3, 4)))
    with pytest.raises(SignalError, match="does not exist"):
        save_image(tmp_path / "missing" / "x.png", np.zeros((3, 4)))
    assert sorted(os.listdir(tmp_path)) == ["out.png"] and iio.imread(target).shape == (3, 4)


def test_save_image_failure_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    save_image(target, np.ones((2, 2)))
    before = target.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_image(target, np.zeros((5, 5)))
    assert target.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["keep.png"]


# ---------------------------------------------------------------- audio


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_pcm16(tmp_path, channels):
    ints = RNG.integers(-32768, 32768, (100, channels))
    ints[0] = -32768
    write_wav(tmp_path / "a.wav", ints, 2, rate=22050)
    s = load_audio(tmp_path / "a.wav")
    assert s.kind == "audio" and s.sample_rate == 22050 and s.values.shape == (100, channels)
    assert np.allclose(s.values.numpy(), ints / 32768)
    assert s.values.min() == -1.0 and s.values.max() < 1.0
    assert load_audio(tmp_path / "a.wav", max_samples=10).values.shape == (10, channels)


def test_wav_pcm8_pcm32(tmp_path):
    write_wav(tmp_path / "b8.wav", np.array([[0], [128], [255]]), 1)
    assert load_audio(tmp_path / "b8.wav").values[:, 0].tolist() == [-1.0, 0.0, 127 / 128]
    write_wav(tmp_path / "b32.wav", np.array([[-(2**31)], [0], [2**30]]), 4)
    assert load_audio(tmp_path / "b32.wav").values[:, 0].tolist() == [-1.0, 0.0, 0.5]


def test_wav_float_via_scipy(tmp_path):
    wavfile = pytest.importorskip("scipy.io.wavfile")
    wavfile.write(tmp_path / "f.wav", 1000, np.array([-2.0, 0.25, 0.5], dtype=np.float32))
    s = load_audio(tmp_path / "f.wav")
    assert s.sample_rate == 1000 and s.values[:, 0].tolist() == [-1.0, 0.25, 0.5]


def test_wav_errors(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFX" + b"\x00" * 40)
    with pytest.raises(SignalError, match="cannot read audio.*bad.wav"):
        load_audio(bad)
    with pytest.raises(SignalError, match="not found.*gone.wav"):
        load_audio(tmp_path / "gone.wav")
    write_wav(tmp_path / "silent.wav", np.zeros((0, 1)), 2)
    with pytest.raises(SignalError, match="no samples"):
        load_audio(tmp_path / "silent.wav")


# ---------------------------------------------------------------- series


def test_npy_series(tmp_path):
    np.save(tmp_path / "s1.npy", np.arange(5.0))
    s = load_series(tmp_path / "s1.npy")
    assert (
        s.kind == "1d" and s.values.shape == (5, 1) and s.values[:, 0].tolist() == [0, 1, 2, 3, 4]
    )
    two = RNG.normal(size=(7, 3)) * 10  # values kept as stored, not normalised
    np.save(tmp_path / "s2.npy", two)
    assert np.allclose(load_signal(str(tmp_path / "s2.npy")).values.numpy(), two.astype(np.float32))


def test_csv_series_with_and_without_header(tmp_path):
    (tmp_path / "h.csv").write_text("time,left,right\n0,1.5,-2\n1,2.5,-3\n\n2,3.5,-4e0\n")
    s = load_series(tmp_path / "h.csv")
    assert s.values.shape == (3, 3) and s.values[:, 1].tolist() == [1.5, 2.5, 3.5]
    (tmp_path / "n.csv").write_text("# comment\n0.5\n-1\n2\n")
    assert load_signal(str(tmp_path / "n.csv")).values[:, 0].tolist() == [0.5, -1.0, 2.0]
    (tmp_path / "w.csv").write_text("1 2\n3 4\n")
    assert load_series(tmp_path / "w.csv").values.tolist() == [[1, 2], [3, 4]]


def test_series_errors(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SignalError, match="empty.*empty.csv"):
        load_series(tmp_path / "empty.csv")
    (tmp_path / "header_only.csv").write_text("a,b\n")
    with pytest.raises(SignalError, match="header_only.csv.*no data rows"):
        load_series(tmp_path / "header_only.csv")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    with pytest.raises(SignalError, match="ragged.csv.*line 2: expected 2 columns, got 1"):
        load_series(tmp_path / "ragged.csv")
    (tmp_path / "text.csv").write_text("1,2\n3,x\n")
    with pytest.raises(SignalError, match="text.csv.*line 2: non-numeric"):
        load_series(tmp_path / "text.csv")
    np.save(tmp_path / "nan.npy", np.array([1.0, np.nan]))
    with pytest.raises(SignalError, match="nan.npy.*NaN"):
        load_series(tmp_path / "nan.npy")
    np.save(tmp_path / "four_d.npy", np.zeros((2, 2, 2, 2)))
    with pytest.raises(SignalError, match=r"four_d.npy.*unsupported shape \(2, 2, 2, 2\)"):
        load_signal(str(tmp_path / "four_d.npy"))
    (tmp_path / "junk.npy").write_bytes(b"\x00junk" * 10)
    with pytest.raises(SignalError, match="cannot read .npy file.*junk.npy"):
        load_signal(str(tmp_path / "junk.npy"))


# ---------------------------------------------------------------- volumes


@pytest.mark.parametrize(
    "shape, low, high",
    [
        ("sphere", 0.15, 0.21),
        ("torus", 0.06, 0.11),
        ("gyroid", 0.15, 0.4),
        ("bumpy_sphere", 0.08, 0.16),
    ],
)
def test_volume_shapes(shape, low, high):
    v = make_volume(shape, 32)
    assert v.kind == "volume" and v.values.shape == (32, 32, 32, 1)
    assert set(torch.unique(v.values).tolist()) == {0.0, 1.0}
    assert low < float(v.values.mean()) < high
    assert set(VOLUME_SHAPES) >= {"sphere", "torus", "gyroid", "bumpy_sphere"}


def test_volume_sphere_matches_analytic_fraction():
    v = make_volume("sphere", 48)
    assert abs(float(v.values.mean()) - 4 / 3 * np.pi * 0.35**3) < 0.005


def test_iou():
    a = make_volume("sphere", 16)
    b = torch.zeros_like(a.values)
    assert iou(a, a) == 1.0
    assert iou(a.values, 1 - a.values) == 0.0
    assert iou(b, b) == 1.0
    half = a.values.clone()
    half[:8] = 0
    assert 0.0 < iou(half, a) < 1.0
    assert iou(half, a) == pytest.approx(float(half.sum() / a.values.sum()))
    with pytest.raises(ValueError, match="shape"):
        iou(a.values, a.values[:4])


def test_npy_volume(tmp_path):
    occupancy = RNG.random((6, 7, 8)) > 0.5
    np.save(tmp_path / "vol.npy", occupancy)
    v = load_signal(str(tmp_path / "vol.npy"))
    assert v.kind == "volume" and v.values.shape == (6, 7, 8, 1)
    assert torch.equal(v.values[..., 0], torch.from_numpy(occupancy).float())
    np.save(tmp_path / "sdf.npy", RNG.normal(size=(4, 4, 4)))
    with pytest.raises(SignalError, match="sdf.npy.*must lie in \\[0, 1\\]"):
        load_signal(str(tmp_path / "sdf.npy"))
    sdf = load_volume(tmp_path / "sdf.npy", threshold=0.0)
    assert set(torch.unique(sdf.values).tolist()) <= {0.0, 1.0}


# ---------------------------------------------------------------- bundled signals and load_signal


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_bundled_defaults_offline(no_network):
    camera = load_signal(None)
    assert camera.name == "camera" and camera.values.shape == (512, 512, 1)
    assert 0.0 <= float(camera.values.min()) and float(camera.values.max()) <= 1.0
    astronaut = load_signal("astronaut", size=64)
    assert astronaut.values.shape == (64, 64, 3)
    text = load_signal("text")
    assert text.values.shape == (256, 256, 3)
    assert load_signal("volume:torus", size=8).values.shape == (8, 8, 8, 1)
    assert load_signal("gyroid", size=8).name == "gyroid"
    assert set(BUNDLED_SIGNALS) >= {"camera", "astronaut", "text", "sphere", "torus"}


def test_text_image_deterministic_with_coloured_text():
    a, b = text_image(64), text_image(64)
    assert torch.equal(a.values, b.values)
    v = a.values
    background = v.reshape(-1, 3).mode(dim=0).values
    assert (background > 0.9).all()  # light background
    ink = (v - background).abs().sum(-1) > 0.3
    assert 0.03 < float(ink.float().mean()) < 0.5
    spread = v[ink].max(dim=-1).values - v[ink].min(dim=-1).values
    assert float(spread.max()) > 0.4  # coloured, not gray
    assert text_image((32, 80)).values.shape == (32, 80, 3)


def test_load_signal_dispatch_and_errors(tmp_path):
    iio.imwrite(tmp_path / "pic.PNG", np.zeros((4, 5, 3), np.uint8))
    assert load_signal(tmp_path / "pic.PNG").values.shape == (4, 5, 3)
    write_wav(tmp_path / "a.wav", np.zeros((10, 1)), 2)
    assert load_signal(str(tmp_path / "a.wav")).kind == "audio"
    with pytest.raises(SignalError, match="unknown signal 'no_such_thing'.*camera.*\\.wav"):
        load_signal("no_such_thing")
    (tmp_path / "x.mp3").write_bytes(b"ID3")
    with pytest.raises(SignalError, match="unsupported file extension '.mp3'.*accepted"):
        load_signal(str(tmp_path / "x.mp3"))
    with pytest.raises(SignalError, match="not found.*missing.png"):
        load_signal(str(tmp_path / "missing.png"))
    with pytest.raises(SignalError, match="unknown signal 'volume:cube'"):
        load_signal("volume:cube")
    with pytest.raises(SignalError, match="size=8 does not apply to audio"):
        load_signal(str(tmp_path / "a.wav"), size=8)
