"""The claims section (the report's first screen): per claim of the paper, its value, the
measured value with its interval, the epochs run against the paper's 50, the verdict, its
cause or the variant that explains it, and a link to the section with the evidence. Also the
runtime section's table of every published runtime as a ratio to Standard."""

from __future__ import annotations

from collections import Counter

from profkit.analyses.claim_rules import ratio_row
from profkit.analyses.claim_verdicts import judge_claims
from profkit.analyses.claims import METRIC_TEXT, VERDICTS, Registry, load_registry
from profkit.analyses.computed import Computed
from profkit.analyses.sections import Section

HEADERS = ["claim", "paper", "measured [95% interval]", "epochs run (paper 50)", "verdict",
           "cause / variant", "evidence"]
# a quick look (the demo: a subset, a narrow network) measures none of the paper's claims;
# the reader is told where the ones that do are, rather than left with a wall of "missing"
NONE_LIKE_FOR_LIKE = (" No run here is like for like, so every claim is missing: `profkit "
                      "reproduce --results DIR` runs the paper's protocol (docs/reproduction.md), "
                      "and the project's committed reports/reproduction.html shows its verdicts.")
SECTION_TITLES = {"accuracy": "Accuracy", "runtime": "Runtime", "memory": "Memory",
                  "decision": "Decision tree"}


def build(c: Computed) -> Section:
    v = judge_claims(c)
    counts = Counter(v["verdict"])
    sec = Section("claims", "The paper's claims: reproduced, not reproduced, explained, "
                  "inconclusive or missing",
                  "One row per claim (Table 2-4 rows, §9.1 depth study, §9.4 memory, §10.4 "
                  "decision-tree leaves), judged by the rule written for it before any run "
                  "(docs/reproduction.md, \"Claims and verdict rules\"). Only like-for-like runs"
                  " count: the paper's dataset, width 1000, its depth and batch size, the paper "
                  "implementation. Runtimes are compared as ratios to Standard on this machine; "
                  "accuracies at the epochs actually run: below the paper's after fewer epochs "
                  "than its 50 is inconclusive, not a failure. "
                  + ", ".join(f"{counts.get(k, 0)} {k}" for k in VERDICTS) + "."
                  + (NONE_LIKE_FOR_LIKE if counts.get("missing", 0) == len(v) else ""))
    for section, g in v.groupby("section", sort=False):
        n = Counter(g["verdict"])
        sec.rows(HEADERS, [_cells(r) for r in g.itertuples()],
                 title=f"{section}: " + ", ".join(f"{n[k]} {k}" for k in VERDICTS if n[k]),
                 css="data claims")
    return sec


def _cells(r) -> list:
    cause = r.cause + (f" (variant: {r.variant})" if r.variant else "")
    return [{"text": r.statement, "cls": "long"}, r.paper,
            {"text": r.measured or "—", "cls": "long"}, r.epochs or "—",
            {"text": r.verdict, "cls": "v-" + r.verdict.replace(" ", "-")},
            {"text": cause or "—", "cls": "long"},
            {"text": SECTION_TITLES.get(r.anchor, r.anchor), "anchor": r.anchor}]


def runtime_ratios(c: Computed, sec: Section) -> None:
    """Every published runtime (Tables 3-4, non-Standard) as the measured ratio to Standard
    [95% interval] beside the paper's ratio; missing rows say why."""
    reg = load_registry(published=c.published)
    v = judge_claims(c, reg)
    v = v[v["section"].isin(["Table 3", "Table 4"])]
    if v.empty:
        return
    spec = {cl.id: cl.spec for cl in reg.claims}
    rows = [[r.section, r.config, METRIC_TEXT.get(r.metric, r.metric), r.paper, r.measured or "—",
             {"text": r.verdict, "cls": "v-" + r.verdict.replace(" ", "-")},
             {"text": r.cause or "—", "cls": "long"}, _tuned(c, reg, spec[r.id])]
            for r in v.itertuples()]
    sec.rows(["table", "configuration", "time", "paper: method / Standard",
              "measured: method / Standard [95% CI]", "verdict", "why",
              "tuned implementation: method / Standard [95% CI]"], rows,
             title="Published runtimes as ratios to Standard (Tables 3-4)",
             caption="Seconds differ across CPUs; ratios between methods on one machine do not. "
                     "Measured: ratio of mean seconds per epoch, same dataset, batch size, "
                     "depth, width and implementation, >= 3 repeats each (compare.ratio: Welch "
                     "t on the log ratio). Reproduced when the paper's ratio lies in the "
                     "interval or both are on the same side of 1 with the interval excluding 1."
                     " The last column is the same ratio under implementation=tuned "
                     "(docs/implementations.md), shown beside the like-for-like one and never "
                     "judged.",
             css="data claims")



def _tuned(c: Computed, reg: Registry, s: dict) -> str:
    """The claim's ratio under the tuned implementation, or why there is none."""
    r, why = ratio_row(c, reg, s["dataset"], s["method"], s["batch_size"], s["hidden_layers"],
                       s["phase"], implementation="tuned")
    if r is None:
        return f"— ({why})" if why.startswith("too few") else "—"
    return f"{r['ratio']:.2f}x [{r['ratio_lo']:.2f}, {r['ratio_hi']:.2f}]"
