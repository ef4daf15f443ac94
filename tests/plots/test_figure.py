"""coordnet's figures leave matplotlib's global state alone and still write real PNGs."""

import subprocess
import sys
import textwrap

import imageio.v3 as iio
import numpy as np

from coordnet.plots import figure


def test_subplots_figure_is_not_registered_with_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, axes = figure.subplots(1, 2, figsize=(4, 2), squeeze=False)
    assert axes.shape == (1, 2)
    axes[0, 0].plot([0, 1], [1, 0])
    path = tmp_path / "two.png"
    figure.save_figure(fig, str(path))
    assert plt.get_fignums() == before
    image = iio.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 100
    assert np.ptp(image[..., :3]) > 0


def test_importing_and_drawing_keeps_the_users_backend():
    script = textwrap.dedent(
        """
        import matplotlib
        matplotlib.use("svg")
        import tempfile, os
        from coordnet.plots import figure
        from coordnet.plots.fit import save_curves
        fig, ax = figure.subplots()
        ax.plot([0, 1])
        with tempfile.TemporaryDirectory() as folder:
            figure.save_figure(fig, os.path.join(folder, "a.png"))
        print(matplotlib.get_backend())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().lower() == "svg"


def test_colormap_matches_matplotlib():
    import matplotlib

    assert figure.colormap("viridis")(0.5) == matplotlib.colormaps["viridis"](0.5)
