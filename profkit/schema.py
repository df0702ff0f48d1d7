"""Every table profkit writes: its columns, their dtypes and units, declared once (invariant I3).

The invariants I1-I7 are stated in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

# Schema history: the `schema_version` every run.json carries, and what each version holds.
# Bump SCHEMA_VERSION (and add a line here) whenever a table, a column or a run.json key that
# load() reads changes meaning; load() refuses versions it does not know.
#
# 1 (profkit 0.1.0): run.json (config, environment, status, summary, warnings) and one folder
#   of parquet parts per table: phases, steps, epochs, confusion, method_stats, memory,
#   counters; the errorprop study table once per results directory. The failure records a
#   sweep wrote for runs that died outside the trainer had no schema_version: a run.json
#   without one is read as version 1.
#   Added within version 1 (nothing existing changed meaning): `phase_blocks`, which only
#   `profkit compact` writes, in place of a long run's phases, with run.json's `compacted`.
SCHEMA_HISTORY: dict[int, str] = {
    1: "run.json + one folder of parquet parts per table (profkit 0.1.0)",
    2: "steps and phases gain `worker` (the worker process of a --workers P run; 0 in a "
       "one-process run, and in version-1 parts, which lack the column)",
}
SCHEMA_VERSION = max(SCHEMA_HISTORY)


class SchemaVersionError(ValueError):
    """A run directory's schema_version is not one this profkit can read."""


def check_version(version: object, where: str) -> int:
    """Return `version` if this profkit reads it; else raise with what to do about it."""
    if version is None:
        return 1  # see the history: version-1 sweep failure records lack the key
    if isinstance(version, bool) or not isinstance(version, int):
        raise SchemaVersionError(f"{where}: schema_version {version!r} is not a version number; "
                                 f"known versions: {sorted(SCHEMA_HISTORY)}. The file is not a "
                                 "profkit run.json, or it is damaged: re-run that run")
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(f"{where}: schema_version {version} was written by a newer "
                                 f"profkit (this one reads versions up to {SCHEMA_VERSION}); "
                                 "upgrade profkit to load it")
    if version not in SCHEMA_HISTORY:
        raise SchemaVersionError(f"{where}: schema_version {version} is unknown; known versions: "
                                 f"{sorted(SCHEMA_HISTORY)}; re-run that run with this profkit")
    return version


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    nullable: bool = False
    before: Any = None  # the value in parts written before the column existed (None: none)


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, c.nullable) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: pa.DataType, doc: str, nullable: bool = False,
       before: Any = None) -> Column:
    return Column(name, type_, doc, nullable, before)


_STR = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()
_F64 = pa.float64()
_BOOL = pa.bool_()

_WORKER_DOC = ("worker process that ran the step, from 0 (--workers P; worker w runs steps "
               "w, w + P, ...; 0 in a one-process run)")

# `run_id` is not stored inside a run directory's tables (the directory names the run);
# profkit.store.load adds it as the first column of every frame it returns.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("phases", "Wall time of every named phase of every training step (raw, long).", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("step", _I64, "global step index, from 0"),
            _c("worker", _I32, _WORKER_DOC, before=0),
            _c("phase", _STR, "phase name; `other` is the step's time outside named phases"),
            _c("wall_ns", _I64, "monotonic wall time spent in the phase, nanoseconds"),
            _c("warmup", _BOOL, "step is within the warm-up window (flagged, not dropped)"),
        )),
        Table("phase_blocks", "Blocks of consecutive steps of a long run, written by `profkit "
              "compact` in place of its phases table (docs/reproduction.md): per epoch, the "
              "warm-up steps as block 0, then blocks of a fixed number of steps.", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("block", _I32, "block index within the epoch, from 0"),
            _c("phase", _STR, "phase name; `total` is the step's training time (all phases "
               "but `diagnostic`)"),
            _c("first_step", _I64, "global index of the block's first step with this phase"),
            _c("n_steps", _I64, "steps of the block that ran this phase"),
            _c("warmup", _BOOL, "the block's steps are warm-up steps"),
            _c("sum_ns", _I64, "sum of the phase's wall times over the block, nanoseconds"),
            _c("min_ns", _I64, "smallest wall time of the phase in the block, nanoseconds"),
            _c("q25_ns", _F64, "first quartile, nanoseconds"),
            _c("median_ns", _F64, "median, nanoseconds"),
            _c("q75_ns", _F64, "third quartile, nanoseconds"),
            _c("max_ns", _I64, "largest wall time, nanoseconds"),
        )),
        Table("steps", "One row per training step.", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("step", _I64, "global step index, from 0"),
            _c("worker", _I32, _WORKER_DOC, before=0),
            _c("batch_size", _I32, "samples in this step's batch"),
            _c("wall_ns", _I64, "wall time of the whole step, nanoseconds"),
            _c("loss", _F64, "training loss of the step (mean NLL over its batch)"),
            _c("warmup", _BOOL, "step is within the warm-up window"),
        )),
        Table("epochs", "One row per epoch: loss, accuracies, loop timing, optimizer state.", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("n_steps", _I64, "training steps run in this epoch"),
            _c("complete", _BOOL, "the epoch ran all its steps (false when cut by a cap or stop)"),
            _c("train_loss", _F64, "mean training loss over the epoch's steps"),
            _c("train_wall_ns", _I64, "wall time of the training loop, incl. bookkeeping"),
            _c("steps_wall_ns", _I64, "sum of the steps' wall times"),
            _c("eval_wall_ns", _I64, "wall time of exact evaluation (not part of training)"),
            _c("val_accuracy", _F64, "validation accuracy, fraction in [0, 1]", True),
            _c("test_accuracy", _F64, "test accuracy, fraction in [0, 1]", True),
            _c("val_loss", _F64, "validation mean NLL", True),
            _c("test_loss", _F64, "test mean NLL", True),
            _c("subnormal_fraction", _F64,
               "fraction of optimizer-state values that are subnormal floats", True),
            _c("rss_bytes", _I64, "process resident set size at the end of the epoch", True),
        )),
        Table("confusion", "Confusion counts of exact evaluation, per epoch and split.", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("split", _STR, "`val` or `test`"),
            _c("true_label", _I32, "true class"),
            _c("pred_label", _I32, "predicted class"),
            _c("count", _I64, "number of samples"),
        )),
        Table("method_stats", "Per-epoch, per-layer statistics a method reports.", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("layer", _I32, "hidden layer index from 0; -1 for the whole network"),
            _c("stat", _STR, "statistic name, e.g. keep_rate, active_set_mean, recall"),
            _c("value", _F64, "value of the statistic", True),
            _c("diagnostic", _BOOL, "measured outside the timed phases, only for diagnosis"),
        )),
        Table("lsh_tables", "ALSH hash-table occupancy per layer and table, averaged over the "
              "epoch's builds (the tables standing at its start count as one).", (
            _c("epoch", _I32, "epoch index, from 0"),
            _c("layer", _I32, "hidden layer index from 0"),
            _c("table", _I32, "hash table index from 0"),
            _c("builds", _I32, "table builds averaged (rebuilds in the epoch + 1)"),
            _c("buckets_nonempty", _F64, "mean number of buckets holding at least one unit"),
            _c("largest_share", _F64, "mean share of the layer's units in the largest bucket"),
            _c("largest_share_max", _F64, "largest share over the epoch's builds"),
            _c("bucket_size_mean", _F64, "mean size of the bucket a unit sits in "
               "(sum of squared bucket sizes / units)"),
        )),
        Table("memory", "Process memory samples (background sampler and phase boundaries).", (
            _c("t_ns", _I64, "monotonic time since the run started, nanoseconds"),
            _c("epoch", _I32, "epoch at sample time (-1 before training)"),
            _c("step", _I64, "global step at sample time (-1 outside steps)"),
            _c("phase", _STR, "phase at sample time (`idle` outside steps)"),
            _c("source", _STR, "`sampler`, `boundary`, `tracemalloc` or `torch`"),
            _c("metric", _STR, "`rss`, `peak_rss`, `traced_current`, `traced_peak`, ..."),
            _c("bytes", _I64, "value, bytes", True),
        )),
        Table("counters", "Hardware/software event counts per phase (perf or callgrind).", (
            _c("epoch", _I32, "epoch index (-1: whole run)"),
            _c("phase", _STR, "phase the counts are attributed to"),
            _c("event", _STR, "event name as the backend names it"),
            _c("value", _F64, "count; null when unavailable", True),
            _c("unit", _STR, "unit of the count (`count`, `msec`, ...)"),
            _c("percent_running", _F64, "perf's running/enabled percentage; <100 is scaled",
               True),
            _c("multiplexed", _BOOL, "the count was scaled from a multiplexed sample"),
            _c("backend", _STR, "`perf` or `callgrind`"),
            _c("simulated", _BOOL, "value comes from a cache simulator, not hardware"),
            _c("na_reason", _STR, "why the value is missing, when it is", True),
        )),
    )
}

# Frames load() flattens from run.json (no parquet of their own), name -> leading columns:
# run_warnings has exactly these; environment has run_id, then one column per value of
# run.json's `environment` (profkit/env.py declares them, as they vary by machine and version).
RUN_JSON_FRAMES: dict[str, tuple[str, ...]] = {
    "run_warnings": ("run_id", "message"),
    "environment": ("run_id",),
}

# Tables written once per results directory (not per run): <results>/<name>.parquet.
STUDY_TABLES: dict[str, Table] = {
    "errorprop": Table("errorprop", "Per-layer estimation errors of approximate methods (§7), "
                       "from profkit.errorprop.run_study (`profkit errorprop`).", (
        _c("method", _STR, "approximate method or oracle that made the estimates"),
        _c("trained_with", _STR, "method that trained the network's weights"),
        _c("dataset", _STR, "dataset of the training and measurement batches"),
        _c("depth", _I32, "hidden layers of the network"),
        _c("width", _I32, "units per hidden layer"),
        _c("batch_size", _I32, "samples in the measurement batch"),
        _c("steps", _I64, "training steps before measuring"),
        _c("seed", _I64, "seed of the weights, training order and measurement batch"),
        _c("layer", _I32, "layer index from 0 (hidden_layers is the output layer)"),
        _c("quantity", _STR, "`activation`, `grad_input` or `grad_weight`"),
        _c("metric", _STR, "rel_error, node_rel_error_median, error_to_estimate_median, c_*"),
        _c("value", _F64, "value of the metric (inf: no inactive part)", True),
    )),
    "alsh_study": Table("alsh_study", "ALSH active-set recall per layer against the hash "
                        "configuration, from profkit.alsh_study.run_study.", (
        _c("method", _STR, "method that trained the network's weights"),
        _c("dataset", _STR, "dataset of the training and measurement batches"),
        _c("depth", _I32, "hidden layers of the network"),
        _c("width", _I32, "units per hidden layer"),
        _c("steps", _I64, "training steps before measuring"),
        _c("seed", _I64, "seed of the weights, training order, batch and hash draws"),
        _c("batch_size", _I32, "measurement samples (each queries alone, as at batch 1)"),
        _c("family", _STR, "hash family (l2-alsh-sign, sign-alsh, simple-lsh, dwta)"),
        _c("selection", _STR, "`table-order` (the paper's) or `collisions`"),
        _c("K", _I32, "bits (DWTA: winner hashes) per table"),
        _c("L", _I32, "tables per layer"),
        _c("m", _I32, "ALSH transform terms"),
        _c("U", _F64, "largest weight norm after scaling"),
        _c("bin_size", _I32, "coordinates per DWTA bin (dwta only)"),
        _c("rerank", _I32, "shortlist size in caps re-ranked exactly; 0 = none"),
        _c("layer", _I32, "hidden layer index from 0"),
        _c("recall", _F64, "share of the exact top-cap units by <a, w_j> in the active set"),
        _c("recall_random", _F64, "k/n: a uniformly random set's expected recall"),
        _c("bucket_fraction", _F64, "share of the (shortlisted) set found in buckets"),
        _c("tables_probed", _F64, "mean tables read before the cap filled"),
        _c("largest_bucket_share", _F64, "mean over tables of the largest bucket's share"),
        _c("data_extra_share", _F64, "mean share of |P(w)|^2 in the appended coordinates"),
    )),
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; tables are: {', '.join(TABLES)}") from None


def study_file(name: str) -> str:
    """The file name of study table `name` inside a results directory."""
    return f"{study_table(name).name}.parquet"


def study_table(name: str) -> Table:
    try:
        return STUDY_TABLES[name]
    except KeyError:
        raise KeyError(f"unknown study table {name!r}; study tables are: "
                       f"{', '.join(STUDY_TABLES)}") from None


def to_arrow(name: str, data: dict[str, Any] | pd.DataFrame) -> pa.Table:
    """Build an arrow table for `name`, checking columns and casting to the declared types."""
    spec = table(name)
    cols = list(data.columns) if isinstance(data, pd.DataFrame) else list(data)
    if sorted(cols) != sorted(spec.column_names):
        raise ValueError(f"table {name!r}: columns {sorted(cols)} do not match the schema's "
                         f"{sorted(spec.column_names)}")
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data[spec.column_names], schema=spec.arrow_schema,
                                    preserve_index=False)
    return pa.table({c: data[c] for c in spec.column_names}, schema=spec.arrow_schema)


def to_frame(tbl: pa.Table) -> pd.DataFrame:
    """An arrow table as a DataFrame (pyarrow has no type information: this gives it one)."""
    df: pd.DataFrame = tbl.to_pandas()
    return df


def empty_table(spec: Table) -> pd.DataFrame:
    """An empty DataFrame with `spec`'s columns and dtypes."""
    return to_frame(pa.Table.from_pylist([], schema=spec.arrow_schema))


def empty_frame(name: str) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes (plus run_id)."""
    df = empty_table(table(name))
    df.insert(0, "run_id", pd.Series([], dtype="string"))
    return df
