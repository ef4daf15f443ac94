"""The Tancik reproduction reports interpolation baselines per image set and each mapping's
paired differences to them."""

import numpy as np
import pytest
from PIL import Image

from coordnet.experiments import tancik2020 as t
from coordnet.runs.baselines import interpolation_baselines
from coordnet.signals import image_signal, split_signal


def test_baseline_psnrs_per_image_and_paired_differences(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for index in range(3):
        path = tmp_path / f"{index}.png"
        Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8)).save(path)
        paths.append(path)
    found = t.baseline_psnrs({"div2k": paths}, 8)
    assert set(found["div2k"]) == {"bilinear", "bicubic"} and len(found["div2k"]["bicubic"]) == 3
    direct = interpolation_baselines(
        split_signal(image_signal(t.load_rgb(paths[1], 8).numpy()), "tancik")
    )
    assert found["div2k"]["bilinear"][1] == pytest.approx(direct[0].metrics["test_psnr"])
    mapping = [v + d for v, d in zip(found["div2k"]["bilinear"], (1.0, 2.0, 3.0))]
    versus = t.versus_baselines({"div2k": {"gaussian": mapping}}, found)
    cell = versus["div2k"]["gaussian"]["bilinear"]
    assert cell["mean"] == pytest.approx(2.0) and cell["n"] == 3
    assert cell["low"] < 2.0 < cell["high"]
    text = t.format_baselines(found, versus)
    assert "div2k: interpolation of the training pixels: bilinear" in text
    assert "Gaussian" in text and "minus bilinear +2.00 dB" in text
