"""The registry of training methods (invariant I7 of docs/architecture.md); docs/methods.md.

A method's parameters are checked where configs are built: profkit.config.check_method_params.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from profkit.methods.alsh import AlshApprox
from profkit.methods.base import Standard, TrainingMethod
from profkit.methods.dropout import Dropout
from profkit.methods.mc import MCApprox
from profkit.methods.standout import Standout

METHODS: dict[str, type[TrainingMethod]] = {
    "standard": Standard,
    "dropout": Dropout,
    "adaptive-dropout": Standout,
    "mc-approx": MCApprox,
    "alsh-approx": AlshApprox,
}


class UnknownMethodError(ValueError):
    pass


def get_method(name: str) -> type[TrainingMethod]:
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown method {name!r}; valid methods: {', '.join(METHODS)}") from None


def paper_params(name: str) -> dict[str, Any]:
    return get_method(name).paper_params()


def id_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` without the parameters added after run ids were published that are at their
    default (field metadata id_omits_default), so adding a parameter keeps old run ids."""
    fields = {f.name: f for f in dataclasses.fields(get_method(name).Params)}
    return {k: v for k, v in params.items()
            if not (k in fields and fields[k].metadata.get("id_omits_default")
                    and v == fields[k].default)}
