"""HOGWILD-style scaling (--workers P): throughput of P worker processes against one.

For ALSH-approx (the learning configuration, docs/alsh.md) and Standard at batch 1, both
`implementation=tuned`, runs of --steps steps (counted over all workers) with each worker
count of --workers, interleaved: within each repeat every (method, P) runs once, in forward
order on even repeats and reverse on odd, so drift of a loaded machine hits all alike. Per run,
throughput is samples over the epoch's training wall time (every worker at once); the table
shows the median over repeats, the speed-up over one worker (ratio of medians) and the
efficiency (speed-up / P), the ms per step each worker sees (median over the run's steps
after warm-up: it grows when workers contend for memory bandwidth or a shared core), and the
test accuracy after the run. The runs are kept in --results, so `profkit report` shows them
in its decision-tree section.

  python benchmarks/parallel.py                                  # fashion-mnist 3 x 1000
  python benchmarks/parallel.py --dataset mnist-5k --width 200 --steps 400 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict

from profkit import load
from profkit.config import paper_config
from profkit.data import load_dataset
from profkit.methods.alsh import AlshApprox
from profkit.train import run

METHODS = ("alsh-approx", "standard")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--steps", type=int, default=3000, help="steps per run, over all workers")
    p.add_argument("--warmup", type=int, default=50, help="first steps of each worker dropped")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--results", default="results/parallel",
                   help="where the runs are kept (default results/parallel)")
    args = p.parse_args(argv)
    if 1 not in args.workers:
        p.error("--workers must include 1: speed-ups are against one worker")
    return args


def one_run(args, ds, method: str, workers: int, rep: int) -> dict[str, float]:
    cfg = paper_config(method, dataset=args.dataset, batch_size=1, hidden_layers=args.layers,
                       width=args.width, epochs=1, max_steps=args.steps, implementation="tuned",
                       threads=1, workers=workers, warmup_steps=args.warmup, seed=rep,
                       repeat=rep, results=args.results)
    if method == "alsh-approx":
        cfg = cfg.replace(method_params={**cfg.method_params, **AlshApprox.learning_params(),
                                         "recall_every": 0})
    r = run(cfg, progress=False, dataset=ds)
    if r.status != "complete":
        raise RuntimeError(f"{cfg.run_id} ended {r.status}; see {r.path}")
    t = load(r.path, tables=["steps", "epochs"])
    ep, st = t["epochs"].iloc[-1], t["steps"]
    return {"samples_per_s": float(st.batch_size.sum() / (ep.train_wall_ns / 1e9)),
            "step_ms": float(st[~st.warmup].wall_ns.median() / 1e6),
            "acc": float(ep.test_accuracy)}


def main(argv=None) -> None:
    args = parse_args(argv)
    ds = load_dataset(args.dataset)
    print(f"{args.dataset}, {args.layers} x {args.width}, batch 1, tuned, 1 thread per worker; "
          f"{os.cpu_count()} cores here; {args.repeats} interleaved repeat(s) of {args.steps} "
          "steps per run", flush=True)
    plan = [(m, p) for m in METHODS for p in args.workers]
    acc: dict = defaultdict(lambda: defaultdict(list))
    for rep in range(args.repeats):
        for m, p in (plan if rep % 2 == 0 else plan[::-1]):
            print(f"  repeat {rep + 1}/{args.repeats}: {m}, {p} worker(s)", file=sys.stderr,
                  flush=True)
            for k, v in one_run(args, ds, m, p, rep).items():
                acc[(m, p)][k].append(v)
    print("\n| method | workers | samples/s | speed-up | efficiency | ms/step per worker | "
          "test accuracy |")
    print("|---|---|---|---|---|---|---|")
    for m in METHODS:
        base = statistics.median(acc[(m, 1)]["samples_per_s"])
        for p in args.workers:
            a = acc[(m, p)]
            thr = statistics.median(a["samples_per_s"])
            print(f"| {m} | {p} | {thr:.0f} | {thr / base:.2f}x | {thr / base / p:.0%} | "
                  f"{statistics.median(a['step_ms']):.2f} | "
                  f"{100 * statistics.median(a['acc']):.1f}% |")
    print(f"\nruns kept in {args.results}: profkit report {args.results} -o reports/parallel.html")


if __name__ == "__main__":
    main()
