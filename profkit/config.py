"""RunConfig: one training run, validated on construction; the paper's presets.

Adding a setting: add one field to RunConfig with `_setting(default, "help text", ...)`
(choices=..., none="what None means", id_omits_default=True so that the run ids of existing
configs stay as they are), and check its value in __post_init__. `profkit run` gets the flag
--the-field (with --no-the-field for a bool) and its help line stating the default from the
field itself (profkit/commands/runflags.py); tests/test_cli_run.py checks that every field has one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from profkit.implementation import IMPLEMENTATIONS, resolve
from profkit.methods import check_method_name, get_method, id_params
from profkit.validation import ConfigError, check_bool, check_choice, check_int, check_real

OPTIMIZERS = ("adam", "sgd")
OPTIMIZER_IMPLS = ("default", "foreach", "fused")
PAPER_EPOCHS = 50


def _setting(default: Any, help: str, *, compare: bool = True, hash: bool | None = None,
             **flag: Any) -> Any:
    """A RunConfig field with its command-line description in the field's metadata.

    `default` is the value, or a factory (a type) for mutable defaults. Optional keys in
    `flag`: choices; none (what None means); flag (the flag's name when not --field-name);
    metavar; id_omits_default (True for every field added after run ids were first published:
    the field enters the run id only when it differs from its default). profkit.commands.runflags
    builds the `profkit run` flags from these.
    """
    meta = {"help": help, **flag}
    if isinstance(default, type):
        return field(default_factory=default, compare=compare, hash=hash, metadata=meta)
    return field(default=default, compare=compare, hash=hash, metadata=meta)


def _default(f: dataclasses.Field[Any]) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run. Frozen; invalid values raise ConfigError."""

    method: str = _setting("standard", "training method; `profkit run --list-methods` lists them")
    dataset: str = _setting("mnist-5k", "dataset; `profkit run --list-datasets` lists them")
    hidden_layers: int = _setting(3, "number of hidden layers, 1-50")
    width: int = _setting(1000, "units per hidden layer")
    batch_size: int = _setting(20, "training batch size; the paper: 1, MC-approx 20")
    epochs: int = _setting(1, "training epochs; the paper: 50")
    max_steps: int | None = _setting(None, "stop after this many training steps over the "
                                           "whole run, for quick looks", none="no cap")
    optimizer: str = _setting("adam", "optimizer", choices=OPTIMIZERS)
    lr: float = _setting(1e-3, "learning rate")
    adam_eps: float = _setting(1e-8, "Adam's epsilon; the paper preset: 1e-4")
    momentum: float = _setting(0.0, "SGD momentum, in [0, 1]; Adam ignores it")
    optimizer_impl: str = _setting("default", "torch optimizer implementation; it changes the "
                                   "optimizer's cost", choices=OPTIMIZER_IMPLS)
    flush_denormal: bool = _setting(False, "flush subnormal floats to zero, "
                                           "torch.set_flush_denormal")
    implementation: str = _setting(
        "paper", "paper: the paper's protocol; tuned: the best CPU implementation of the same "
        "algorithm (fused Adam/SGD when optimizer_impl is default, flush-denormal on, lazy "
        "row-sparse updates for ALSH-approx and Dropout gather; docs/implementations.md)",
        choices=("paper", "tuned"), id_omits_default=True)
    seed: int = _setting(0, "random seed for initialisation, shuffling and sampling")
    # One thread by default for every timing run (run, demo, sweeps, the API): two jobs on
    # two cores disturb each other, and ratios are comparable only at a fixed thread count.
    # None (API only) leaves torch's choice for this machine; run.json records both.
    threads: int | None = _setting(1, "torch intra-op threads, recorded in run.json; fixed "
                                   "so that timings are comparable (docs/architecture.md)")
    workers: int = _setting(
        1, "worker processes training asynchronously on parameters in shared memory "
        "(HOGWILD-style, profkit/hogwild.py); 1 trains in this process", id_omits_default=True)
    warmup_steps: int = _setting(20, "first steps flagged as warm-up in the phase table")
    eval_batch_size: int = _setting(1000, "batch size of validation and test evaluation")
    method_params: dict[str, Any] = _setting(
        dict, "a method parameter, repeatable: --param p=0.05; VALUE is parsed as JSON if "
        "it can", flag="--param", metavar="KEY=VALUE", none="the method's defaults", hash=False)
    repeat: int = _setting(0, "repeat index (part of the run id)")
    results: str = _setting("results", "results directory", compare=False, metavar="DIR")
    data_dir: str | None = _setting(None, "directory holding dataset files", compare=False,
                                    metavar="DIR",
                                    none="$PROFKIT_DATA, else the platform cache directory")

    def __post_init__(self) -> None:
        check_int("hidden_layers", self.hidden_layers, 1, 50)
        check_int("width", self.width, 1, 1_000_000)
        check_int("batch_size", self.batch_size, 1)
        check_int("epochs", self.epochs, 1)
        if self.max_steps is not None:
            check_int("max_steps", self.max_steps, 1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_real("lr", self.lr, 0.0, 10.0, lo_open=True)
        check_real("adam_eps", self.adam_eps, 0.0, 1.0, lo_open=True)
        check_real("momentum", self.momentum, 0.0, 1.0)
        if self.optimizer == "adam" and self.momentum != 0.0:
            # it would change nothing but the run id: refuse it rather than record a no-op
            raise ConfigError(f"momentum only applies to --optimizer sgd (Adam's moving "
                              f"averages are its betas); got momentum {self.momentum} with "
                              "adam: drop --momentum or add --optimizer sgd")
        check_choice("optimizer_impl", self.optimizer_impl, OPTIMIZER_IMPLS)
        check_bool("flush_denormal", self.flush_denormal)
        self._resolve_implementation()
        check_int("seed", self.seed, 0, 2**63 - 1)
        if self.threads is not None:
            check_int("threads", self.threads, 1, 1024)
        check_int("workers", self.workers, 1, 256)
        check_int("warmup_steps", self.warmup_steps, 0)
        check_int("eval_batch_size", self.eval_batch_size, 1)
        check_int("repeat", self.repeat, 0)
        check_method_name(self.method)  # torch-free: a misspelt method fails at once
        # The dataset registry and the methods' classes import torch: checked last, so that a
        # bad number or name fails at once.
        from profkit.data.registry import check_dataset_name

        check_dataset_name(self.dataset)
        # Normalise method params to the method's full set (defaults filled in), so they are
        # recorded explicitly in every run and two spellings of one config get one run id.
        object.__setattr__(self, "method_params", check_method_params(self.method,
                                                                     self.method_params))

    def _resolve_implementation(self) -> None:
        check_choice("implementation", self.implementation, IMPLEMENTATIONS)
        impl, flush = resolve(self.implementation, self.optimizer_impl, self.flush_denormal)
        object.__setattr__(self, "optimizer_impl", impl)
        object.__setattr__(self, "flush_denormal", flush)

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
        for f in dataclasses.fields(self):
            # Output paths never enter the id; a field added later enters it only when set,
            # so adding a setting keeps the ids (and the finished runs) of every old config.
            if not f.compare or (f.metadata.get("id_omits_default") and d[f.name] == _default(f)):
                d.pop(f.name)
        d["method_params"] = id_params(self.method, d["method_params"])
        digest = hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()
        return (f"{self.method}-{self.dataset}-h{self.hidden_layers}-w{self.width}"
                f"-b{self.batch_size}-{digest[:10]}-r{self.repeat}")


def check_method_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Validate `params` against the method's Params dataclass; return them with defaults filled."""
    cls = get_method(name).Params  # imports the method's class (torch)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params or {}) - fields)
    if unknown:
        valid = ", ".join(sorted(fields)) or "(none)"
        raise ConfigError(f"method {name!r} has no parameter(s) {unknown}; its parameters: {valid}")
    try:
        return dataclasses.asdict(cls(**(params or {})))
    except (TypeError, ValueError) as e:
        raise ConfigError(f"method {name!r}: {e}") from None


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
    """The paper's defaults (§8.4 and docs/methods.md).

    Adam with eps 1e-4 (the authors' code), lr 1e-3, 50 epochs, 3 hidden layers of 1000.
    Batch size as in the authors' code: 20 for MC-approx, 1 for every other method (the paper's
    Table 2 compares methods at different batch sizes; profkit records it in every table).
    MC-approx at batch 1 ("MC-approxS") uses lr 1e-4. Subnormal floats are not flushed, as in
    plain PyTorch and the paper.
    """
    if batch_size is None:
        batch_size = 20 if method == "mc-approx" else 1
    lr = 1e-4 if (method == "mc-approx" and batch_size == 1) else 1e-3
    base: dict[str, Any] = dict(
        method=method, dataset=dataset, hidden_layers=3, width=1000, batch_size=batch_size,
        epochs=PAPER_EPOCHS, optimizer="adam", lr=lr, adam_eps=1e-4, flush_denormal=False,
        method_params=get_method(method).paper_params())
    base.update(overrides)
    return RunConfig(**base)


PRESETS = {"default": None, "paper": paper_config}
