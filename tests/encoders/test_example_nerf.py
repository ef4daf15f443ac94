"""scripts/example_nerf.py: the analytic scene, the volume rendering, and a short run end to end."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "example_nerf.py"


@pytest.fixture(scope="module")
def nerf():
    spec = importlib.util.spec_from_file_location("example_nerf", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["example_nerf"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("example_nerf", None)


def test_sphere_and_box_intersections(nerf):
    sphere = nerf.Sphere((0.5, -0.2, 0.1), 0.3, (1.0, 0.0, 0.0))
    origins = torch.tensor([[0.5, -0.2, 3.0], [0.5, -0.2, 0.1], [2.0, 2.0, 2.0]])
    dirs = torch.tensor([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    t, normal = nerf._intersect_sphere(origins, dirs, sphere)
    torch.testing.assert_close(
        t[:2], torch.tensor([2.9 - 0.3, 0.3])
    )  # from outside; from the centre
    assert math.isinf(t[2])
    torch.testing.assert_close(normal[0], torch.tensor([0.0, 0.0, 1.0]))
    box = nerf.Box((-1.0, -1.0, -0.5), (1.0, 1.0, -0.4), (0.0, 1.0, 0.0))
    t, normal = nerf._intersect_box(
        torch.tensor([[0.2, 0.3, 2.0], [3.0, 0.0, 0.0]]),
        torch.tensor([[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]]),
        box,
    )
    torch.testing.assert_close(t[0], torch.tensor(2.4))
    assert math.isinf(t[1]) and torch.equal(normal[0], torch.tensor([0.0, 0.0, 1.0]))


def test_scene_colours(nerf):
    red = nerf.SCENE[0]
    centre = torch.tensor(red.center)
    origins = torch.stack([centre + torch.tensor([0.0, 0.0, 3.0]), torch.tensor([5.0, 5.0, 5.0])])
    dirs = torch.tensor([[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]])
    colour = nerf.render_scene(origins, dirs)
    assert torch.equal(colour[1], torch.full((3,), nerf.BACKGROUND))  # a miss sees the background
    assert colour[0, 0] > colour[0, 1] and colour[0, 0] > colour[0, 2]  # the red sphere looks red
    assert (colour >= 0).all() and (colour <= 1).all()


def test_cameras_look_at_the_origin(nerf):
    poses = nerf.camera_poses(5)
    assert poses.shape == (5, 4, 4)
    torch.testing.assert_close(poses[:, :3, 3].norm(dim=-1), torch.full((5,), nerf.CAMERA_RADIUS))
    origins, dirs = nerf.camera_rays(poses[2], 2)  # the 4 pixels around the image centre
    mean = dirs.mean(0) / dirs.mean(0).norm()
    torch.testing.assert_close(mean, -poses[2, :3, 3] / nerf.CAMERA_RADIUS, rtol=0, atol=1e-6)
    torch.testing.assert_close(dirs.norm(dim=-1), torch.ones(4))
    rotation = poses[:, :3, :3]
    torch.testing.assert_close(
        rotation @ rotation.transpose(1, 2), torch.eye(3).expand(5, 3, 3), rtol=0, atol=1e-6
    )


def test_compositing_of_a_homogeneous_medium(nerf):
    """Constant σ and colour c: opacity 1 - exp(-σ (far - first sample)), pixel c·opacity + bg·(1 - opacity)."""
    depths = nerf.sample_along_rays(
        4, 32, stratified=True, generator=torch.Generator().manual_seed(0)
    )
    assert (
        (depths[:, 1:] > depths[:, :-1]).all()
        and depths.min() >= nerf.NEAR
        and depths.max() <= nerf.FAR
    )
    sigma = torch.full((4, 32), 0.7, dtype=torch.float64)
    colour = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64).expand(4, 32, 3)
    rgb, weights = nerf.composite(sigma, colour, depths.double(), background=1.0)
    opacity = 1 - torch.exp(-0.7 * (nerf.FAR - depths[:, 0].double()))
    torch.testing.assert_close(weights.sum(1), opacity, rtol=0, atol=1e-8)
    torch.testing.assert_close(
        rgb, colour[:, 0] * opacity[:, None] + (1 - opacity[:, None]), rtol=0, atol=1e-8
    )
    empty, _ = nerf.composite(
        torch.zeros(2, 8), torch.rand(2, 8, 3), nerf.sample_along_rays(2, 8, False, None)
    )
    assert torch.equal(empty, torch.ones(2, 3))  # no density: the background


def test_short_run_writes_results_and_images(nerf, tmp_path, capsys):
    out = tmp_path / "nerf"
    argv = [
        "--steps",
        "3",
        "--views",
        "3",
        "--size",
        "8",
        "--samples",
        "8",
        "--batch",
        "64",
        "--quiet",
        "--out",
        str(out),
    ]
    assert nerf.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert (
        results["steps"] == 3
        and results["settings"]["size"] == 8
        and results["settings"]["views"] == 3
    )
    assert results["settings"]["density_config"]["encoding"]["otype"] == "HashGrid"
    for key in ("heldout_psnr", "train_view_psnr", "initial_heldout_psnr", "seconds"):
        assert np.isfinite(results[key]), key
    assert iio.imread(out / "heldout_prediction.png").shape == (8, 8, 3)
    assert iio.imread(out / "heldout_side_by_side.png").shape == (8, 24, 3)
    assert f"held-out view: {results['heldout_psnr']:.2f} dB PSNR" in capsys.readouterr().out


def test_bad_arguments_are_rejected(nerf):
    with pytest.raises(SystemExit):
        nerf.main(["--views", "1"])
    with pytest.raises(SystemExit):
        nerf.main(["--lr", "0"])


@pytest.mark.slow
def test_training_improves_the_held_out_view(nerf):
    result = nerf.train(steps=80, views=12, size=16, samples=32, batch=512, lr=1e-2, seed=0)
    assert result.heldout_psnr > result.initial_heldout_psnr + 5.0
    assert result.train_view_psnr > result.initial_heldout_psnr + 5.0
