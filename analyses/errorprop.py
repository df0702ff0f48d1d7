"""Error propagation (§7): Theorem 7.2's curve, Lemma 7.1's recursion, and measured-error summaries.

Notation (the paper's, made precise). A network with linear activations a = f(z) = z and no
bias; W^k has shape (n_{k-1}, n_k) and W^k[i, j] connects node i of layer k-1 to node j of
layer k; a^0 = x. An approximate method computes node j of layer k from an *active* subset
↑^k_j of its inputs only, and from its own estimates of the previous layer:

    ā^k_j = sum_{i in ↑^k_j} ā^{k-1}_i W^k[i, j],   ā^0 = x        (the estimate)
    a^k_j = sum_i a^{k-1}_i W^k[i, j]                                (the exact value)
    e^k_j = a^k_j - ā^k_j                                            (the error)

Lemma 7.1 (recursion, exact for any active sets): e^1_j = sum_{i not in ↑^1_j} x_i W^1[i, j] and
e^k_j = sum_i e^{k-1}_i W^k[i, j] + sum_{i not in ↑^k_j} ā^{k-1}_i W^k[i, j]. (The paper prints
W^1 and a^{k-1} in the last term; it is W^k and the *estimate* ā^{k-1}.)

Theorem 7.2: if at every node the active part is c times the inactive part,
sum_{i in ↑} ā^{l-1}_i W[i, p] = c * sum_{i not in ↑} ā^{l-1}_i W[i, p], then the exact value is
((c+1)/c)^k times the estimate, a^k_j = ā^k_j ((c+1)/c)^k, so the error relative to the
*estimate* is e^k_j / ā^k_j = ((c+1)/c)^k - 1 (the paper's statement swaps ā and a in places).
Relative to the exact value the same error is e/a = 1 - (c/(c+1))^k, which stays below 1.
With a different c_l at each layer the factor is the product of (c_l+1)/c_l.

The measured side (rows written by profkit.errorprop, a torch module, which `profkit errorprop`
runs) is summarised here with pandas only (invariant I6, docs/architecture.md); the figures are
in analyses/figures/errorprop.py. Metrics in a study frame:
`rel_error` ||ā - a|| / ||a|| over a layer's (sample, unit) entries; `node_rel_error_median`
median |e|/|a| over entries with a != 0; `error_to_estimate_median` median |e|/|ā| over entries
the method computed (ā != 0), the theorem's quantity; `c_median`, `c_q25`, `c_q75` the
distribution of the per-node ratio c = sum_active a_i W_ij / sum_inactive a_i W_ij (exact inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from profkit import store
from profkit.schema import study_file, study_table

PAPER_C = 5.0
PUBLISHED = Path(__file__).parent / "data" / "published_results.csv"
STUDY_FILE = study_file("errorprop")
ACTIVATION = "activation"
STUDY_COLUMNS = study_table("errorprop").column_names
KEYS = ["method", "trained_with", "dataset", "depth", "width", "layer", "quantity"]


def _check_c(c) -> np.ndarray:
    c = np.asarray(c, dtype=float)
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError(f"c must be finite and > 0 (active part / inactive part), got {c}")
    return c


def theory_ratio(c: float, k) -> np.ndarray:
    """Theorem 7.2: e^k / ā^k = ((c+1)/c)^k - 1 for depth(s) k >= 1."""
    k = np.asarray(k)
    if np.any(k < 1):
        raise ValueError(f"depth k must be >= 1, got {k}")
    c = _check_c(c)
    return ((c + 1) / c) ** k - 1


def theory_layerwise(cs) -> np.ndarray:
    """e^k / ā^k for k = 1..len(cs) when layer l has its own ratio c_l (uniform within a layer)."""
    cs = _check_c(cs)
    return np.cumprod((cs + 1) / cs) - 1


def theory_curve(c: float = PAPER_C, depths=range(1, 8)) -> pd.DataFrame:
    """Per depth k: the theorem's error-to-estimate, exact-to-estimate and error-to-exact ratios."""
    k = np.asarray(list(depths))
    ratio = theory_ratio(c, k)
    return pd.DataFrame({"k": k, "c": float(c), "exact_to_estimate": ratio + 1,
                         "error_to_estimate": ratio, "error_to_exact": ratio / (ratio + 1)})


def paper_table() -> pd.DataFrame:
    """§7's printed c = 5 table (k, paper) from the published-results file."""
    pub = pd.read_csv(PUBLISHED)
    t = pub[(pub["table"] == "Theorem 7.2") & (pub["metric"] == "error_to_estimate_c5")]
    return pd.DataFrame({"k": t["hidden_layers"].astype(int).to_numpy(),
                         "paper": t["value"].astype(float).to_numpy()}).sort_values("k")


def paper_table_check() -> pd.DataFrame:
    """§7's c = 5 table beside the computed values, rounded and truncated to 2 decimals (the
    paper's 0.72, 1.48 and 1.98 are 0.728, 1.488 and 1.986 truncated, not rounded)."""
    out = paper_table().reset_index(drop=True)
    exact = theory_ratio(PAPER_C, out["k"].to_numpy())
    return out.assign(computed=exact, computed_rounded=np.round(exact, 2),
                      computed_truncated=np.floor(exact * 100 + 1e-9) / 100)


# ---- Lemma 7.1 on linear networks (numpy; batch of inputs x: (batch, n0)) -------------------

def _check_net(x: np.ndarray, weights: list[np.ndarray], active: list[np.ndarray]) -> None:
    if len(weights) != len(active):
        raise ValueError(f"{len(weights)} weight matrices but {len(active)} active masks")
    n = x.shape[1]
    for k, (w, m) in enumerate(zip(weights, active, strict=True), start=1):
        if w.shape[0] != n or m.shape != w.shape:
            raise ValueError(f"layer {k}: weight {w.shape} and mask {m.shape} must both be "
                             f"({n}, n_{k}): W[i, j] connects input i to node j")
        n = w.shape[1]


def linear_forward(x: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """Exact activations a^1..a^K of the linear network: each (batch, n_k)."""
    out = []
    for w in weights:
        x = x @ w
        out.append(x)
    return out


def masked_forward(x: np.ndarray, weights: list[np.ndarray],
                   active: list[np.ndarray]) -> list[np.ndarray]:
    """Estimates ā^1..ā^K: node j of layer k sums only its active inputs' estimated terms."""
    _check_net(x, weights, active)
    out = []
    for w, m in zip(weights, active, strict=True):
        x = x @ (w * m)  # (batch, n_k): masked terms never enter the sum
        out.append(x)
    return out


def lemma_errors(x: np.ndarray, weights: list[np.ndarray],
                 active: list[np.ndarray]) -> list[np.ndarray]:
    """e^1..e^K by Lemma 7.1's recursion (not by subtracting the two forward passes)."""
    est = masked_forward(x, weights, active)
    prev_est, e = x, np.zeros_like(x, dtype=float)
    errors = []
    for w, m, a_hat in zip(weights, active, est, strict=True):
        e = e @ w + prev_est @ (w * ~m)  # propagated error + the skipped (inactive) terms
        errors.append(e)
        prev_est = a_hat
    return errors


def c_ratio(a_prev: np.ndarray, w: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per (sample, node): sum over active i of a_i W_ij / sum over inactive i (inf if none)."""
    act = a_prev @ (w * active)
    inact = a_prev @ (w * ~active)
    with np.errstate(divide="ignore", invalid="ignore"):
        return act / inact


# ---- measured errors (a study frame from profkit.errorprop) ----------------------------------

def read_study(results: str | Path) -> pd.DataFrame:
    """The error-propagation study saved in `results` (empty, with its columns, if none)."""
    return store.read_study("errorprop", results)


def summarise(study: pd.DataFrame) -> pd.DataFrame:
    """Per method, network, layer, quantity and metric: median, quartiles and count over seeds."""
    g = study.dropna(subset=["value"]).groupby([*KEYS, "metric"], dropna=False)["value"]
    out = g.agg(median="median", q25=lambda v: v.quantile(0.25, interpolation="nearest"),
                q75=lambda v: v.quantile(0.75, interpolation="nearest"), n="size").reset_index()
    out.insert(out.columns.get_loc("layer") + 1, "k", out["layer"] + 1)
    return out


def theory_comparison(study: pd.DataFrame) -> pd.DataFrame:
    """Measured activation errors by depth k beside Theorem 7.2 at the c estimated from data.

    `c_hat` pools a network's per-layer c medians (median over layers with a finite, positive
    c); `theory_pooled` is ((c_hat+1)/c_hat)^k - 1; `theory_layerwise` uses each layer's own
    median c (NA once a layer's c is not positive: the theorem does not apply there).
    """
    s = summarise(study[study["quantity"] == ACTIVATION])
    if s.empty:
        return pd.DataFrame(columns=[*KEYS, "k", "error_to_estimate", "rel_error", "c_median",
                                     "c_hat", "theory_pooled", "theory_layerwise"])
    wide = s.set_index([*KEYS, "k", "metric"])["median"].unstack("metric").reset_index()
    wide.columns.name = None
    for m in ("error_to_estimate_median", "rel_error", "c_median"):
        if m not in wide:
            wide[m] = np.nan
    wide = wide.rename(columns={"error_to_estimate_median": "error_to_estimate"})
    parts = [_theory_for(g) for _, g in wide.groupby(KEYS[:5], dropna=False, sort=True)]
    cols = [*KEYS, "k", "error_to_estimate", "rel_error", "c_median", "c_hat", "theory_pooled",
            "theory_layerwise"]
    return pd.concat(parts, ignore_index=True)[cols]


def _theory_for(g: pd.DataFrame) -> pd.DataFrame:
    g = g.sort_values("k").copy()
    c = g["c_median"].to_numpy(dtype=float)
    ok = np.isfinite(c) & (c > 0)
    g["c_hat"] = float(np.median(c[ok])) if ok.any() else np.nan
    g["theory_pooled"] = theory_ratio(g["c_hat"].iloc[0], g["k"]) if ok.any() else np.nan
    # Layers whose c is infinite (every input active, e.g. ALSH's first layer) add no factor.
    factors = np.where(np.isinf(c) & (c > 0), 1.0, (c + 1) / np.where(ok, c, np.nan))
    g["theory_layerwise"] = np.cumprod(factors) - 1
    return g


# ---- ALSH active-set recall (method_stats, stat "recall") ------------------------------------

RECALL_STATS = ("recall_topk", "recall")  # ALSH-approx writes recall_topk; `recall` also read
CHANCE_STAT = "recall_random"  # k/n: what a uniformly random active set recalls


def recall_table(method_stats: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Recall of the active set against the exact top units (and its chance level), per run,
    hidden layer and epoch; NA where a step did not measure it."""
    ms = method_stats[method_stats["stat"].isin([*RECALL_STATS, CHANCE_STAT])]
    ms = ms.assign(stat=ms["stat"].where(ms["stat"] == CHANCE_STAT, "recall"))
    wide = ms.groupby(["run_id", "epoch", "layer", "stat"])["value"].first().unstack(
        "stat").reset_index()
    if "recall" not in wide:
        return pd.DataFrame(columns=["run_id", "epoch", "layer", "recall", CHANCE_STAT])
    if CHANCE_STAT not in wide:
        wide[CHANCE_STAT] = np.nan
    keys = [c for c in ("run_id", "method", "dataset", "batch_size", "hidden_layers", "width")
            if c in runs]
    out = wide[["run_id", "epoch", "layer", "recall", CHANCE_STAT]].merge(
        runs[keys], on="run_id", how="left")
    out.columns.name = None
    return out.sort_values(["run_id", "layer", "epoch"], ignore_index=True)


def recall_by_layer(recall: pd.DataFrame) -> pd.DataFrame:
    """Mean recall per method, depth, layer (rows) and epoch (columns)."""
    idx = [c for c in ("method", "hidden_layers", "layer") if c in recall]
    wide = recall.pivot_table(index=idx, columns="epoch", values="recall", aggfunc="mean")
    wide.columns = [f"epoch {int(e) + 1}" for e in wide.columns]  # labelled, 1-based
    return wide


# ---- everything §7 shows, for the shared Computed bundle ------------------------------------

STUDY_HINT = ("no measured error-propagation study in these results: `profkit errorprop "
              "--results RESULTS_DIR` adds one (`profkit demo` includes a small one)")


@dataclass
class ErrorPropagation:
    """The §7 frames of a results set: the theorem's curve and the paper's table always; the
    measured study, its comparison with the theory and ALSH's recall when the results hold
    them (empty frames otherwise, each absence said in `notes`)."""

    theory: pd.DataFrame
    paper_table: pd.DataFrame
    measured: pd.DataFrame
    comparison: pd.DataFrame
    recall: pd.DataFrame
    recall_by_layer: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def error_propagation(frames: dict[str, pd.DataFrame]) -> ErrorPropagation:
    """§7 from the loaded frames (load_results reads the `errorprop` study with the runs)."""
    notes = []
    study = frames.get("errorprop")
    if study is None or study.empty:
        notes.append(STUDY_HINT)
        measured = comparison = pd.DataFrame()
    else:
        measured, comparison = summarise(study), theory_comparison(study)
    runs, stats = frames.get("runs"), frames.get("method_stats")
    recall = (recall_table(stats, runs) if stats is not None and runs is not None
              and not runs.empty else pd.DataFrame())
    if recall.empty or recall["recall"].isna().all():
        notes.append("no ALSH recall statistics (method_stats stat 'recall'): no alsh-approx "
                     "run in these results")
        recall = by_layer = pd.DataFrame()
    else:
        by_layer = recall_by_layer(recall)
    return ErrorPropagation(theory_curve(), paper_table_check(), measured, comparison, recall,
                            by_layer, notes)
