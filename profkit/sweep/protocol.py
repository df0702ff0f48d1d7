"""The reproduction protocol: profkit/sweep/reproduce.toml read into parts, planned and costed.

A part is a sweep (its `[PART.sweep]`, `[PART.fixed]`, `[PART.axes]`, `[[PART.also]]`,
`[[PART.when]]` tables are a sweep file's, docs/sweeps.md), a sweep that is another part's
runs on fewer datasets (`same_as`), or the §7 error-propagation study (`errorprop`). The plan
fits the accuracy part's epochs to the budget with the cost model in profkit/sweep/cost.py.
Nothing here imports torch until a RunConfig is built.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from profkit.config import RunConfig
from profkit.sweep.cost import CostModel, errorprop_units, run_seconds
from profkit.sweep.plan import plan as sweep_plan
from profkit.sweep.spec import SweepFileError, SweepSpec, parse

PROTOCOL_FILE = Path(__file__).with_name("reproduce.toml")
ERRORPROP = "errorprop"
FIT = "fit"
_SWEEP_TABLES = ("sweep", "fixed", "axes", "params", "also", "when")


class ProtocolError(SweepFileError):
    """A bad --parts/--datasets/--budget or a malformed protocol file; the message says the fix."""


@dataclass
class Part:
    name: str
    description: str
    datasets: tuple[str, ...]
    spec: SweepSpec | None = None  # sweep parts
    probes: tuple[str, ...] = ()
    same_as: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # errorprop's study settings, epochs


@dataclass
class Protocol:
    parts: dict[str, Part]  # in execution order
    datasets: tuple[str, ...]
    budget_hours: float
    paper_epochs: int
    cost: CostModel
    source: str


def load_protocol(path: str | Path | None = None) -> Protocol:
    path = Path(path) if path is not None else PROTOCOL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no protocol file {path}; the default is {PROTOCOL_FILE.name} "
                                "beside profkit/sweep/protocol.py")
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ProtocolError(f"{path} is not valid TOML: {e}") from None
    head = doc.get("protocol", {})
    order = head.get("order", [k for k in doc if k not in ("protocol", "cost")])
    parts: dict[str, Part] = {}
    for name in order:
        if name not in doc:
            raise ProtocolError(f"{path}: [protocol] order names {name!r} but there is no [{name}]")
        parts[name] = _part(name, doc[name], str(path))
    for p in parts.values():
        if p.same_as is not None and p.same_as not in parts:
            raise ProtocolError(f"{path}: [{p.name}] same_as = {p.same_as!r} is not a part")
    return Protocol(parts, tuple(head.get("datasets", ())), float(head.get("budget_hours", 4.0)),
                    int(head.get("paper_epochs", 50)), CostModel.from_table(doc.get("cost", {})),
                    str(path))


def _part(name: str, table: dict[str, Any], source: str) -> Part:
    meta = {k: v for k, v in table.items() if k not in _SWEEP_TABLES}
    part = Part(name, meta.pop("description", name), tuple(meta.pop("datasets", ())),
                probes=tuple(meta.pop("probes", ())), same_as=meta.pop("same_as", None))
    if name == ERRORPROP:
        part.options = meta
        return part
    part.options = meta  # epochs = "fit", min_epochs, max_epochs
    if part.same_as is None:
        sweep_doc = {k: table[k] for k in _SWEEP_TABLES if k in table}
        part.spec = parse(sweep_doc, f"{source} [{name}]")
    return part


def select(protocol: Protocol, parts: list[str] | None,
           datasets: list[str] | None) -> tuple[list[str], list[str]]:
    """Check --parts and --datasets against the protocol; return them in protocol order."""
    valid_parts = list(protocol.parts)
    chosen = parts or valid_parts
    bad = [p for p in chosen if p not in protocol.parts]
    if bad:
        raise ProtocolError(f"unknown part(s) {bad}; valid parts: {', '.join(valid_parts)}")
    ds = datasets or list(protocol.datasets)
    bad = [d for d in ds if d not in protocol.datasets]
    if bad:
        raise ProtocolError(f"unknown dataset(s) {bad} for the protocol; valid datasets: "
                            f"{', '.join(protocol.datasets)}")
    return [p for p in valid_parts if p in chosen], [d for d in protocol.datasets if d in ds]


@dataclass
class PartPlan:
    part: Part
    configs: list[RunConfig]  # sweep parts, in execution order
    units: list[dict[str, Any]]  # errorprop: one per (method, depth, seed)
    seconds: float  # the cost model's estimate of the whole part
    note: str = ""


@dataclass
class Plan:
    parts: list[PartPlan]
    epochs: int | None  # the accuracy epochs, None without an epochs-fitted part
    epochs_note: str
    budget_hours: float
    reserved_s: float = 0.0  # the estimated seconds of the parts not chosen now
    cost: CostModel = field(default_factory=CostModel)

    @property
    def hours(self) -> float:
        return sum(p.seconds for p in self.parts) / 3600

    def all_configs(self) -> list[RunConfig]:
        seen: dict[str, RunConfig] = {}
        for p in self.parts:
            for c in p.configs:
                seen.setdefault(c.run_id, c)
        return list(seen.values())


def _spec_for(protocol: Protocol, part: Part, datasets: list[str], sets: dict[str, Any],
              epochs: int | None) -> SweepSpec | None:
    source = protocol.parts[part.same_as] if part.same_as else part
    assert source.spec is not None
    ds = [d for d in datasets if d in part.datasets]
    if not ds:
        return None
    over: dict[str, Any] = {"dataset": ds}
    if epochs is not None and source.options.get("epochs") == FIT and "epochs" not in sets:
        over["epochs"] = epochs
    spec = source.spec.with_overrides({**over, **sets})
    # an [[also]] block that names its own datasets (the MNIST-only depth study) keeps those
    # of them that were chosen, rather than taking every chosen dataset
    if "dataset" in sets:
        return spec
    also = []
    for mine, got in zip(source.spec.also, spec.also, strict=True):
        if "dataset" in mine:
            keep = [d for d in mine["dataset"] if d in ds]
            if not keep:
                continue
            got = {**got, "dataset": keep}
        also.append(got)
    return replace(spec, also=also)


def _sweep_configs(spec: SweepSpec | None, results: Path) -> list[RunConfig]:
    return [] if spec is None else sweep_plan(spec, results)


def _epoch_fitted(protocol: Protocol, names: list[str]) -> list[Part]:
    return [protocol.parts[n] for n in names
            if (protocol.parts[protocol.parts[n].same_as or n]).options.get("epochs") == FIT]


def make_plan(protocol: Protocol, names: list[str], datasets: list[str], results: str | Path,
              budget_hours: float | None = None, sets: dict[str, Any] | None = None,
              epochs: int | None = None) -> Plan:
    """The chosen parts' runs and estimated seconds, the accuracy epochs fitted to the budget
    (or `epochs` when given: the value recorded at the first start of these results).

    The budget is for the whole protocol: the parts not chosen now (e.g. runtime, run later on
    a quiet machine) keep their share of it, so that the parts run at different times add up
    to the budget together."""
    results, sets = Path(results).resolve(), dict(sets or {})
    budget = protocol.budget_hours if budget_hours is None else budget_hours
    if not budget > 0:
        raise ProtocolError(f"--budget must be a positive number of hours, got {budget}")
    everything = list(protocol.parts)
    fitted_all = _epoch_fitted(protocol, everything)
    fixed = [_fixed_plan(protocol, protocol.parts[n], datasets, sets, results)
             for n in everything if protocol.parts[n] not in fitted_all]
    note = ""
    if fitted_all and epochs is None and "epochs" not in sets:
        epochs, note = _fit_epochs(protocol, fitted_all, datasets, sets, results,
                                   budget * 3600 - sum(p.seconds for p in fixed))
    elif fitted_all:
        epochs = int(sets.get("epochs", epochs))
        note = "given" if "epochs" in sets else "recorded at the first start of these results"
    chosen_fitted = [p for p in fitted_all if p.name in names]
    fitted = _fitted_plans(protocol, chosen_fitted, datasets, sets, results, epochs, [])
    order = {n: i for i, n in enumerate(everything)}
    parts = sorted([p for p in fixed if p.part.name in names] + fitted,
                   key=lambda p: order[p.part.name])
    reserved = sum(p.seconds for p in fixed if p.part.name not in names)
    return Plan(parts, epochs if chosen_fitted else None, note, budget, reserved, protocol.cost)


def _fixed_plan(protocol: Protocol, part: Part, datasets: list[str], sets: dict[str, Any],
                results: Path) -> PartPlan:
    if part.name == ERRORPROP:
        pp = _errorprop_plan(part, datasets, sets, protocol.cost)
    else:
        cfgs = _sweep_configs(_spec_for(protocol, part, datasets, sets, None), results)
        pp = PartPlan(part, cfgs, [], sum(run_seconds(c, protocol.cost) for c in cfgs))
    return _note_datasets(pp, datasets)


def _note_datasets(pp: PartPlan, datasets: list[str]) -> PartPlan:
    if not any(d in pp.part.datasets for d in datasets):
        pp.note = f"none of its datasets ({', '.join(pp.part.datasets)}) was chosen"
    return pp


def _fitted_plans(protocol: Protocol, parts: list[Part], datasets: list[str],
                  sets: dict[str, Any], results: Path, epochs: int | None,
                  earlier: list[PartPlan]) -> list[PartPlan]:
    seen = {c.run_id for p in earlier for c in p.configs}
    out = []
    for part in parts:
        cfgs = _sweep_configs(_spec_for(protocol, part, datasets, sets, epochs), results)
        new = [c for c in cfgs if c.run_id not in seen]  # memory shares accuracy's runs
        seen.update(c.run_id for c in cfgs)
        note = "" if len(new) == len(cfgs) else f"{len(cfgs) - len(new)} runs shared with " \
                                                f"an earlier part"
        out.append(_note_datasets(PartPlan(part, cfgs, [], sum(run_seconds(c, protocol.cost)
                                                               for c in new), note), datasets))
    return out


def _fit_epochs(protocol: Protocol, parts: list[Part], datasets: list[str],
                sets: dict[str, Any], results: Path, left_s: float) -> tuple[int, str]:
    """The most epochs (in [min_epochs, max_epochs]) whose estimated cost fits `left_s`.
    A run's cost is linear in its epochs: a + b * epochs, from two evaluations."""
    opts = protocol.parts[parts[0].same_as or parts[0].name].options
    lo, hi = int(opts.get("min_epochs", 1)), int(opts.get("max_epochs", protocol.paper_epochs))

    def total(e: int) -> float:
        return sum(p.seconds for p in _fitted_plans(protocol, parts, datasets, sets, results,
                                                    e, []))

    one, two = total(1), total(2)
    per_epoch, base = two - one, 2 * one - two
    if per_epoch <= 0:
        return hi, "fitted to the budget"
    fit = math.floor((left_s - base) / per_epoch)
    if fit < lo:
        return lo, (f"the budget fits {max(fit, 0)} epochs after the other parts; running the "
                    f"minimum, {lo}, over budget")
    return min(fit, hi), "fitted to the budget"


def _errorprop_plan(part: Part, datasets: list[str], sets: dict[str, Any],
                    cost: CostModel) -> PartPlan:
    units = errorprop_units(part.options, [d for d in datasets if d in part.datasets], sets,
                            cost)
    return PartPlan(part, [], units, sum(u["seconds"] for u in units))
