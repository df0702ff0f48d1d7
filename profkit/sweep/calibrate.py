"""The cost model's step table measured from finished runs: `python -m profkit.sweep.calibrate DIR`.

`profkit reproduce --dry-run` estimates hours from `[cost.step_ms]` in reproduce.toml. Those
numbers are only as good as the machine they were read on, so this reads them back off the
runs a results directory already holds: for every finished run at the reference size (3 x
1000) on MNIST or Fashion-MNIST (784 inputs, 10 classes), its measured training seconds (the
sum of its phases, warm-up included, evaluation and start-up not) over its steps, grouped by
cost table (`default`/`fused` kernel of a paper run, or `tuned`), method and batch size S or M,
and prints the fastest of each group as the TOML table to paste. The fastest, not the median:
the estimate is for a machine running the protocol alone, and a run that shared the machine
is slower by whatever else ran (one accuracy run here took 4127 s beside other jobs and
494 s alone), while nothing makes a run faster than the machine allows. A cell nobody ran
stays as it is in the protocol file (printed with a comment saying so).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from profkit.sweep.cost import REF_LAYERS, REF_WIDTH, M, S
from profkit.sweep.protocol import load_protocol

KERNELS = ("default", "fused", "tuned")
DATASETS = ("mnist", "fashion-mnist")


def _kernel(cfg: dict[str, Any]) -> str:
    return "tuned" if cfg.get("implementation") == "tuned" else str(cfg.get("optimizer_impl"))


def step_samples(results: str | Path) -> dict[tuple[str, str, int], list[float]]:
    """(kernel, method, batch) -> ms per step of every usable run under `results`."""
    out: dict[tuple[str, str, int], list[float]] = {}
    for meta_path in sorted(Path(results).glob("*/run.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # unreadable runs are the loader's business, not the estimate's
        cfg, summ = meta.get("config") or {}, meta.get("summary") or {}
        steps, phases = summ.get("steps_measured"), summ.get("phase_s_measured")
        if (meta.get("status") != "complete" or not steps or not phases
                or cfg.get("hidden_layers") != REF_LAYERS or cfg.get("width") != REF_WIDTH
                or cfg.get("dataset") not in DATASETS or cfg.get("batch_size") not in (S, M)
                or (cfg.get("workers") or 1) != 1
                or (cfg.get("method_params") or {}).get("as_published")):
            continue
        key = (_kernel(cfg), str(cfg["method"]), int(cfg["batch_size"]))
        out.setdefault(key, []).append(1000 * sum(phases.values()) / steps)
    return out


def step_table(results: str | Path, current: dict[str, dict[str, list[float]]]
               ) -> tuple[dict[str, dict[str, list[float]]], dict[tuple[str, str, int], int]]:
    """The measured table (the fastest run of each cell; the current value where nothing was
    measured) and how many runs each measured cell rests on."""
    samples = step_samples(results)
    table = {k: {m: list(v) for m, v in d.items()} for k, d in current.items()}
    counts: dict[tuple[str, str, int], int] = {}
    for (kernel, method, batch), ms in samples.items():
        row = table.setdefault(kernel, {}).setdefault(method, [float("nan"), float("nan")])
        row[0 if batch == S else 1] = round(min(ms), 1)
        counts[(kernel, method, batch)] = len(ms)
    return table, counts


def format_table(table: dict[str, dict[str, list[float]]],
                 counts: dict[tuple[str, str, int], int]) -> str:
    lines = []
    for kernel in [k for k in KERNELS if k in table] + [k for k in table if k not in KERNELS]:
        lines.append(f"[cost.step_ms.{kernel}]")
        for method, (s_ms, m_ms) in table[kernel].items():
            n = [counts.get((kernel, method, b), 0) for b in (S, M)]
            note = f"  # runs: S {n[0]}, M {n[1]}" + ("; 0 = kept from the file" * (0 in n))
            lines.append(f"{method} = [{s_ms}, {m_ms}]{note}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m profkit.sweep.calibrate",
                                description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("results", help="a results directory (e.g. a reproduction's)")
    a = p.parse_args(argv)
    if not Path(a.results).is_dir():
        print(f"calibrate: error: {a.results} is not a directory of runs", file=sys.stderr)
        return 2
    table, counts = step_table(a.results, load_protocol().cost.step_ms)
    if not counts:
        print(f"calibrate: error: no finished 3 x 1000 MNIST or Fashion-MNIST runs in "
              f"{a.results}", file=sys.stderr)
        return 2
    print(format_table(table, counts), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
