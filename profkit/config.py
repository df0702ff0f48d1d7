"""RunConfig: one training run, validated on construction; the paper's presets."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("adam", "sgd")
OPTIMIZER_IMPLS = ("default", "foreach", "fused")
PAPER_EPOCHS = 50


class ConfigError(ValueError):
    """A field of RunConfig has an impossible value; the message names the field and the range."""


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ConfigError(f"{name} must be {rng}, got {value}")


def _check_float(name: str, value: Any, lo: float, hi: float, lo_open: bool = True) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    bad_lo = value <= lo if lo_open else value < lo
    if bad_lo or value > hi:
        left = "(" if lo_open else "["
        raise ConfigError(f"{name} must be in {left}{lo}, {hi}], got {value}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run. Frozen; invalid values raise ConfigError."""

    method: str = "standard"
    dataset: str = "mnist-5k"
    hidden_layers: int = 3
    width: int = 1000
    batch_size: int = 20
    epochs: int = 1
    max_steps: int | None = None  # cap on training steps over the whole run, for quick looks
    optimizer: str = "adam"
    lr: float = 1e-3
    adam_eps: float = 1e-8
    momentum: float = 0.0  # SGD only
    optimizer_impl: str = "default"  # torch's default, foreach or fused: it changes step cost
    flush_denormal: bool = False
    seed: int = 0
    threads: int | None = None  # None: torch's default for this machine, resolved and recorded
    warmup_steps: int = 20
    eval_batch_size: int = 1000
    method_params: dict[str, Any] = field(default_factory=dict, hash=False)
    repeat: int = 0
    results: str = field(default="results", compare=False)
    data_dir: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        from profkit.data.registry import check_dataset_name
        from profkit.methods import check_method_params

        check_dataset_name(self.dataset)
        _check_int("hidden_layers", self.hidden_layers, 1, 50)
        _check_int("width", self.width, 1, 1_000_000)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("epochs", self.epochs, 1)
        if self.max_steps is not None:
            _check_int("max_steps", self.max_steps, 1)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_float("lr", self.lr, 0.0, 10.0)
        _check_float("adam_eps", self.adam_eps, 0.0, 1.0)
        _check_float("momentum", self.momentum, 0.0, 1.0, lo_open=False)
        _check_choice("optimizer_impl", self.optimizer_impl, OPTIMIZER_IMPLS)
        if not isinstance(self.flush_denormal, bool):
            raise ConfigError(f"flush_denormal must be true or false, got {self.flush_denormal!r}")
        _check_int("seed", self.seed, 0, 2**63 - 1)
        if self.threads is not None:
            _check_int("threads", self.threads, 1, 1024)
        _check_int("warmup_steps", self.warmup_steps, 0)
        _check_int("eval_batch_size", self.eval_batch_size, 1)
        _check_int("repeat", self.repeat, 0)
        # Normalise method params to the method's full set (defaults filled in), so they are
        # recorded explicitly in every run and two spellings of one config get one run id.
        object.__setattr__(self, "method_params", check_method_params(self.method,
                                                                     self.method_params))

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; fields are: {sorted(names)}")
        return cls(**d)

    @property
    def run_id(self) -> str:
        """Deterministic id from everything that changes the run's results (not output paths)."""
        d = self.to_dict()
        for k in ("results", "data_dir"):
            d.pop(k)
        digest = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()
        return (f"{self.method}-{self.dataset}-h{self.hidden_layers}-w{self.width}"
                f"-b{self.batch_size}-{digest[:10]}-r{self.repeat}")


def parse_assignments(items: list[str], flag: str,
                      error: type[Exception] = ConfigError) -> dict[str, Any]:
    """KEY=VALUE items of a repeatable flag; VALUE is JSON when it parses (1, 0.5, true, ["a"]),
    else the plain string."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise error(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def paper_config(method: str, dataset: str = "mnist", batch_size: int | None = None,
                 **overrides: Any) -> RunConfig:
    """The paper's defaults (§8.4 and design/methods.md).

    Adam with eps 1e-4 (the authors' code), lr 1e-3, 50 epochs, 3 hidden layers of 1000.
    Batch size as in the authors' code: 20 for MC-approx, 1 for every other method (the paper's
    Table 2 compares methods at different batch sizes; profkit records it in every table).
    MC-approx at batch 1 ("MC-approxS") uses lr 1e-4. Subnormal floats are not flushed, as in
    plain PyTorch and the paper.
    """
    from profkit.methods import paper_params

    if batch_size is None:
        batch_size = 20 if method == "mc-approx" else 1
    lr = 1e-4 if (method == "mc-approx" and batch_size == 1) else 1e-3
    base = dict(method=method, dataset=dataset, hidden_layers=3, width=1000,
                batch_size=batch_size, epochs=PAPER_EPOCHS, optimizer="adam", lr=lr,
                adam_eps=1e-4, flush_denormal=False, method_params=paper_params(method))
    base.update(overrides)
    return RunConfig(**base)


PRESETS = {"default": None, "paper": paper_config}
