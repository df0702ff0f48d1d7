"""The report's frame: first screen, findings, warnings, environment and raw data."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from profkit.analyses import environment, findings, provenance
from profkit.analyses.computed import Computed
from profkit.analyses.labels import PAPER_METHODS, method_title
from profkit.analyses.sections import Section
from profkit.analyses.tables import html_table


def first_screen(c: Computed) -> dict:
    """Facts for the page header: machine, settings, what ran."""
    env = c.frames["environment"]
    mach = environment.machine(env).set_index("field")["value"]
    return {"cpu": mach.get("CPU"), "cores": mach.get("logical cores"),
            "host": mach.get("host"), "torch": mach.get("torch"),
            "threads": mach.get("torch threads"),
            "settings": environment.settings(c.runs).to_dict("records"),
            "missing_methods": missing_methods(c.runs)}


def missing_methods(runs: pd.DataFrame) -> list[str]:
    have = set(runs["method"])
    return [method_title(m) for m in PAPER_METHODS if m not in have]


def summary(c: Computed) -> Section:
    sec = Section("summary", "Summary of findings")
    sec.items(findings.findings(c))
    return sec


def warnings(c: Computed) -> Section:
    sec = Section("warnings", "Warnings",
                  "Read these before trusting a number: unstable timings, unavailable counters, "
                  "runs that did not complete, timings taken under heavy instruments, and "
                  "subnormal floats.")
    w = c.warnings
    if w.empty:
        sec.text("No warnings.")
    else:
        sec.table(html_table(w.fillna({"run_id": "(configuration)"}),
                             {"kind": "kind", "run_id": "run", "message": "message"}))
    return sec


def environment_section(c: Computed) -> Section:
    sec = Section("environment", "Environment")
    sec.table(html_table(environment.machine(c.frames["environment"]),
                         {"field": "machine", "value": "value"}), "Machine and software")
    sec.table(html_table(environment.settings(c.runs), {"field": "setting",
                                                        "values": "values over runs"}),
              "Settings")
    return sec


def raw_data(c: Computed, out_path: Path | None) -> Section:
    sec = Section("raw", "Raw data",
                  "The page holds summaries only; every observation stays in the results "
                  "directory (run.json plus one parquet table per directory). Links are given "
                  "only to files that exist beside this page and are not git-ignored.")
    rows = []
    for r in c.runs.sort_values("run_id").itertuples():
        meta = Path(r.path) / "run.json"
        rel = _rel(str(meta), out_path)
        ok = out_path is not None and provenance.linkable(meta)
        rows.append([r.run_id, r.status, {"text": rel, "href": rel if ok else None}])
    if not any(row[2]["href"] for row in rows):
        sec.text("These files are not linked: they are git-ignored or not reachable from "
                 "where this page is, so a copy of the page would have dead links. Regenerate "
                 "the results (e.g. `profkit demo`) to see them.")
    sec.rows(["run", "status", "run.json (relative to this page)"], rows)
    return sec


def results_link(c: Computed, out_path: Path | None) -> dict:
    """The results directory as text, and as an href only when a link to it keeps working."""
    if c.results.path is None:
        return {"text": "", "href": None}
    rel = _rel(str(c.results.path), out_path)
    ok = out_path is not None and provenance.linkable(Path(c.results.path))
    return {"text": rel, "href": rel if ok else None}


def _rel(path: str, out_path: Path | None) -> str:
    if out_path is None:
        return str(path)
    return os.path.relpath(Path(path).resolve(), Path(out_path).resolve().parent)
