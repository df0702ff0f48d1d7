"""PublicNet: the authors' Dropout/Adaptive-Dropout network, for `as_published=true`.

Both methods ran in one public network (DropOut/main.py, class Net; docs/published-variants.md),
so their published variants share three of its behaviours, held here once:
- the hidden-to-hidden layers sit in a plain Python list, unregistered, so the optimizer never
  sees them and they keep their initial weights (`trained_parameters`);
- train() builds a new Adam every epoch, so its moments restart (`on_epoch_start`);
- no layer is re-initialised: each keeps torch's own nn.Linear initialisation, weights and
  biases uniform in +-1/sqrt(fan_in) (`build_model`, init "torch"), a sixth of the weight
  variance of profkit's Kaiming initialisation. With keep probability 0.05 and inverted
  scaling every dropped layer multiplies its input's spread by about 1/p = 20 at Kaiming
  initialisation, and about 20/6 at torch's, which is what lets the public 3-layer network
  train at batch 1 at all (docs/methods.md, Dropout).
"""

from __future__ import annotations

import torch
from torch import nn

from profkit.methods.base import TrainingMethod
from profkit.methods.published import registered_parameters
from profkit.methods.subset_grads import SubsetGrads
from profkit.model import MLP, make_optimizer


class PublicNet(TrainingMethod):
    """A TrainingMethod whose `as_published` variant trains the public Net (see above)."""

    def build_model(self, in_features: int, n_classes: int) -> MLP:
        if not self.params.as_published:
            return super().build_model(in_features, n_classes)
        return MLP(in_features, self.cfg.width, self.cfg.hidden_layers, n_classes, init="torch")

    def trained_parameters(self) -> list[nn.Parameter]:
        if self.params.as_published:
            return registered_parameters(self.model)
        return super().trained_parameters()

    def _new_optimizer(self) -> torch.optim.Optimizer | SubsetGrads:
        return make_optimizer(self.cfg, self.trained_parameters())

    def on_epoch_start(self, epoch: int) -> None:
        """As published: a new optimizer every epoch (the public train() builds its Adam)."""
        if self.params.as_published:
            self.optimizer = self._new_optimizer()
