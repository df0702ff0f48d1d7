"""The registry of training methods (invariant I7 of docs/architecture.md); docs/methods.md.

A method's parameters are checked where configs are built: profkit.config.check_method_params.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from profkit.methods.base import TrainingMethod

# name -> "module:Class" under profkit.methods. The classes import torch (9 s on a loaded
# machine), so each is imported on its first look-up: names are listed and checked without
# torch, and a misspelt `--method` fails at once.
_CLASSES = {
    "standard": "base:Standard",
    "dropout": "dropout:Dropout",
    "adaptive-dropout": "standout:Standout",
    "mc-approx": "mc:MCApprox",
    "alsh-approx": "alsh:AlshApprox",
}


class _Registry(MutableMapping[str, "type[TrainingMethod]"]):
    """A name -> class mapping whose built-in classes are imported when first looked up; a
    class can be registered under a new name (tests, plugins) as in a dict."""

    def __init__(self, classes: dict[str, str]):
        self._entries: dict[str, str | type[TrainingMethod]] = dict(classes)

    def __getitem__(self, name: str) -> type[TrainingMethod]:
        entry = self._entries[name]
        if isinstance(entry, str):
            module, cls = entry.split(":")
            entry = getattr(importlib.import_module(f"profkit.methods.{module}"), cls)
            self._entries[name] = entry
        return entry

    def __setitem__(self, name: str, cls: type[TrainingMethod]) -> None:
        self._entries[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


METHODS: MutableMapping[str, type[TrainingMethod]] = _Registry(_CLASSES)


class UnknownMethodError(ValueError):
    pass


def check_method_name(name: str) -> str:
    """`name` if a method has it (no torch import); else UnknownMethodError listing them."""
    if name not in METHODS:
        raise UnknownMethodError(f"unknown method {name!r}; valid methods: {', '.join(METHODS)}")
    return name


def get_method(name: str) -> type[TrainingMethod]:
    return METHODS[check_method_name(name)]


def paper_params(name: str) -> dict[str, Any]:
    return get_method(name).paper_params()


def id_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` without the parameters added after run ids were published that are at their
    default (field metadata id_omits_default), so adding a parameter keeps old run ids."""
    fields = {f.name: f for f in dataclasses.fields(get_method(name).Params)}
    return {k: v for k, v in params.items()
            if not (k in fields and fields[k].metadata.get("id_omits_default")
                    and v == fields[k].default)}
