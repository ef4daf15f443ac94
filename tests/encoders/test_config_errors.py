"""One error type for the four configuration readers, each naming the path of the bad key."""

import pytest

from coordnet.config_errors import ConfigError, key_path
from coordnet.encoders.config import from_config
from coordnet.nets import parse_spec
from coordnet.nets.tcnn_model import parse_network_config
from coordnet.sweep.config import SweepFileError, parse_sweep


def test_key_path_and_message_form():
    assert key_path(("models", 0, "grid", "scale")) == "models[0].grid.scale"
    error = ConfigError(
        "encoding config", "encoding.nested[1] (HashGrid)", "n_levels must be >= 1, got 0"
    )
    assert (
        str(error) == "encoding config encoding.nested[1] (HashGrid): n_levels must be >= 1, got 0"
    )
    assert isinstance(error, ValueError) and error.where == "encoding.nested[1] (HashGrid)"
    assert (
        str(ConfigError("sweep file", "'a.toml'", "not valid TOML"))
        == "sweep file 'a.toml': not valid TOML"
    )


def test_model_spec_errors_name_the_part():
    with pytest.raises(
        ConfigError, match=r"^model spec .*part 'gauss:num_frequencies=x'.*num_frequencies"
    ):
        parse_spec("gauss:num_frequencies=x")


def test_encoding_config_errors_name_the_nested_path():
    config = {
        "otype": "Composite",
        "nested": [
            {"otype": "Identity", "n_dims_to_encode": 1},
            {"otype": "HashGrid", "n_levels": 0},
        ],
    }
    with pytest.raises(ConfigError, match=r"^encoding config .*nested\[1\].*HashGrid.*n_levels"):
        from_config(config, 3)


def test_network_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"^network config .*n_neurons"):
        parse_network_config({"otype": "FullyFusedMLP", "n_neurons": -1})


def test_sweep_file_errors_name_the_line_and_key():
    text = 'images = ["camera"]\nsteps = 0\n[[models]]\nspec = "relu"\n'
    with pytest.raises(
        SweepFileError, match=r"^sweep file .*line 2: key 'steps': must be an integer"
    ) as caught:
        parse_sweep(text, "s.toml")
    assert isinstance(caught.value, ConfigError)
