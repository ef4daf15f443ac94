"""A :class:`SweepConfig` -> its runs: the Cartesian product images x models x grid values x seeds."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any, Dict, List

from coordnet.nets import ModelSpec
from coordnet.sweep.config import SweepConfig
from coordnet.training.learning_rates import default_lr
from coordnet.training.trainer import TrainConfig

HASH_LENGTH = 16


def config_hash(config: Dict[str, Any]) -> str:
    """A stable hex digest (16 characters of SHA-256) of a JSON-ready ``config``: key order
    does not matter, any value does."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class Run:
    """One fit of a sweep.

    Attributes:
        config: everything the fit depends on (hashed): ``image``, ``size``, ``split``,
            ``spec`` (:meth:`ModelSpec.to_dict`), ``train`` (:meth:`TrainConfig.to_dict`), ``device``.
        model: the ``[[models]]`` name this run belongs to (the series in tables and plots).
        params: the grid values of this run, ``{"sigma": 10}`` (keys as written, ``net.width``
            when the key is a net key).
        group: the ``images`` entry the image came from (a folder's images share one group).
        label: the model's canonical spec label.
        hash: :func:`config_hash` of ``config``: the run's folder name.
    """

    config: Dict[str, Any]
    model: str
    params: Dict[str, Any]
    group: str
    label: str
    hash: str

    @property
    def seed(self) -> int:
        return int(self.config["train"]["seed"])

    @property
    def image(self) -> str:
        return str(self.config["image"])

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready; :meth:`from_dict` gives the run back (how runs travel to worker processes)."""
        return {
            "config": self.config,
            "model": self.model,
            "params": self.params,
            "group": self.group,
            "label": self.label,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Run":
        return cls(
            data["config"],
            data["model"],
            dict(data["params"]),
            data["group"],
            data["label"],
            data["hash"],
        )


def _param_name(role: str, key: str) -> str:
    return key if role == "encoder" else f"net.{key}"


def expand(sweep: SweepConfig) -> List[Run]:
    """Every run of ``sweep``, image-major (then model, grid values in file order, seed).

    The learning rate is the model's ``lr``, else the sweep's, else
    :func:`coordnet.training.learning_rates.default_lr` of the model. Raises ``ValueError`` if two
    runs would share a config (e.g. the same image listed twice)."""
    runs: List[Run] = []
    for image in sweep.images:
        for model in sweep.models:
            keys = list(model.grid)
            for values in itertools.product(*(model.grid[k] for k in keys)):
                encoder_args, net_args = dict(model.spec.encoder_args), dict(model.spec.net_args)
                for (role, key), value in zip(keys, values):
                    (encoder_args if role == "encoder" else net_args)[key] = value
                spec = ModelSpec(model.spec.encoder, encoder_args, model.spec.net, net_args)
                lr = model.lr or sweep.lr or default_lr(spec)
                params = {_param_name(role, key): value for (role, key), value in zip(keys, values)}
                for seed in sweep.seeds:
                    train = TrainConfig(
                        steps=sweep.steps,
                        lr=lr,
                        schedule=sweep.schedule,
                        batch_size=sweep.batch_size,
                        seed=seed,
                        eval_every=min(sweep.eval_every or sweep.steps, sweep.steps),
                    )
                    config = {
                        "image": image.source,
                        "size": sweep.size,
                        "split": sweep.split,
                        "spec": spec.to_dict(),
                        "train": train.to_dict(),
                        "device": sweep.device,
                    }
                    runs.append(
                        Run(
                            config, model.name, params, image.group, spec.label, config_hash(config)
                        )
                    )
    seen: Dict[str, Run] = {}
    for run in runs:
        if run.hash in seen:
            raise ValueError(
                f"two runs of the sweep are the same fit ({run.label} on {run.image}, seed {run.seed}); "
                "is an image listed twice?"
            )
        seen[run.hash] = run
    return runs


def uses_cuda(run: Run) -> bool:
    """Whether ``run`` fits on a CUDA device (then a cluster gives it a GPU)."""
    return str(run.config["device"]).startswith("cuda")
