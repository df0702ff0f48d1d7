"""SweepSpec: a sweep file (TOML) parsed and validated, with command-line overrides applied.

A sweep file has these tables (all optional except `axes`):

    [sweep]    preset = "default" | "paper", repeats = 1, shuffle_seed = 0
    [fixed]    RunConfig fields that every run shares (epochs = 50, width = 1000, ...)
    [axes]     RunConfig fields -> lists of values; the grid is their product.
               "param.NAME" is a method-parameter axis; it varies only the methods that
               have a parameter NAME (the others get one run, not one per value).
    [params.METHOD]  fixed parameters of one method
    [[also]]   more grid points: the main axes with the ones named here replaced
    [[when]]   match = {field = value or [values]}, set = {field = value}: settings for
               the grid points that match (e.g. SGD for cifar10)
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profkit.config import PRESETS, RunConfig, parse_assignments
from profkit.validation import ConfigError, check_int

PARAM = "param."
TABLES = ("sweep", "fixed", "axes", "params", "also", "when")
SWEEP_KEYS = ("preset", "repeats", "shuffle_seed", "name", "description")
# Fields a sweep may not set: the results directory comes from --results, the repeat index
# from `repeats`, and method_params from [params.*] and param.* axes.
RESERVED = ("results", "repeat", "method_params")


class SweepFileError(ConfigError):
    """The sweep file (or a --set override) is malformed; the message names the key and the fix."""


def config_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in RESERVED)


def check_key(key: str, where: str) -> None:
    if key.startswith(PARAM) and len(key) > len(PARAM):
        return
    if key not in config_fields():
        raise SweepFileError(
            f"{where}: unknown setting {key!r}; settings are RunConfig fields "
            f"({', '.join(config_fields())}) or param.NAME for a method parameter")


@dataclass(frozen=True)
class When:
    match: dict[str, list[Any]]
    set: dict[str, Any]

    def matches(self, settings: dict[str, Any]) -> bool:
        return all(settings.get(k) in vals for k, vals in self.match.items())


@dataclass
class SweepSpec:
    """A parsed sweep: the grid blocks, fixed settings, per-point rules and final overrides."""

    axes: dict[str, list[Any]]
    fixed: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    also: list[dict[str, list[Any]]] = field(default_factory=list)
    when: list[When] = field(default_factory=list)
    preset: str = "default"
    repeats: int = 1
    shuffle_seed: int = 0
    final: dict[str, Any] = field(default_factory=dict)  # --set scalars: beat everything
    source: str = "<memory>"

    def blocks(self) -> list[dict[str, list[Any]]]:
        """The grid blocks: the main axes, then each [[also]] (main axes with its replaced)."""
        return [self.axes, *({**self.axes, **a} for a in self.also)]

    def with_overrides(self, sets: dict[str, Any], repeats: int | None = None) -> SweepSpec:
        """Apply --set KEY=VALUE overrides: a list becomes (or replaces) an axis everywhere;
        a single value replaces the axis with one value and beats fixed settings and rules."""
        axes, also = dict(self.axes), [dict(a) for a in self.also]
        fixed, final = dict(self.fixed), dict(self.final)
        for key, value in sets.items():
            check_key(key, "--set")
            values = value if isinstance(value, list) else [value]
            if not values:
                raise SweepFileError(f"--set {key}=[]: give at least one value")
            for block in (axes, *also):
                if key in block or (isinstance(value, list) and block is axes):
                    block[key] = values
            fixed.pop(key, None)
            if not isinstance(value, list):
                final[key] = value
        rep = self.repeats if repeats is None else _check_count("--repeats", repeats)
        return dataclasses.replace(self, axes=axes, also=also, fixed=fixed, final=final,
                                   repeats=rep)


def _check_count(name: str, value: Any, lo: int = 1) -> int:
    try:
        return check_int(name, value, lo)
    except ConfigError as e:  # the sweep file's own error type, for the CLI's message
        raise SweepFileError(str(e)) from None


def _axes(table: Any, where: str) -> dict[str, list[Any]]:
    if not isinstance(table, dict):
        raise SweepFileError(f"{where} must be a table of setting = [values]")
    for key, values in table.items():
        check_key(key, where)
        if not isinstance(values, list) or not values:
            raise SweepFileError(f"{where}.{key} must be a non-empty list of values, "
                                 f"e.g. {key} = [{json.dumps(values)}]")
    return dict(table)


def _settings(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SweepFileError(f"{where} must be a table of setting = value")
    for key in table:
        check_key(key, where)
    return dict(table)


def _when(items: Any) -> list[When]:
    if not isinstance(items, list):
        raise SweepFileError("[[when]] must be an array of tables with `match` and `set`")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"match", "set"}:
            raise SweepFileError(f"[[when]] #{i + 1} needs exactly two keys: match and set")
        match = _settings(item["match"], f"[[when]] #{i + 1} match")
        out.append(When({k: v if isinstance(v, list) else [v] for k, v in match.items()},
                        _settings(item["set"], f"[[when]] #{i + 1} set")))
    return out


def _sweep_table(table: Any) -> dict[str, Any]:
    table = _settings_any(table, "[sweep]", SWEEP_KEYS)
    preset = table.get("preset", "default")
    if preset not in PRESETS:
        raise SweepFileError(f"[sweep] preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    return {"preset": preset,
            "repeats": _check_count("[sweep] repeats", table.get("repeats", 1)),
            "shuffle_seed": _check_count("[sweep] shuffle_seed", table.get("shuffle_seed", 0), 0)}


def _settings_any(table: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SweepFileError(f"{where} must be a table")
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SweepFileError(f"{where}: unknown key(s) {unknown}; valid: {', '.join(keys)}")
    return table


def parse(doc: dict[str, Any], source: str = "<memory>") -> SweepSpec:
    """Build a SweepSpec from a parsed TOML document."""
    unknown = sorted(set(doc) - set(TABLES))
    if unknown:
        raise SweepFileError(f"{source}: unknown table(s) {unknown}; valid: {', '.join(TABLES)}")
    if "axes" not in doc:
        raise SweepFileError(f"{source}: no [axes] table; a sweep needs at least one axis, "
                             'e.g. [axes] method = ["standard"]')
    params = doc.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise SweepFileError(f"{source}: [params.METHOD] tables must hold NAME = value")
    also = doc.get("also", [])
    if not isinstance(also, list):
        raise SweepFileError(f"{source}: [[also]] must be an array of tables (double brackets)")
    return SweepSpec(axes=_axes(doc["axes"], "[axes]"),
                     fixed=_settings(doc.get("fixed", {}), "[fixed]"), params=params,
                     also=[_axes(a, f"[[also]] #{i + 1}") for i, a in enumerate(also)],
                     when=_when(doc.get("when", [])), source=source,
                     **_sweep_table(doc.get("sweep", {})))


def load_spec(path: str | Path) -> SweepSpec:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no sweep file {path}; the profkit repository has examples "
                                "in sweeps/ (e.g. sweeps/paper.toml)")
    try:
        doc = tomllib.loads(path.read_bytes().decode("utf-8"))  # TOML is UTF-8 by definition
    except UnicodeDecodeError as e:
        raise SweepFileError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); "
                             "TOML files must be UTF-8: re-save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepFileError(f"{path} is not valid TOML: {e}") from None
    return parse(doc, str(path))


def parse_sets(items: list[str]) -> dict[str, Any]:
    """--set KEY=VALUE items; VALUE is JSON if it parses (1, 0.5, true, ["a"]), else a string."""
    return parse_assignments(items, "--set", SweepFileError)
