"""Set the claims of two results directories side by side: does a re-run agree?

    .venv/bin/python scripts/compare_claims.py A B [--sections "Table 3,Table 4"] [--ids REGEX]
                                                     [--csv OUT]

Prints a Markdown table (claim, paper, A's measured value and verdict, B's) and how many
verdicts are the same, for the claims of the chosen sections and/or whose id matches REGEX
(default: every claim either directory measures; missing in both is left out). `--csv OUT`
writes the same rows as CSV, small enough to commit beside the report (docs/reproduction.md,
"Re-run").
"""

from __future__ import annotations

import argparse
import sys
import warnings

import pandas as pd


def compare(a: pd.DataFrame, b: pd.DataFrame, sections: list[str] | None = None,
            ids: str | None = None) -> pd.DataFrame:
    """One row per claim in `a` (of the chosen sections, or whose id matches the regular
    expression `ids`; either is enough), with both measurements and verdicts; claims missing
    in both are dropped."""
    if sections or ids:
        keep = a["section"].isin(sections or [])
        if ids:
            keep |= a["id"].str.contains(ids, regex=True)
        a = a[keep]
    b = b.set_index("id").reindex(a["id"])
    cols = {"id": a["id"], "section": a["section"], "paper": a["paper"],
            "measured_a": a["measured"], "verdict_a": a["verdict"],
            "measured_b": b["measured"], "verdict_b": b["verdict"]}
    out = pd.DataFrame({k: v.to_numpy() for k, v in cols.items()})
    out["verdict_b"] = out["verdict_b"].fillna("missing")
    both_missing = (out["verdict_a"] == "missing") & (out["verdict_b"] == "missing")
    out = out[~both_missing].reset_index(drop=True)
    out["same"] = out["verdict_a"] == out["verdict_b"]
    return out


def _claims(path: str) -> pd.DataFrame:
    from profkit.analyses import Analysis
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped runs are the report's to list
        return Analysis(path).claims()


def _short(measured: object) -> str:
    """'1.22x [0.86, 1.74], epoch extrapolated ...' -> '1.22x [0.86, 1.74]'."""
    text = "" if measured is None or measured != measured else str(measured)
    return text.split("], ")[0] + ("]" if "], " in text else "")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--sections", help="comma-separated, e.g. 'Table 3,Table 4'")
    p.add_argument("--ids", help="a regular expression on claim ids, e.g. 'depth-time'")
    p.add_argument("--csv", help="also write the rows to this CSV file")
    args = p.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",")] if args.sections else None
    t = compare(_claims(args.a), _claims(args.b), sections, args.ids)
    if args.csv:
        t.to_csv(args.csv, index=False)
    print(f"| claim | paper | {args.a} | verdict | {args.b} | verdict |")
    print("|---|---|---|---|---|---|")
    for r in t.itertuples():
        print(f"| {r.id} | {r.paper} | {_short(r.measured_a)} | {r.verdict_a} | "
              f"{_short(r.measured_b)} | {r.verdict_b} |")
    print(f"\n{int(t['same'].sum())} of {len(t)} verdicts the same.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
