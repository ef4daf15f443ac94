"""Fixtures shared by the reliability tests."""

import pytest

from .cli_helpers import TINY, invoke


@pytest.fixture(scope="session")
def fitted_checkpoint(tmp_path_factory):
    """``checkpoint.pt`` of a tiny fit to camera at 12 x 12 (fitted once per session)."""
    folder = tmp_path_factory.mktemp("fitted")
    result = invoke("fit", "camera", "--size", "12", *TINY, "--out", folder)
    assert result.exit_code == 0, result.output
    return folder / "checkpoint.pt"
