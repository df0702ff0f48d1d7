"""The paper's claims (analyses/data/claims.toml), expanded into one row per claim, and their
verdicts on a results set: reproduced, not reproduced, explained (by a published variant),
inconclusive (an accuracy below the paper's after fewer epochs than its 50) or missing. The
rules are in claim_rules; docs/reproduction.md states them in words.

Table 2-4, §9.1 and §9.4 numbers come from published_results.csv through [[from_published]],
so the paper's numbers have one copy; the registry adds the qualitative claims and the
§10.4 leaves.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from profkit.analyses import paper
from profkit.analyses.labels import METHOD_TITLES, REFERENCE

REGISTRY = Path(__file__).parent / "data" / "claims.toml"
VERDICTS = ("reproduced", "not reproduced", "explained", "inconclusive", "missing")
PHASE_OF = {"epoch_total": "total", "feedforward": "forward", "backpropagation": "backward"}
METRIC_TEXT = {"epoch_total": "epoch time", "feedforward": "feedforward time",
               "backpropagation": "backpropagation time"}
BY_TITLE = {v: k for k, v in METHOD_TITLES.items()}
BATCH = {"S": 1, "M": 20}


@dataclass
class Claim:
    id: str
    section: str
    statement: str
    rule: str
    anchor: str
    spec: dict[str, Any] = field(default_factory=dict)  # the rule's inputs


@dataclass
class Registry:
    rules: dict[str, float]
    runnable: dict[str, str]
    unavailable: dict[str, str]
    variants: dict[str, dict[str, str]]
    claims: list[Claim]


def load_registry(path: Path = REGISTRY, published: pd.DataFrame | None = None) -> Registry:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    pub = paper.load_published() if published is None else published
    ds = raw["datasets"]
    claims: list[Claim] = []
    for src in raw.get("from_published", []):
        claims += _expand(src, pub, ds["unavailable"])
    claims += [_explicit(c) for c in raw.get("claim", [])]
    order = {s: i for i, s in enumerate(dict.fromkeys(c.section for c in claims))}
    claims.sort(key=lambda c: order[c.section])  # stable: the registry's order within a section
    return Registry(raw["rules"], ds["runnable"], ds["unavailable"], raw.get("variants", {}),
                    claims)


def _explicit(c: dict[str, Any]) -> Claim:
    keys = ("id", "section", "statement", "rule", "anchor")
    return Claim(*(c[k] for k in keys), spec={k: v for k, v in c.items() if k not in keys})


def _expand(src: dict[str, Any], pub: pd.DataFrame, unavailable: dict[str, str]) -> list[Claim]:
    metrics = src["metric"] if isinstance(src["metric"], list) else [src["metric"]]
    rows = pub[(pub["table"] == src["table"]) & pub["metric"].isin(metrics)
               & (pub["source"] == "paper")]
    out: list[Claim] = []
    gone = rows[rows["dataset"].isin(list(unavailable))]
    for d in dict.fromkeys(gone["dataset"]):  # one claim per unavailable Table row
        vals = ", ".join(f"{r.method} {r.setting} {r.value:g}" for r in
                         gone[gone["dataset"] == d].itertuples())
        out.append(Claim(f"{_tag(src['table'])}-{_slug(d)}", src["table"],
                         f"{d} row: {vals}", src["rule"], src["anchor"],
                         {"unavailable": unavailable[d], "dataset": d}))
    runnable = rows[~rows["dataset"].isin(list(unavailable))]
    if src["table"].startswith("§"):  # a section's scattered values: by method, then depth
        runnable = runnable.sort_values(["method", "hidden_layers"], kind="stable")
    for r in runnable.itertuples():
        spec = {"dataset": r.dataset, "method": BY_TITLE[r.method], "setting": r.setting,
                "batch_size": BATCH[r.setting], "hidden_layers": int(r.hidden_layers),
                "metric": r.metric, "paper": float(r.value), "unit": r.unit}
        if src["rule"] == "ratio":
            if spec["method"] == REFERENCE:
                continue  # Standard is the reference: its ratio is 1 by definition
            std = rows[(rows["method"] == METHOD_TITLES[REFERENCE]) & (rows["metric"] == r.metric)
                       & (rows["setting"] == r.setting)]
            spec["paper_ratio"] = float(r.value) / float(std["value"].iloc[0])
            spec["phase"] = PHASE_OF[r.metric]
        out.append(Claim(_claim_id(src["table"], r), src["table"], _statement(src, r, spec),
                         src["rule"], src["anchor"], spec))
    return out


def _statement(src: dict[str, Any], r, spec: dict[str, Any]) -> str:
    depth = int(r.hidden_layers)
    where = f"{r.dataset}, {r.method} {r.setting}, {depth} hidden layer{'s' * (depth != 1)}"
    if src["rule"] == "ratio":
        return f"{where}: {METRIC_TEXT[r.metric]} / Standard's (paper {r.value:g} s)"
    if src["rule"] == "memory":
        return f"{where}: memory growth over training"
    return f"{where}: test accuracy after 50 epochs"


def _claim_id(table: str, r) -> str:
    metric = "" if r.metric in ("test_accuracy", "memory_growth") else f"-{PHASE_OF[r.metric]}"
    depth = f"-h{int(r.hidden_layers)}" if table == "§9.1" else ""
    return f"{_tag(table)}-{_slug(r.dataset)}-{_slug(r.method)}-{r.setting}{depth}{metric}"


def _tag(table: str) -> str:
    return table.replace("Table ", "T").replace("§", "")


def _slug(s: str) -> str:
    return str(s).lower().replace(" ", "-")
