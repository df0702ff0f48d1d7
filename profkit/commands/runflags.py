"""RunConfig's fields as argparse flags: names, types, choices and help from the field itself.

Like transformers' HfArgumentParser: a field `max_steps: int | None` with metadata help text
becomes `--max-steps N`, a bool field gets `--x/--no-x`, a dict field a repeatable KEY=VALUE flag.
Every flag defaults to None ("not given"), so a preset's value stands unless the user sets it;
the help line states the field's own default. See profkit/config.py on adding a field.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from profkit.config import RunConfig, parse_assignments

_METAVARS = {int: "N", float: "X"}


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def default_text(f: dataclasses.Field) -> str:
    """The field's default as the help line states it."""
    if f.default_factory is not dataclasses.MISSING or f.default is None:
        return f.metadata.get("none") or repr(f.default)
    if isinstance(f.default, bool):
        return "on" if f.default else "off"
    if isinstance(f.default, float):
        return f"{f.default:g}"
    return str(f.default)


def _value_type(annotation: Any) -> Any:
    """int for `int | None`, the type itself otherwise."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return typing.get_origin(annotation) or annotation


def add_field_flag(p: argparse.ArgumentParser | argparse._ArgumentGroup,
                   f: dataclasses.Field, annotation: Any) -> None:
    help_text = f"{f.metadata['help']} (default: {default_text(f)})"
    kind = _value_type(annotation)
    common: dict[str, Any] = {"dest": f.name, "help": help_text}
    if kind is bool:
        p.add_argument(flag_name(f), action=argparse.BooleanOptionalAction, default=None,
                       **common)
    elif kind is dict:
        p.add_argument(flag_name(f), action="append", default=[],
                       metavar=f.metadata.get("metavar", "KEY=VALUE"), **common)
    else:
        choices = f.metadata.get("choices")
        metavar = None if choices else f.metadata.get("metavar", _METAVARS.get(kind, "NAME"))
        p.add_argument(flag_name(f), type=kind, choices=choices, default=None, metavar=metavar,
                       **common)


def add_config_arguments(p: argparse.ArgumentParser, cls: type = RunConfig) -> None:
    """One flag per field of `cls` (RunConfig), in field order, in their own help group."""
    group = p.add_argument_group("run settings (RunConfig fields)")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        add_field_flag(group, f, hints[f.name])


def given_fields(args: argparse.Namespace, cls: type = RunConfig) -> dict[str, Any]:
    """The fields the user set on the command line (dict fields parsed from KEY=VALUE)."""
    given: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value = getattr(args, f.name, None)
        if isinstance(value, list):
            value = parse_assignments(value, flag_name(f)) if value else None
        if value is not None:
            given[f.name] = value
    return given
