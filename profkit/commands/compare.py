"""Compare two runs or results directories: per-phase time and accuracy, B/A with significance.

Each of A and B is a run directory or a results directory (the same one twice with --a/--b
filters compares within one). Configurations are matched on dataset, method, batch size,
depth, width, flush, optimizer implementation and variant, except what tells A from B.
The ratio B/A is of mean times, with a 95% Welch t interval on its log (over
repeats with >= 3 a side, else over block means of steps); "not significant" when the data
cannot tell B from A.

Examples:
  profkit compare results/base results/tuned
  profkit compare results results --a method=standard --b method=mc-approx --filter batch_size=20
  profkit compare RUN_DIR_A RUN_DIR_B --json
"""

from __future__ import annotations

import argparse
import json
import math

COLS = ("phase", "A s/epoch [95% CI]", "B s/epoch [95% CI]", "B/A [95% CI]", "p", "verdict")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="run directory or results directory (the baseline)")
    p.add_argument("b", metavar="B", help="run directory or results directory (compared to A)")
    p.add_argument("--filter", dest="where", action="append", default=[], metavar="KEY=VALUE",
                   help="keep only runs with KEY == VALUE on both sides (repeatable)")
    p.add_argument("--a", dest="where_a", action="append", default=[], metavar="KEY=VALUE",
                   help="keep only runs with KEY == VALUE on side A (repeatable)")
    p.add_argument("--b", dest="where_b", action="append", default=[], metavar="KEY=VALUE",
                   help="keep only runs with KEY == VALUE on side B (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON (for scripts)")


def main(args: argparse.Namespace) -> int:
    # imported here: `profkit --help` and other commands must not pay for pandas
    from profkit.analyses.comparison import CompareError, compare_results
    from profkit.analyses.results import load_results
    from profkit.config import ConfigError, parse_assignments

    where = [parse_assignments(w, f"--{n}") for w, n in
             ((args.where, "filter"), (args.where_a, "a"), (args.where_b, "b"))]
    try:
        out = compare_results(load_results(args.a), load_results(args.b), *where)
    except CompareError as e:
        raise ConfigError(str(e)) from None
    print(json.dumps(to_json(out, args), indent=1) if args.json else to_text(out, args))
    return 0


def to_json(out: dict, args: argparse.Namespace) -> dict:
    def records(df):
        return json.loads(df.to_json(orient="records"))  # NaN -> null
    return {"a": args.a, "b": args.b, "matched_on": out["keys"], "differs_in": out["differ"],
            "time": records(out["time"]), "accuracy": records(out["accuracy"])}


def to_text(out: dict, args: argparse.Namespace) -> str:
    lines = [f"A = {args.a}", f"B = {args.b}",
             f"matched on: {', '.join(out['keys']) or '(nothing: one configuration a side)'}"]
    t, keys = out["time"], out["keys"]
    for key, g in (t.groupby(keys, dropna=False, sort=False) if keys else [((), t)]):
        lines += ["", "configuration: " + _config(out["keys"], key)]
        lines += _table([[r.phase, _ci(r.s_per_epoch_a, r.ci_lo_a, r.ci_hi_a, r.n_runs_a),
                          _ci(r.s_per_epoch_b, r.ci_lo_b, r.ci_hi_b, r.n_runs_b),
                          _ci(r.ratio, r.ratio_lo, r.ratio_hi), _p(r.p_value), r.verdict]
                         for r in g.itertuples()])
    acc = out["accuracy"]
    if not acc.empty:
        lines += ["", "test accuracy (pooled over runs; B - A in points, two-proportion test):"]
        lines += _table([[_config(out["keys"], tuple(r[k] for k in out["keys"])),
                          f"{r['test_pct_a']:.2f}%", f"{r['test_pct_b']:.2f}%",
                          _ci(r["diff_pts"], r["diff_lo"], r["diff_hi"]), _p(r["p_value"]),
                          r["verdict"]] for _, r in acc.iterrows()],
                        ("configuration", "A", "B", "B - A [95% CI]", "p", "verdict"))
    return "\n".join(lines)


def _config(keys: list[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) or "(all)"


def _ci(x: float, lo: float, hi: float, n: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    ci = "" if math.isnan(lo) else f" [{lo:.3g}, {hi:.3g}]"
    return f"{x:.3g}{ci}" + (f" (n={n})" if n is not None else "")


def _p(p: float) -> str:
    return "—" if math.isnan(p) else f"{p:.2g}"


def _table(rows: list[list[str]], head=COLS) -> list[str]:
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{n}}}" for n in w)
    return [fmt.format(*head), fmt.format(*("-" * n for n in w))] + [
        fmt.format(*map(str, r)) for r in rows]
