"""The load rule: what `profkit.load` does with run directories it cannot trust.

- A run directory that cannot be read as profkit wrote it is **skipped, with a warning**: its
  run.json is not UTF-8, not JSON, not an object, or has no string `run_id`; or a table part is
  truncated or garbled, or holds another table's columns. The warning (a `LoadWarning`, also
  returned in the `load_warnings` frame, which the report lists with its other warnings) names
  the file and the reason. One damaged run must not hide the others.
- Rows that would be attributed to the wrong run are **an error** naming both files: two
  directories with one `run_id`, or a key (`epoch`, `step`, ...) that occurs twice in one run
  (a part copied from another run). Skipping either would silently pick one of two answers.
- A run.json with a schema_version this profkit cannot read is an error (upgrade profkit).
- A results path that does not exist is a FileNotFoundError naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from profkit import schema

# What identifies a row within one run; a key seen twice means two attempts or runs were mixed.
KEYS: dict[str, tuple[str, ...]] = {
    "phases": ("epoch", "step", "phase"),
    "steps": ("epoch", "step"),
    "epochs": ("epoch",),
}
WARNING_COLUMNS = ["path", "reason"]


class LoadWarning(UserWarning):
    """A run directory was skipped by load(): the message names the file and why."""


class UnreadableRunError(Exception):
    """One file of a run directory cannot be read as profkit wrote it."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}; the run was skipped (re-run it, or delete it)")
        self.path, self.reason = path, reason


class DuplicateKeyError(ValueError):
    """load() would attribute one row, or one run, twice."""


def read_meta(path: Path) -> dict[str, Any]:
    """run.json as a dict with a string run_id, or UnreadableRunError saying what is wrong."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnreadableRunError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise UnreadableRunError(path, f"cannot be read ({e.strerror or e})") from None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise UnreadableRunError(path, f"not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(meta, dict):
        raise UnreadableRunError(path, f"a JSON {type(meta).__name__}, not an object")
    if not isinstance(meta.get("run_id"), str) or not meta["run_id"]:
        raise UnreadableRunError(path, "has no run_id")
    return meta


def read_part(path: Path, spec: schema.Table) -> pa.Table:
    """One parquet part with exactly `spec`'s columns, read through an open file (a path string
    such as `res-12:30/...` would be parsed by pyarrow as a URI)."""
    try:
        with open(path, "rb") as f:
            found = pq.read_schema(f).names
            # a part written before a column existed lacks it; the schema says what it was then
            older = [c for c in spec.columns if c.name not in found and c.before is not None]
            expected = [n for n in spec.column_names if n not in {c.name for c in older}]
            if sorted(found) != sorted(expected):
                raise UnreadableRunError(path, f"its columns {found} are not those of table "
                                               f"{spec.name!r} {spec.column_names}")
            f.seek(0)
            fields = [spec.arrow_schema.field(n) for n in expected]
            table: pa.Table = pq.read_table(f, schema=pa.schema(fields))
            for c in older:
                table = table.append_column(pa.field(c.name, c.type, c.nullable),
                                            pa.array([c.before] * len(table), c.type))
            return table.select(spec.column_names)
    except (pa.ArrowException, OSError) as e:
        raise UnreadableRunError(path, f"not a readable parquet file ({e})") from None


def check_keys(name: str, parts: list[tuple[Path, pa.Table]]) -> None:
    """DuplicateKeyError naming both parts when a key of table `name` occurs twice."""
    cols = KEYS.get(name)
    if cols is None or not parts:
        return
    keys = pd.concat([tbl.select(list(cols)).to_pandas().assign(_part=i)
                      for i, (_, tbl) in enumerate(parts)], ignore_index=True)
    dup = keys[keys.duplicated(list(cols), keep=False)]  # vectorised: runs have millions of rows
    if dup.empty:
        return
    row = dup.iloc[0]
    same = dup[(dup[list(cols)] == row[list(cols)]).all(axis=1)]["_part"].tolist()
    a, b = parts[same[0]][0], parts[same[1]][0]
    key = {c: row[c].item() if hasattr(row[c], "item") else row[c] for c in cols}
    where = f"twice in {a}" if a == b else f"in {a} and in {b}"
    raise DuplicateKeyError(
        f"{name} row {key} occurs {where}: two attempts or two runs were mixed in one run "
        "directory; delete the part that does not belong (or re-run with --force)")


def check_run_ids(seen: dict[str, Path], run_id: str, path: Path) -> None:
    """DuplicateKeyError naming both run.json files when two directories claim one run id."""
    if run_id in seen:
        raise DuplicateKeyError(
            f"run id {run_id} is in two run directories: {seen[run_id]} and {path}; their "
            "tables would merge. Keep one (move the other out of the results directory)")
    seen[run_id] = path
