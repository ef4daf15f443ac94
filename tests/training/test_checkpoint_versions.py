"""Checkpoints of every readable version load through the one reader (coordnet.load)."""

import pytest
import torch

import coordnet
from coordnet.nets import build_model
from coordnet.training.checkpoint import FORMAT, HASH_KEY, VERSION, content_hash, upgrade

CONFIG = {"in_dim": 2, "out_dim": 1, "output_activation": "none", "signal_domain": [[0, 1], [0, 1]]}


def _save(path, version, spec, model):
    document = {
        "format": FORMAT,
        "version": version,
        "model_spec": spec,
        "model_config": CONFIG,
        "trainer": {"model": model.state_dict(), "step": 3},
    }
    if version > 1:
        document[HASH_KEY] = content_hash(document)
    torch.save(document, str(path))


@pytest.mark.parametrize(
    "old_spec, new_label",
    [
        (
            {"encoder": {"type": "gauss", "num_frequencies": 4, "scale": 3.0}, "net": "relu"},
            "gauss:num_frequencies=4,sigma=3",
        ),
        (
            {
                "encoder": {
                    "type": "hash",
                    "n_levels": 2,
                    "log2_hashmap_size": 6,
                    "per_level_scale": 1.5,
                },
                "net": {"type": "relu", "width": 8, "depth": 1},
            },
            "hash:num_levels=2,log2_table_size=6,growth=1.5+relu:width=8,depth=1",
        ),
        ({"encoder": {"type": "oneblob", "n_bins": 4}}, "oneblob:num_bins=4"),
        ({"encoder": {"type": "triwave", "n_frequencies": 3}}, "triwave:num_frequencies=3"),
    ],
)
def test_version_2_spec_keys_are_renamed_on_load(tmp_path, old_spec, new_label):
    model = build_model(new_label, 2, 1)
    torch.nn.init.normal_(next(model.parameters()))
    path = tmp_path / "old.pt"
    _save(path, 2, old_spec, model)
    loaded = coordnet.load(str(path))
    assert loaded.spec.label == new_label
    x = torch.rand(5, 2)
    torch.testing.assert_close(loaded(x), model.eval()(x), rtol=0, atol=0)


def test_version_1_loads_with_a_warning_and_current_documents_are_unchanged(tmp_path):
    model = build_model("gauss:num_frequencies=4,sigma=3", 2, 1)
    path = tmp_path / "v1.pt"
    _save(path, 1, {"encoder": {"type": "gauss", "num_frequencies": 4, "scale": 3.0}}, model)
    with pytest.warns(UserWarning, match="version 1"):
        assert coordnet.load(str(path)).spec.label == "gauss:num_frequencies=4,sigma=3"
    current = {"version": VERSION, "model_spec": {"encoder": {"type": "gauss", "scale": 1.0}}}
    assert upgrade(current) is current  # version 3 keys are never rewritten
