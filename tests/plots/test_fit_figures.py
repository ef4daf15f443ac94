"""Fit and comparison figures read as in a paper: every run drawn (a single evaluation is a
marker), legends outside the axes, labelled axes with units, PSNR in each panel title."""

import numpy as np

from coordnet.plots.fit import comparison_figure, curves_figure


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_curves_draw_every_run_with_markers_and_keep_the_legend_off_the_axes():
    histories = {
        "once": {"steps": [10], "loss": [0.1], "train_psnr": [20.0], "test_psnr": [19.0]},
        "twice": {
            "steps": [5, 10],
            "loss": [0.2, 0.1],
            "train_psnr": [18.0, 22.0],
            "test_psnr": [17.0, 21.0],
            "validation_psnr": [17.5, 21.5],
        },
        "baseline": {},
    }
    fig = curves_figure(histories, "camera")
    left, right = fig.axes[:2]
    assert [line.get_marker() for line in left.lines] == ["o", "s", "o", "^", "s"]
    assert len(left.lines[0].get_xdata()) == 1  # the run evaluated once is drawn, as a marker
    assert "PSNR (dB)" in left.get_ylabel() and "step" in left.get_xlabel()
    assert "MSE" in right.get_ylabel() and right.get_yscale() == "log"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert not any(_overlaps(legend, ax.get_window_extent(renderer)) for ax in (left, right))
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["once", "twice", "train", "validation (early stop)", "test (held out)"]


def test_comparison_titles_carry_the_psnr_and_the_error_scale_has_units():
    target = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    fig = comparison_figure(
        target,
        {"relu": target * 0.9, "baseline: bicubic": target},
        {"relu": "relu\ntest PSNR 20.00 dB", "baseline: bicubic": "bicubic\ntest PSNR 30.00 dB"},
    )
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert "relu\ntest PSNR 20.00 dB" in titles and "bicubic\ntest PSNR 30.00 dB" in titles
    colour_bars = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_ylabel()]
    assert any("intensity" in (ax.get_xlabel() + ax.get_ylabel()) for ax in colour_bars)
