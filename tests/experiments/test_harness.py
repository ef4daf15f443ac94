"""The experiment harness: budgets, run cache, claims, results writer, command line."""

import dataclasses
import json
from typing import Optional

import pytest

from coordnet.experiments import (
    VERDICTS,
    Budget,
    Claim,
    RunCache,
    verdict_from_interval,
    verdict_within,
)
from coordnet.experiments.results import write_results


@dataclasses.dataclass(frozen=True)
class Toy(Budget):
    steps: int = 100
    lr: float = 1e-3
    shuffle: bool = True
    name: str = "toy"
    seed: Optional[int] = None
    levels: tuple[int, ...] = (4, 8, 16)
    sigmas: tuple[float, ...] = (1.0, 10.0)
    images: tuple[str, ...] = ("a", "b")


# budget ---------------------------------------------------------------------------------------


def test_overrides_parse_each_annotation():
    toy = Toy().with_overrides(
        [
            "steps=7",
            "lr=0.5",
            "shuffle=false",
            "name=x=y",
            "seed=3",
            "levels=1,2",
            "sigmas=0.5",
            "images=p, q",
        ]
    )
    assert toy == Toy(
        steps=7,
        lr=0.5,
        shuffle=False,
        name="x=y",
        seed=3,
        levels=(1, 2),
        sigmas=(0.5,),
        images=("p", "q"),
    )
    assert isinstance(toy.lr, float) and isinstance(toy.steps, int)
    assert Toy(seed=5).with_overrides(["seed=none"]).seed is None
    assert Toy().with_overrides(["shuffle=1"]).shuffle is True
    assert Toy().with_overrides([]) == Toy()


def test_overrides_return_a_new_frozen_budget():
    base = Toy()
    changed = base.with_overrides(["steps=1"])
    assert base.steps == 100 and changed.steps == 1 and type(changed) is Toy
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.steps = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "assignment, key",
    [
        ("stepz=3", "stepz"),
        ("steps=three", "steps"),
        ("lr=fast", "lr"),
        ("shuffle=maybe", "shuffle"),
        ("levels=1,x", "levels"),
        ("steps", "steps"),
    ],
)
def test_bad_overrides_name_the_key_and_list_valid_keys(assignment, key):
    with pytest.raises(ValueError) as error:
        Toy().with_overrides([assignment])
    message = str(error.value)
    assert repr(key) in message or key in message
    assert "steps, lr, shuffle, name, seed, levels, sigmas, images" in message


def test_as_dict_is_json_and_differences_list_every_changed_field():
    toy = Toy(steps=5, levels=(4,))
    assert json.loads(json.dumps(toy.as_dict())) == toy.as_dict()
    assert toy.as_dict()["levels"] == [4]
    assert toy.differences(Toy()) == ["steps: 5 vs 100", "levels: 4 vs 4,8,16"]
    assert Toy().differences(Toy()) == []


# cache ----------------------------------------------------------------------------------------


def test_cache_runs_once_and_reuses_for_equal_settings(tmp_path):
    cache = RunCache(tmp_path)
    calls = []

    def fn():
        calls.append(1)
        return {"value": (1, 2), "loss": 0.25}

    first = cache.load_or_run("run-a_1", {"levels": (4, 8), "lr": 0.1}, fn)
    again = cache.load_or_run("run-a_1", {"levels": [4, 8], "lr": 0.1}, fn)  # JSON-equal settings
    assert calls == [1]
    assert first == again == {"value": [1, 2], "loss": 0.25}
    stored = json.loads((tmp_path / "runs" / "run-a_1.json").read_text())
    assert stored == {"key": "run-a_1", "settings": {"levels": [4, 8], "lr": 0.1}, "result": first}
    assert cache.results() == {"run-a_1": first}


def test_cache_reruns_on_changed_settings_or_corrupt_file(tmp_path):
    cache = RunCache(tmp_path)
    counter = iter(range(10))

    def fn():
        return {"n": next(counter)}

    assert cache.load_or_run("k", {"steps": 1}, fn) == {"n": 0}
    assert cache.load_or_run("k", {"steps": 2}, fn) == {"n": 1}
    assert cache.load_or_run("k", {"steps": 2}, fn) == {"n": 1}
    (tmp_path / "runs" / "k.json").write_text(
        '{"key": "k", "settings": {"steps": 2}, "res'
    )  # interrupted write
    assert cache.load_or_run("k", {"steps": 2}, fn) == {"n": 2}
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".tmp")]


@pytest.mark.parametrize("key", ["../escape", "a/b", "", ".hidden", "sp ace", "x" * 300])
def test_cache_rejects_unsafe_keys(tmp_path, key):
    with pytest.raises(ValueError):
        RunCache(tmp_path).load_or_run(key, {}, lambda: {})


def test_cache_results_empty_without_runs(tmp_path):
    assert RunCache(tmp_path / "nothing").results() == {}


# claims ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "low, high, sign, verdict",
    [
        (0.1, 0.5, 1, "holds"),
        (-0.5, -0.1, 1, "reverses"),
        (-0.1, 0.2, 1, "inconclusive"),
        (-0.5, -0.1, -1, "holds"),
        (0.1, 0.5, -1, "reverses"),
        (0.0, 0.3, 1, "inconclusive"),
    ],
)
def test_verdict_from_interval(low, high, sign, verdict):
    assert verdict_from_interval(low, high, sign) == verdict


def test_verdict_from_interval_rejects_bad_input():
    with pytest.raises(ValueError):
        verdict_from_interval(0.1, 0.2, 0)
    with pytest.raises(ValueError):
        verdict_from_interval(0.3, 0.2, 1)


def test_verdict_within():
    assert verdict_within(1.04, 1.0, 0.05) == "within"
    assert verdict_within(1.06, 1.0, 0.05) == "outside"
    assert verdict_within(float("nan"), 1.0, 0.05) == "outside"
    with pytest.raises(ValueError):
        verdict_within(1.0, 1.0, -1.0)


def test_claim_checks_its_verdict():
    claim = Claim("c", "Sec. 3", 1.0, 2.0, "holds")
    assert claim.differs == [] and claim.note == ""
    assert set(VERDICTS) == {"holds", "reverses", "inconclusive", "within", "outside"}
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "Sec. 3", 1.0, 2.0, "true")


# results --------------------------------------------------------------------------------------


def test_write_results_json_and_markdown(tmp_path):
    claims = [
        Claim("slope", "Fig. 2", 2.0, 1.93, "within", ["steps: 5 vs 100"], note="k = 8..30"),
        Claim("order | pipe", "authors' code: train.py", "low first", "low first", "holds"),
    ]
    path = write_results(
        tmp_path / "out",
        experiment="toy2019",
        budget_name="cpu",
        budget=Toy(steps=5),
        paper_budget=Toy(),
        claims=claims,
        tables={"t": [[1, 2]]},
        extra={"seconds": 1.5},
    )
    assert path == tmp_path / "out" / "results.json"
    data = json.loads(path.read_text())
    assert set(data) == {
        "experiment",
        "budget",
        "settings",
        "differs_from_paper",
        "claims",
        "tables",
        "extra",
        "versions",
        "date",
    }
    assert data["experiment"] == "toy2019" and data["budget"] == "cpu"
    assert data["settings"]["steps"] == 5 and data["settings"]["levels"] == [4, 8, 16]
    assert data["differs_from_paper"] == ["steps: 5 vs 100"]
    assert data["claims"][0] == {
        "name": "slope",
        "source": "Fig. 2",
        "paper": 2.0,
        "ours": 1.93,
        "verdict": "within",
        "differs": ["steps: 5 vs 100"],
        "note": "k = 8..30",
        **dict.fromkeys(
            ("n", "interval", "p_value", "p_holm", "expected_sign", "effect", "raw_verdict")
        ),
    }
    assert set(data["versions"]) == {"torch", "coordnet", "python"}
    assert data["tables"] == {"t": [[1, 2]]} and data["extra"] == {"seconds": 1.5, "alpha": 0.05}
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert (
        "| claim | source | paper | ours [95% interval] | n | p | p (Holm) | verdict | "
        "settings that differ |"
    ) in markdown
    assert (
        "| slope (k = 8..30) | Fig. 2 | 2 | 1.93 | – | – | – | within | as listed below |"
    ) in markdown
    assert "order \\| pipe" in markdown and "| holds | none |" in markdown
    assert "- steps: 5 vs 100" in markdown


def test_write_results_without_paper_budget(tmp_path):
    path = write_results(
        tmp_path, experiment="e", budget_name="paper", budget=Toy(), paper_budget=None, claims=[]
    )
    assert json.loads(path.read_text())["differs_from_paper"] == []


def test_differences_write_integer_runs_as_ranges():
    assert Toy(levels=tuple(range(1, 31))).differences(Toy()) == ["levels: 1…30 vs 4,8,16"]


@pytest.mark.parametrize(
    "value, sign, margin, verdict",
    [
        (0.9, 1, 0.5, "holds"),
        (0.3, 1, 0.5, "inconclusive"),
        (-0.9, 1, 0.5, "reverses"),
        (-0.2, -1, 0.0, "holds"),
        (0.0, 1, 0.0, "inconclusive"),
        (float("nan"), 1, 0.5, "inconclusive"),
    ],
)
def test_verdict_from_sign(value, sign, margin, verdict):
    from coordnet.experiments.claims import verdict_from_sign

    assert verdict_from_sign(value, sign, margin) == verdict
