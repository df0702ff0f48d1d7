"""ALSH-approx: the paper's configuration against the one that learns, beside Standard-S (issue 12).

For three configurations at batch 1 (Fashion-MNIST, 3 x 1000 by default), all with
`implementation=tuned` (fused Adam, flush-denormal, and lazy sparse updates for ALSH-approx, so
that only the hashing configuration differs between the two ALSH rows):

- `standard`: Standard-S, the reference;
- `paper`: ALSH-approx with the paper's parameters (`AlshApprox.paper_params()`: l2-alsh-sign,
  K 6, L 5, table order);
- `learning`: the paper's parameters updated with `AlshApprox.learning_params()` (docs/alsh.md).

Two measurements:

1. Accuracy and recall: one run per configuration of --train-steps steps (default: one full
   epoch of the training split), test accuracy on the whole test split at its end, and for
   ALSH-approx the recall of the exact top-5% units by <a, w_j> (every --recall-every steps,
   mean over the hidden layers; per-layer values printed too). The mean ms per step of these
   runs (the whole rebuild schedule amortised, recall's `diagnostic` phase left out) is shown
   too, but the runs are sequential, so on a loaded machine their ratios drift.
2. Step cost: --repeats interleaved short runs of --time-steps steps per configuration
   (forward order on even repeats, reverse on odd; no recall measured), warm-up steps dropped;
   per run the median and the mean ms per step (the mean counts the rebuilds, which in a short
   run follow the early, denser schedule: it overstates a full epoch's rebuild cost); the
   table shows the median over repeats and the ratio to Standard-S. The final line's step
   ratio is the learning configuration's mean step over Standard-S's, from these runs.

It ends with one line:
  alsh: recall R_PAPER -> R_NEW; accuracy A_PAPER -> A_NEW (standard A_STD); step ratio X

  python benchmarks/alsh.py                                  # full epoch: tens of minutes
  python benchmarks/alsh.py --train-steps 5000 --repeats 3   # a fixed number of steps
  python benchmarks/alsh.py --dataset mnist-5k --width 200 --train-steps 500 --time-steps 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from typing import Any

import torch

from profkit import load
from profkit.config import RunConfig, paper_config
from profkit.data import load_dataset
from profkit.methods.alsh import AlshApprox
from profkit.train import run

CONFIGS = ("standard", "paper", "learning")
TARGETS = {"recall": 0.5, "accuracy_gap_points": 5.0, "step_ratio": 0.5}  # issue 12


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (default 3)")
    p.add_argument("--width", type=int, default=1000, help="hidden units per layer")
    p.add_argument("--train-steps", type=int, default=None,
                   help="steps of the accuracy runs (default: one full epoch at batch 1)")
    p.add_argument("--recall-every", type=int, default=100,
                   help="measure recall every N steps of the accuracy runs")
    p.add_argument("--time-steps", type=int, default=400,
                   help="steps per timing run, warm-up included")
    p.add_argument("--warmup", type=int, default=50, help="first steps of a timing run dropped")
    p.add_argument("--repeats", type=int, default=3, help="interleaved timing repeats")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: the comparison is per core)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.time_steps <= args.warmup:
        p.error(f"--time-steps ({args.time_steps}) must exceed --warmup ({args.warmup})")
    if args.train_steps is not None and args.train_steps < 1:
        p.error("--train-steps must be at least 1 (omit it for one full epoch)")
    return args


def config(args, name: str, out_dir: str, **overrides: Any) -> RunConfig:
    """The named configuration at batch 1 with the tuned implementation."""
    method = "standard" if name == "standard" else "alsh-approx"
    cfg = paper_config(method, dataset=args.dataset, batch_size=1, hidden_layers=args.layers,
                       width=args.width, epochs=1, implementation="tuned",
                       threads=args.threads, results=out_dir, **overrides)
    if method == "alsh-approx":
        extra = AlshApprox.learning_params() if name == "learning" else {}
        cfg = cfg.replace(method_params={**cfg.method_params, **extra, "recall_every": 0})
    return cfg


def step_ms(path) -> tuple[float, float]:
    """Median and mean ms per step after warm-up, the `diagnostic` phase left out."""
    t = load(path, tables=["phases"])
    ph = t["phases"][~t["phases"].warmup]
    train = ph[ph.phase != "diagnostic"].groupby("step").wall_ns.sum() / 1e6  # (steps,)
    return float(train.median()), float(train.mean())


def accuracy_run(args, ds, name: str, out_dir: str) -> dict[str, Any]:
    cfg = config(args, name, out_dir, seed=args.seed, max_steps=args.train_steps,
                 warmup_steps=args.warmup)
    if cfg.method == "alsh-approx":
        cfg = cfg.replace(method_params={**cfg.method_params, "recall_every": args.recall_every})
    r = run(cfg, progress=False, dataset=ds)
    if r.status != "complete":
        raise RuntimeError(f"{cfg.run_id} ended {r.status}; see {r.path}")
    t = load(r.path, tables=["epochs", "method_stats"])
    ep = t["epochs"].iloc[-1]
    out: dict[str, Any] = {"acc": float(ep.test_accuracy), "steps": int(ep.n_steps)}
    ms = t["method_stats"]
    if len(ms):
        rec = ms[(ms.stat == "recall_topk") & (ms.layer >= 0)].sort_values("layer")
        out["recall_layers"] = [float(v) for v in rec.value]
        out["recall"] = statistics.fmean(out["recall_layers"])
    out["median_ms"], out["mean_ms"] = step_ms(r.path)
    return out


def timing(args, ds, out_dir: str) -> dict[str, dict[str, list[float]]]:
    """{config: {'median': [...], 'mean': [...]}}, one value per repeat."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rep in range(args.repeats):
        for name in (CONFIGS if rep % 2 == 0 else CONFIGS[::-1]):
            _progress(f"timing repeat {rep + 1}/{args.repeats}: {name}")
            cfg = config(args, name, out_dir, seed=args.seed + rep, repeat=rep,
                         max_steps=args.time_steps, warmup_steps=args.warmup)
            r = run(cfg, progress=False, dataset=ds)
            if r.status != "complete":
                raise RuntimeError(f"{cfg.run_id} ended {r.status}; see {r.path}")
            med, mean = step_ms(r.path)
            acc[name]["median"].append(med)
            acc[name]["mean"].append(mean)
    return acc


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def report(args, accs: dict[str, dict[str, Any]], times) -> str:
    med = {n: {k: statistics.median(v) for k, v in times[n].items()} for n in CONFIGS}
    std = med["standard"]
    print(f"\n{args.dataset}, {args.layers} x {args.width}, batch 1, implementation tuned, "
          f"threads {torch.get_num_threads()}")
    steps = accs["standard"]["steps"]
    print(f"\naccuracy runs: {steps} steps each"
          + (" (one full epoch)" if args.train_steps is None else " (a fixed number of steps, "
             "not a full epoch)") + f"; recall every {args.recall_every} steps\n")
    print("| config | recall (mean) | recall per layer | test accuracy | ms/step mean "
          "(ratio) |")
    print("|---|---|---|---|---|")
    for n in CONFIGS:
        a = accs[n]
        rec = f"{a['recall']:.3f}" if "recall" in a else "-"
        layers = " / ".join(f"{v:.2f}" for v in a.get("recall_layers", [])) or "-"
        ratio = a["mean_ms"] / accs["standard"]["mean_ms"]
        print(f"| {n} | {rec} | {layers} | {100 * a['acc']:.1f}% | {a['mean_ms']:.3f} "
              f"({ratio:.2f}x) |")
    print(f"\nstep cost: {args.repeats} interleaved repeat(s) x "
          f"{args.time_steps - args.warmup} steps after {args.warmup} warm-up steps\n")
    print("| config | ms/step median (ratio) | ms/step mean (ratio) |")
    print("|---|---|---|")
    for n in CONFIGS:
        m = med[n]
        print(f"| {n} | {m['median']:.3f} ({m['median'] / std['median']:.2f}x) | "
              f"{m['mean']:.3f} ({m['mean'] / std['mean']:.2f}x) |")
    new, old = accs["learning"], accs["paper"]
    ratio = med["learning"]["mean"] / std["mean"]
    gap = 100 * (accs["standard"]["acc"] - new["acc"])
    print("\ntargets (issue 12):")
    for label, ok in (
            (f"recall {new['recall']:.3f} >= {TARGETS['recall']}",
             new["recall"] >= TARGETS["recall"]),
            (f"accuracy {gap:.1f} points below Standard-S <= {TARGETS['accuracy_gap_points']}",
             gap <= TARGETS["accuracy_gap_points"]),
            (f"step ratio {ratio:.2f}x <= {TARGETS['step_ratio']}x",
             ratio <= TARGETS["step_ratio"])):
        print(f"  {label}: {'met' if ok else 'missed'}")
    line = (f"alsh: recall {old['recall']:.2f} -> {new['recall']:.2f}; accuracy "
            f"{100 * old['acc']:.1f}% -> {100 * new['acc']:.1f}% (standard "
            f"{100 * accs['standard']['acc']:.1f}%); step ratio {ratio:.2f}")
    print(line)
    return line


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    ds = load_dataset(args.dataset)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; {args.dataset} "
          f"train {len(ds.y_train)}, test {len(ds.y_test)}", flush=True)
    with tempfile.TemporaryDirectory() as out_dir:
        times = timing(args, ds, out_dir)
        accs = {}
        for name in CONFIGS:
            _progress(f"accuracy run: {name}")
            accs[name] = accuracy_run(args, ds, name, out_dir)
    report(args, accs, times)


if __name__ == "__main__":
    main()
