"""coordnet.tcnn.load_config reads configs as instant-NGP writes them: comments, "parent" files."""

import json

import pytest
import torch

import coordnet.tcnn as tcnn
from coordnet.config_errors import ConfigError
from coordnet.encoders import from_config
from coordnet.json_config import merge_patch, strip_comments
from coordnet.nets.tcnn_model import model_from_config, network_from_config
from coordnet.suggest import did_you_mean, nearest_name

# Written like instant-NGP's configs/nerf/base.json (nested loss / optimizer / encoding /
# network sections), with the comments people add to such files.
BASE = """{
    // loss and optimizer: tiny-cuda-nn reads them, coordnet ignores them
    "loss": {"otype": "Huber"},
    "optimizer": {
        "otype": "Ema", "decay": 0.95,
        "nested": {
            "otype": "ExponentialDecay", "decay_start": 20000,
            "nested": {"otype": "Adam", "learning_rate": 1e-2, "epsilon": 1e-15}
        }
    },
    /* the density field: a hash grid
       in front of a small MLP */
    "encoding": {
        "otype": "HashGrid",
        "n_levels": 6,              // coarse to fine
        "n_features_per_level": 2,
        "log2_hashmap_size": 12,
        "base_resolution": 16
    },
    "network": {
        "otype": "FullyFusedMLP", "activation": "ReLU", "output_activation": "None",
        "n_neurons": 64, "n_hidden_layers": 1
    },
    "dir_encoding": {
        "otype": "Composite",
        "nested": [{"n_dims_to_encode": 3, "otype": "SphericalHarmonics", "degree": 4},
                   {"otype": "Identity"}]
    },
    "url": "http://example.org/a//b /* not a comment */"
}
"""

CHILD = """// a variant, as instant-NGP's configs/nerf/*.json derive from base.json
{
    "parent": "../base.json",
    "encoding": {"n_levels": 8, "per_level_scale": 1.5},   /* merged into the parent's */
    "optimizer": {"nested": {"nested": {"learning_rate": 5e-3}}},
    "loss": null
}
"""


@pytest.fixture
def configs(tmp_path):
    (tmp_path / "base.json").write_text(BASE)
    (tmp_path / "variants").mkdir()
    child = tmp_path / "variants" / "small.json"
    child.write_text(CHILD)
    return tmp_path / "base.json", child


def test_comments_outside_strings_are_removed(configs):
    base = tcnn.load_config(configs[0])
    assert base["url"] == "http://example.org/a//b /* not a comment */"
    assert base["encoding"] == {
        "otype": "HashGrid",
        "n_levels": 6,
        "n_features_per_level": 2,
        "log2_hashmap_size": 12,
        "base_resolution": 16,
    }
    assert base["optimizer"]["nested"]["nested"]["epsilon"] == 1e-15


def test_parent_is_relative_to_the_file_and_merged_recursively(configs):
    base, child = configs
    merged = tcnn.load_config(str(child))
    expected = json.loads(strip_comments(BASE))
    expected["encoding"].update(n_levels=8, per_level_scale=1.5)
    expected["optimizer"]["nested"]["nested"]["learning_rate"] = 5e-3
    del expected["loss"]
    assert merged == expected
    assert "parent" not in merged


def test_the_loaded_config_builds_the_models(configs):
    cfg = tcnn.load_config(configs[1])
    grid = from_config(cfg["encoding"], 3)
    assert grid.num_levels == 8 and grid.out_dim == 16
    assert from_config(cfg["dir_encoding"], 5).out_dim == 16 + 2
    net = network_from_config(cfg["network"], grid.out_dim, 4)
    assert net(grid(torch.rand(32, 3))).shape == (32, 4)
    model = model_from_config({k: cfg[k] for k in ("encoding", "network", "optimizer")}, 3, 4)
    assert model(torch.rand(7, 3)).shape == (7, 4)
    field = tcnn.NetworkWithInputEncoding(3, 4, cfg["encoding"], cfg["network"])
    assert field(torch.rand(5, 3)).shape == (5, 4)


def test_encoding_files_and_strings_take_comments(tmp_path):
    path = tmp_path / "enc.json"
    path.write_text('{"otype": "Frequency", // sinusoids\n "n_frequencies": 3 /* per dim */}')
    assert from_config(path, 2).out_dim == 12
    assert from_config('{"otype": "Identity" /* raw */}', 2).out_dim == 2


def test_merge_patch_semantics():
    parent = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_patch(parent, {"a": {"c": [3]}, "d": None, "e": {"f": 1}}) == {
        "a": {"b": 1, "c": [3]},
        "e": {"f": 1},
    }
    assert merge_patch({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert parent == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # not modified


@pytest.mark.parametrize(
    "files, fragment",
    [
        ({"c.json": '{"parent": "missing.json"}'}, "missing.json"),
        (
            {"c.json": '{"parent": "p.json"}', "p.json": '{"parent": "c.json"}'},
            "parent files form a cycle",
        ),
        ({"c.json": '{"parent": 3}'}, "key 'parent': must be a file path, got 3"),
        ({"c.json": '{"a": 1 /* open'}, "line 1: a /* comment is never closed"),
        ({"c.json": '{\n  "a": 1,\n  "b": \n}'}, "not valid JSON: Expecting value at line 4"),
        ({"c.json": "[1, 2]"}, "must be a JSON object, got list"),
        ({"c.json": '{"parent": "p.json"}', "p.json": "{,}"}, "p.json' (parent of "),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, files, fragment):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as info:
        tcnn.load_config(tmp_path / "c.json")
    assert fragment in str(info.value)
    assert "c.json" in str(info.value)


@pytest.mark.parametrize(
    "build, fragment",
    [
        (
            lambda: from_config({"otype": "HashGrid", "n_level": 4}, 3),
            "unknown key 'n_level'; allowed keys: otype, ",
        ),
        (lambda: from_config({"otype": "HashGrid", "n_level": 4}, 3), "did you mean 'n_levels'?"),
        (lambda: from_config({"otype": "HashGird"}, 3), "did you mean 'HashGrid'?"),
        (
            lambda: network_from_config({"otype": "FullyFusedMLP", "n_neuron": 64}, 3, 1),
            "did you mean 'n_neurons'?",
        ),
        (
            lambda: model_from_config({"encodings": {"otype": "Identity"}}, 3, 1),
            "did you mean 'encoding'?",
        ),
    ],
)
def test_unknown_keys_suggest_the_nearest_valid_key(build, fragment):
    with pytest.raises(ValueError) as info:
        build()
    assert fragment in str(info.value)


def test_nearest_name():
    assert (
        nearest_name("log2_hashmapsize", ["log2_hashmap_size", "n_levels"]) == "log2_hashmap_size"
    )
    assert nearest_name("xyz", ["n_levels", "otype"]) is None
    assert did_you_mean("xyz", ["n_levels"]) == ""
    assert did_you_mean("Otype", ["otype"]) == "; did you mean 'otype'?"
