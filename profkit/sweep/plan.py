"""The sweep plan: a SweepSpec expanded into RunConfigs, deduplicated and interleaved by repeat."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path
from typing import Any

from profkit.config import ConfigError, RunConfig, paper_config
from profkit.methods import METHODS, get_method, paper_params
from profkit.sweep.spec import PARAM, SweepFileError, SweepSpec


def grid_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every axis combination of every grid block, in file order (duplicates kept)."""
    points = []
    for block in spec.blocks():
        keys = list(block)
        for values in itertools.product(*(block[k] for k in keys)):
            points.append(dict(zip(keys, values, strict=True)))
    return points


def point_settings(spec: SweepSpec, point: dict[str, Any],
                   defaults: dict[str, Any]) -> dict[str, Any]:
    """One grid point's settings: defaults < [fixed] < axes < matching [[when]] < --set."""
    settings = {**defaults, **spec.fixed, **point}
    for rule in spec.when:
        if rule.matches(settings):
            settings.update(rule.set)
    settings.update(spec.final)
    return settings


def _method_params(spec: SweepSpec, method: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Paper params (paper preset) < [params.METHOD] < param.* settings the method has."""
    own = {f.name for f in dataclasses.fields(get_method(method).Params)}
    params = dict(paper_params(method)) if spec.preset == "paper" else {}
    params.update(spec.params.get(method, {}))
    params.update({k[len(PARAM):]: v for k, v in settings.items()
                   if k.startswith(PARAM) and k[len(PARAM):] in own})
    return params


def make_config(spec: SweepSpec, settings: dict[str, Any], repeat: int,
                results: str) -> RunConfig:
    fields = {k: v for k, v in settings.items() if not k.startswith(PARAM)}
    method = fields.pop("method", "standard")
    params = _method_params(spec, method, settings)
    common = dict(method_params=params, repeat=repeat, results=results)
    if spec.preset == "paper":
        return paper_config(method, fields.pop("dataset", "mnist"),
                            fields.pop("batch_size", None), **fields, **common)
    return RunConfig(method=method, **fields, **common)


def _check_params_tables(spec: SweepSpec) -> None:
    """[params.METHOD] for a method that does not exist is a typo, not a silent no-op."""
    unknown = sorted(set(spec.params) - set(METHODS))
    if unknown:
        raise SweepFileError(f"{spec.source}: {', '.join(f'[params.{m}]' for m in unknown)} "
                             f"names no method; valid methods: {', '.join(METHODS)}")


def _check_param_axes(spec: SweepSpec, configs: list[RunConfig]) -> None:
    """A param.NAME that no method in the sweep has is a typo, not a silent no-op."""
    names = {k[len(PARAM):] for b in spec.blocks() for k in b if k.startswith(PARAM)}
    names |= {k[len(PARAM):] for k in {**spec.fixed, **spec.final} if k.startswith(PARAM)}
    known = {k for c in configs for k in c.method_params}
    missing = sorted(names - known)
    if missing:
        methods = sorted({c.method for c in configs})
        raise SweepFileError(f"{spec.source}: no method in this sweep ({', '.join(methods)}) has "
                             f"parameter(s) {missing}")


def base_configs(spec: SweepSpec, results: str | Path,
                 defaults: dict[str, Any] | None = None) -> list[RunConfig]:
    """The distinct configurations of the grid (repeat 0), in grid order."""
    _check_params_tables(spec)
    out: dict[str, RunConfig] = {}
    for point in grid_points(spec):
        settings = point_settings(spec, point, defaults or {})
        try:
            cfg = make_config(spec, settings, 0, str(results))
        except (ConfigError, ValueError, TypeError) as e:
            raise SweepFileError(f"{spec.source}: grid point {point}: {e}") from None
        out.setdefault(cfg.run_id, cfg)
    configs = list(out.values())
    _check_param_axes(spec, configs)
    return configs


def interleave(configs: list[RunConfig], repeats: int, seed: int) -> list[RunConfig]:
    """Repeat 0 of every config, then repeat 1, ...; each round in its own seeded shuffle,
    so slow drift of the machine (thermal, neighbours) hits every method alike."""
    rng = random.Random(seed)
    order: list[RunConfig] = []
    for r in range(repeats):
        round_ = [c.replace(repeat=r) for c in configs]
        rng.shuffle(round_)
        order.extend(round_)
    return order


def plan(spec: SweepSpec, results: str | Path,
         defaults: dict[str, Any] | None = None) -> list[RunConfig]:
    """Every run of the sweep, in execution order."""
    return interleave(base_configs(spec, results, defaults), spec.repeats, spec.shuffle_seed)
