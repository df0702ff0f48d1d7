"""What stale W row norms cost MC-approx: relative error of grad_input = G W by refresh interval R.

MC-approx (k exactly 10: sample_ratio 0, min_k 10) trains on --dataset at batch 20; every
step the row norms of each layer's W are kept in a ring buffer. Every --every steps after
--start, for each layer with a sampled grad_input and each staleness s, the probabilities are
computed from the norms of s steps ago and the exact expected squared error of the estimate,
sum of the per-entry variance (profkit.sampling.estimator_variance; no sampling noise), is
divided by ||G W||^2. Refreshing every R steps means staleness 0..R-1 equally often, so the
printed relative error for R is sqrt(mean over s < R of E||est - GW||^2 / ||GW||^2),
averaged over layers and measurement steps, with its ratio to R = 1 (fresh norms).

  python benchmarks/mc_staleness.py                          # fashion-mnist, 3 x 1000, 600 steps
  python benchmarks/mc_staleness.py --steps 300 --width 256 --dataset mnist-5k
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics

import torch
import torch.nn.functional as F

from profkit.config import RunConfig
from profkit.data import load_dataset
from profkit.methods import get_method
from profkit.phases import NullMarker
from profkit.sampling import estimator_variance, inclusion_probabilities, pair_weights

R_VALUES = (1, 2, 5, 10, 20, 50, 100)


def upstream_grads(method, x, y) -> list[torch.Tensor]:
    """dL/dz of every layer (batch, out) on the current weights, exact backward."""
    zs, h = [], x
    layers = method.model.layers
    for i, lin in enumerate(layers):
        z = F.linear(h, lin.weight.detach(), lin.bias.detach()).requires_grad_()
        zs.append(z)
        h = F.relu(z) if i < len(layers) - 1 else z
    loss = F.nll_loss(F.log_softmax(h, dim=1), y)
    return [g.detach() for g in torch.autograd.grad(loss, zs)]


def rel_sq_errors(method, grads, history, k: int, eps: float) -> dict[int, list[float]]:
    """{staleness s: [E||est - GW||^2 / ||GW||^2 per layer with a sampled grad_input]}."""
    out: dict[int, list[float]] = collections.defaultdict(list)
    for i in range(1, len(method.model.layers)):  # layer 0 computes no grad_input
        w, g = method.model.layers[i].weight.detach().double(), grads[i].double()
        if w.shape[0] <= k:
            continue  # k >= n: exact product
        exact = float((g @ w).square().sum())
        for s, norms in enumerate(reversed(history)):
            p = inclusion_probabilities(pair_weights(g, w, norms[i].double()), k, eps).double()
            out[s].append(float(estimator_variance(g, w, p).sum()) / exact)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--start", type=int, default=150,
                   help=f"first measured step (at least {max(R_VALUES)}: a full history)")
    p.add_argument("--every", type=int, default=75, help="steps between measurements")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.dataset)
    cfg = RunConfig(method="mc-approx", dataset=args.dataset, width=args.width, batch_size=20,
                    implementation="tuned", method_params={"sample_ratio": 0.0, "min_k": 10,
                                                           "norm_refresh": 1}, results="unused")
    torch.manual_seed(0)
    m = get_method("mc-approx")(cfg, ds.in_features, ds.n_classes, torch.Generator().manual_seed(1))
    history: collections.deque = collections.deque(maxlen=max(R_VALUES))
    by_s: dict[int, list[float]] = collections.defaultdict(list)
    perm = torch.randperm(len(ds.y_train), generator=torch.Generator().manual_seed(0))
    for step in range(args.steps):
        idx = perm[(step * 20) % len(perm):][:20]
        x, y = ds.X_train[idx], ds.y_train[idx]
        history.append([torch.linalg.vector_norm(lin.weight.detach(), dim=1)
                        for lin in m.model.layers])
        full = len(history) == history.maxlen  # every R's staleness range measured alike
        if full and step >= args.start and (step - args.start) % args.every == 0:
            for s, v in rel_sq_errors(m, upstream_grads(m, x, y), history, 10, 0.1).items():
                by_s[s].extend(v)
        m.train_step(x, y, NullMarker())
    base = math.sqrt(statistics.mean(by_s[0]))
    print(f"MC-approx k=10, batch 20, {args.dataset} 3 x {args.width}; relative error of the "
          f"grad_input estimate, {len(by_s[0])} layer-measurements")
    print(f"{'R':>5}  {'rel. error':>10}  {'vs R=1':>7}")
    for r in R_VALUES:
        if all(s in by_s for s in range(r)):
            err = math.sqrt(statistics.mean(v for s in range(r) for v in by_s[s]))
            print(f"{r:>5}  {err:>10.4f}  {err / base:>7.3f}")


if __name__ == "__main__":
    main()
