"""Run directories: atomic writes of run.json and table parts; loading many runs as tidy frames."""

from __future__ import annotations

import errno
import json
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from profkit import loading, schema

RUN_FILE = "run.json"


class OutputDirError(RuntimeError):
    """The results directory cannot be written."""


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (os.umask can only set
    it, and setting it briefly would give another thread's files the wrong mode)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same directory, fsync, then rename over `path`.

    The file gets the mode an ordinary write would (0o666 less the umask): mkstemp creates it
    0600, which would make a shared results directory unreadable to collaborators."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results_file(path: Path, data: bytes) -> None:
    """atomic_write_bytes for a run's files; a full disk becomes one clear OutputDirError."""
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise OutputDirError(f"no space left on the device writing {path} ({e.strerror}); "
                             "free space there or choose another --results DIR") from None


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def check_writable(directory: Path) -> None:
    """Fail before any training if `directory` cannot hold results."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as e:
        raise OutputDirError(
            f"cannot write results to {directory}: {e.strerror or e}. "
            "Choose a writable directory with --results DIR (or fix its permissions)."
        ) from None


class RunDir:
    """One run's directory: run.json plus one sub-directory of parquet parts per table."""

    def __init__(self, path: Path, part_prefix: str = ""):
        self.path = Path(path)
        # worker processes of one run (profkit.hogwild) write parts under their own prefix,
        # so that two processes never pick the same part name
        self.part_prefix = part_prefix
        self._part: dict[str, int] = {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_results_file(self.path / RUN_FILE,
                           json.dumps(meta, indent=2, sort_keys=True, default=str).encode())

    def read_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = json.loads((self.path / RUN_FILE).read_text())
        return meta

    def append(self, name: str, data: dict[str, Any] | pd.DataFrame | pa.Table) -> None:
        """Write one more part of table `name` atomically; an empty part is skipped."""
        tbl = data if isinstance(data, pa.Table) else schema.to_arrow(name, data)
        if tbl.num_rows == 0:
            return
        idx = self._part.get(name)
        if idx is None:
            idx = len(list((self.path / name).glob(f"part-{self.part_prefix}*.parquet")))
        sink = pa.BufferOutputStream()
        pq.write_table(tbl, sink, compression="zstd")
        part = self.path / name / f"part-{self.part_prefix}{idx:05d}.parquet"
        write_results_file(part, sink.getvalue().to_pybytes())
        self._part[name] = idx + 1

    def read(self, name: str) -> pd.DataFrame:
        parts = sorted((self.path / name).glob("part-*.parquet"))
        spec = schema.table(name)
        if not parts:
            return schema.empty_table(spec)
        return schema.to_frame(pa.concat_tables([loading.read_part(p, spec) for p in parts]))


def run_dirs(results: Path) -> list[Path]:
    """Run directories under `results` (any depth), sorted by path. Hidden directories (such as
    `.stale/`, where earlier attempts are retired) are not results."""
    results = Path(results)
    if (results / RUN_FILE).exists():
        return [results]
    return sorted(p.parent for p in results.rglob(RUN_FILE)
                  if not any(part.startswith(".") for part in p.relative_to(results).parts))


def load(results: str | Path, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load every run under `results` as tidy frames, by the rule of profkit/loading.py.

    Returns {"runs": one row per run (flattened config, status, progress, environment
    summary), <table>: the concatenation of that table over runs, with `run_id` first, and
    the run.json facts schema.RUN_JSON_FRAMES declares: "run_warnings" (run_id, message) and
    "environment" (run_id and one column per environment value); "load_warnings": one row
    (path, reason) per run directory skipped as unreadable, each also issued as a
    LoadWarning}. This is the one place run.json is read for analysis. A run that was
    interrupted or diverged is included; its `status` says so. Rows attributed twice
    (duplicate keys, one run id in two directories) are a DuplicateKeyError naming both files.
    """
    results = Path(results)
    if not results.exists():
        raise FileNotFoundError(f"results directory {results} does not exist")
    names = list(tables) if tables is not None else list(schema.TABLES)
    runs: list[dict[str, Any]] = []
    run_warnings: list[dict[str, Any]] = []
    environments: list[dict[str, Any]] = []
    frames: dict[str, list[pd.DataFrame]] = {n: [] for n in names}
    skipped: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    for d in run_dirs(results):
        try:
            meta, tbls = _read_run(d, names)
        except loading.UnreadableRunError as e:
            skipped.append({"path": str(e.path), "reason": e.reason})
            warnings.warn(str(e), loading.LoadWarning, stacklevel=2)
            continue
        loading.check_run_ids(seen, meta["run_id"], d / RUN_FILE)
        runs.append(_run_row(meta, d))
        run_warnings += [{"run_id": meta["run_id"], "message": w}
                         for w in meta.get("warnings") or []]
        environments.append(_environment_row(meta))
        for n, df in tbls.items():
            df.insert(0, "run_id", pd.Series([meta["run_id"]] * len(df), dtype="string"))
            frames[n].append(df)
    out = {"runs": pd.DataFrame(runs),
           "run_warnings": pd.DataFrame(run_warnings,
                                        columns=list(schema.RUN_JSON_FRAMES["run_warnings"])),
           "environment": pd.DataFrame(environments, columns=_columns(environments))}
    for n in names:
        out[n] = (pd.concat(frames[n], ignore_index=True) if frames[n]
                  else schema.empty_frame(n))
    out["load_warnings"] = pd.DataFrame(skipped, columns=loading.WARNING_COLUMNS)
    return out


def _read_run(d: Path, names: list[str]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """One run directory's run.json and tables, every part checked (profkit/loading.py)."""
    meta = loading.read_meta(d / RUN_FILE)
    schema.check_version(meta.get("schema_version"), str(d / RUN_FILE))
    tbls: dict[str, pd.DataFrame] = {}
    for n in names:
        spec = schema.table(n)
        parts = [(p, loading.read_part(p, spec)) for p in sorted((d / n).glob("part-*.parquet"))]
        loading.check_keys(n, parts)
        tbls[n] = (schema.to_frame(pa.concat_tables([t for _, t in parts])) if parts
                   else schema.empty_table(spec))
    return meta, tbls


def _run_row(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    cfg = meta.get("config", {})
    row = {"run_id": meta["run_id"], "path": str(path), "status": meta.get("status")}
    row.update({k: v for k, v in cfg.items() if not isinstance(v, dict)})
    for k, v in (cfg.get("method_params") or {}).items():
        row[f"param_{k}"] = v
    # implementation's other choices are config fields already; runs before it had none
    row.setdefault("implementation", "paper")
    row["lazy_updates"] = (meta.get("implementation") or {}).get("lazy_updates")
    env = meta.get("environment", {})
    for k in ("hostname", "cpu_model", "torch_version", "torch_threads"):
        row[k] = env.get(k)
    row["instruments"] = ",".join(meta.get("instruments", []))
    row["clean_timing"] = meta.get("clean_timing", True)
    row["repeat"] = meta.get("repeat", 0)
    sizes = (meta.get("dataset") or {}).get("sizes") or {}
    row.update({"n_train": sizes.get("train"), "n_test": sizes.get("test"),
                "steps_done": meta.get("steps_done"), "epochs_done": meta.get("epochs_done"),
                "error": meta.get("error"), "started_at": meta.get("started_at")})
    return row


def _environment_row(meta: dict[str, Any]) -> dict[str, Any]:
    """run_id and every environment value of run.json; nested values (thread variables) are
    left out, cpu_caches is one string ("L1d 48K, L2 2048K")."""
    env = meta.get("environment") or {}
    caches = env.get("cpu_caches")
    return {"run_id": meta["run_id"], **{k: v for k, v in env.items() if not isinstance(v, dict)},
            "cpu_caches": ", ".join(f"{k} {v}" for k, v in caches.items()) if caches else None}


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """The union of the rows' keys in first-seen order (run_id first, even with no rows)."""
    cols: dict[str, None] = {"run_id": None}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def study_path(results: str | Path, name: str) -> Path:
    """Where study table `name` of a results directory lives: <results>/<name>.parquet."""
    return Path(results) / schema.study_file(name)


def write_study(name: str, frame: pd.DataFrame, results: str | Path) -> Path:
    """Write study table `name` atomically, cast to its declared schema."""
    spec = schema.study_table(name)
    tbl = pa.Table.from_pandas(frame[spec.column_names], schema=spec.arrow_schema,
                               preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(tbl, sink, compression="zstd")
    path = study_path(results, name)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def read_study(name: str, results: str | Path) -> pd.DataFrame:
    """Study table `name` of `results`, or an empty frame with its declared columns."""
    path = study_path(results, name)
    spec = schema.study_table(name)
    if not path.exists():
        return schema.empty_table(spec)
    with open(path, "rb") as f:  # a file, not a path string pyarrow might parse as a URI
        return schema.to_frame(pq.read_table(f, schema=spec.arrow_schema))
