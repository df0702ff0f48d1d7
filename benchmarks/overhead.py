"""Overhead of profkit's timing mode: profkit's Standard vs an equivalent plain PyTorch loop.

Same model, initialisation, data order, optimizer, seed and threads; the two alternate
(ABBA order) so drift hits both alike. Prints per-run ratios and their median, per batch size.
The loop's wall time is compared (profkit: the `train_wall_ns` of its epoch, which includes its
per-step bookkeeping; plain: a clock around the same loop). Target: ratio <= 1.03.

  python benchmarks/overhead.py                      # fashion-mnist, batch 20 and 1
  python benchmarks/overhead.py --steps 2000 --repeats 6 --batch-sizes 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from profkit import load
from profkit.config import RunConfig
from profkit.data import load_dataset
from profkit.model import MLP, make_optimizer
from profkit.train import run


def plain_loop(cfg: RunConfig, ds, n_steps: int) -> tuple[float, float]:
    """The same training as profkit's Standard, with nothing but a clock around it."""
    torch.set_flush_denormal(cfg.flush_denormal)
    torch.manual_seed(cfg.seed)
    model = MLP(ds.in_features, cfg.width, cfg.hidden_layers, ds.n_classes)
    opt = make_optimizer(cfg, model.parameters())
    perm = torch.randperm(len(ds.y_train), generator=torch.Generator().manual_seed(cfg.seed))
    X, Y, bs = ds.X_train, ds.y_train, cfg.batch_size
    loss = 0.0
    t0 = time.perf_counter_ns()
    for s in range(n_steps):
        idx = perm[s * bs:(s + 1) * bs]
        xb, yb = X.index_select(0, idx), Y.index_select(0, idx)
        out = F.nll_loss(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        out.backward()
        opt.step()
        loss = out.item()
    return (time.perf_counter_ns() - t0) / 1e9, loss


def profkit_loop(cfg: RunConfig, ds) -> tuple[float, float]:
    r = run(cfg, progress=False, dataset=ds)
    t = load(r.path, tables=["epochs", "steps"])
    return float(t["epochs"].train_wall_ns.iloc[0]) / 1e9, float(t["steps"].loss.iloc[-1])


def bench(batch: int, args, ds, out_dir: str) -> list[float]:
    warm = RunConfig(dataset=args.dataset, hidden_layers=args.layers, width=args.width,
                     batch_size=batch, max_steps=50, results=f"{out_dir}/warm{batch}")
    plain_loop(warm, ds, 50)  # first calls pay lazy initialisation: keep them out of the ratios
    profkit_loop(warm, ds)
    ratios = []
    for rep in range(args.repeats):
        cfg = RunConfig(dataset=args.dataset, hidden_layers=args.layers, width=args.width,
                        batch_size=batch, max_steps=args.steps, seed=rep,
                        flush_denormal=args.flush_denormal, threads=args.threads,
                        results=f"{out_dir}/b{batch}r{rep}", eval_batch_size=10000)
        order = ("plain", "profkit") if rep % 2 == 0 else ("profkit", "plain")
        res = {}
        for which in order:
            res[which] = (plain_loop(cfg, ds, args.steps) if which == "plain"
                          else profkit_loop(cfg, ds))
        same = "identical" if res["plain"][1] == res["profkit"][1] else "DIFFERENT"
        ratio = res["profkit"][0] / res["plain"][0]
        ratios.append(ratio)
        print(f"batch {batch:>3} rep {rep}: plain {res['plain'][0]:7.3f} s  profkit "
              f"{res['profkit'][0]:7.3f} s  ratio {ratio:.4f}  (final loss {same})", flush=True)
    return ratios


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[20, 1])
    p.add_argument("--steps", type=int, default=1500, help="steps per timed loop")
    p.add_argument("--repeats", type=int, default=6)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--flush-denormal", action="store_true")
    args = p.parse_args()
    ds = load_dataset(args.dataset)
    print(f"torch {torch.__version__}, threads {args.threads or torch.get_num_threads()}, "
          f"{args.layers}x{args.width}, {args.steps} steps per loop, "
          f"flush_denormal={args.flush_denormal}")
    summary = {}
    with tempfile.TemporaryDirectory() as out_dir:
        for b in args.batch_sizes:
            summary[b] = bench(b, args, ds, out_dir)
    print("\nprofkit / plain loop wall-time ratio (target <= 1.03):")
    for b, rs in summary.items():
        print(f"  batch {b:>3}: median {statistics.median(rs):.4f}  "
              f"min {min(rs):.4f}  max {max(rs):.4f}  over {len(rs)} alternating pairs")


if __name__ == "__main__":
    main()
