"""What the "as published" variants of several methods share (docs/published-variants.md).

Every method takes `as_published` (false by default): true reproduces a behaviour of the public
code the paper ran, where profkit deliberately differs, so that each difference can be measured
rather than asserted. This module holds the pieces more than one method needs.

The authors' Dropout and Adaptive-Dropout share one network (DropOut/main.py, class Net): the
first hidden layer (`fc1`) and the output layer (`fc_final`) are module attributes, but the
hidden-to-hidden layers are appended to a plain Python list (`self.fc`), so nn.Module never
registers them: `model.parameters()` leaves them out, Adam never updates them, and they keep
their initial weights for the whole run (autograd still computes their gradients, which
accumulate unused). Its train() also builds a new Adam on every call, i.e. every epoch, so the
moments restart from zero each epoch.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from torch import nn

from profkit.model import MLP


def published_flag() -> Any:
    """A method's `as_published` parameter: false (profkit's behaviour) by default. Added after
    run ids were published, so at its default it stays out of the run id."""
    return field(default=False, metadata={"id_omits_default": True})


def unregistered_layers(model: MLP) -> list[nn.Linear]:
    """The layers the public Net keeps in a plain list: every hidden layer after the first (the
    hidden-to-hidden ones); the first hidden layer and the output layer are trained."""
    return model.hidden[1:]


def registered_parameters(model: MLP) -> list[nn.Parameter]:
    """The parameters the public Net's optimizer sees: all but the unregistered layers'."""
    skip = {id(p) for lin in unregistered_layers(model) for p in lin.parameters()}
    return [p for p in model.parameters() if id(p) not in skip]
