"""Interpolation baselines of image comparisons: values by hand on a tiny image, table rows."""

import numpy as np
import pytest

from coordnet.runs.baselines import interpolation_baselines
from coordnet.runs.compare import baseline_runs, table_rows
from coordnet.signals import image_signal, split_signal


def _image(n=8):
    rng = np.random.default_rng(0)
    return rng.random((n, n)).astype(np.float32)


def test_bilinear_by_hand_on_an_8x8_image():
    pixels = _image()
    parts = split_signal(image_signal(pixels, name="tiny"), "tancik")
    bilinear = {b.name: b for b in interpolation_baselines(parts)}["bilinear"]
    train = pixels[::2, ::2].astype(np.float64)  # 4x4 training grid at even pixels
    errors = []
    for i in range(1, 8, 2):
        for j in range(1, 8, 2):
            # Odd pixel i lies at training index i/2; the last one (3.5) mirrors to 2.5.
            a, b = min(i // 2, 2), min(j // 2, 2)
            guess = train[a : a + 2, b : b + 2].mean()
            errors.append((guess - pixels[i, j]) ** 2)
            assert bilinear.prediction[i, j, 0] == pytest.approx(guess, abs=1e-12)
    expected = 10 * np.log10(1 / np.mean(errors))
    assert bilinear.metrics["test_psnr"] == pytest.approx(expected, abs=1e-9)
    assert np.allclose(bilinear.prediction[::2, ::2, 0], train)  # through the training pixels
    assert bilinear.metrics["train_psnr"] is None and bilinear.metrics["ssim"] is not None


def test_bicubic_reproduces_a_constant_and_other_splits_have_none():
    flat = image_signal(np.full((10, 10), 0.25, dtype=np.float32), name="flat")
    found = interpolation_baselines(split_signal(flat, "tancik"))
    assert [b.name for b in found] == ["bilinear", "bicubic"]
    assert all(np.allclose(b.prediction, 0.25) for b in found)
    assert all(b.metrics["test_psnr"] is None or b.metrics["test_psnr"] > 250 for b in found)
    assert interpolation_baselines(split_signal(flat, "full")) == []
    assert interpolation_baselines(split_signal(flat, "holdout:0.2")) == []


def test_baseline_rows_are_marked_and_share_the_columns():
    signal = image_signal(_image(16), name="tiny")
    runs = baseline_runs(signal, "tancik")
    rows = table_rows(runs, 1)
    assert [row["model"] for row in rows] == [
        "baseline: bilinear interpolation",
        "baseline: bicubic interpolation",
    ]
    assert all(r.baseline.startswith("scipy.ndimage.map_coordinates") for r in runs)
    assert rows[0]["train_psnr"] == "-" and rows[0]["params"] == "-" and rows[0]["steps"] == "-"
    assert float(rows[0]["test_psnr"]) > 0 and 0 < float(rows[0]["ssim"]) <= 1
    assert baseline_runs(signal, "full") == []
