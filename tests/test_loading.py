"""profkit.load never mis-merges silently (issue 10, item 3; the rule is profkit/loading.py's
docstring): unreadable runs are skipped with a warning naming the file, rows attributed twice
are an error naming both files, a missing path is FileNotFoundError."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from profkit.analyses.checks import all_warnings, load_warnings

import profkit
from profkit.loading import DuplicateKeyError, LoadWarning
from profkit.store import load


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two small finished runs; each test damages a copy."""
    from profkit.config import RunConfig

    root = tmp_path_factory.mktemp("runs")
    for depth in (1, 2):
        cfg = RunConfig(dataset="mnist-5k", hidden_layers=depth, width=16, max_steps=6,
                        warmup_steps=1, threads=1, results=str(root))
        assert profkit.run(cfg, progress=False).status == "complete"
    return root


@pytest.fixture
def results(two_runs, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(two_runs, out)
    return out


def _dirs(results: Path) -> list[Path]:
    return sorted(p for p in results.iterdir() if p.is_dir() and not p.name.startswith("."))


def _part(d: Path, table: str = "steps") -> Path:
    return sorted((d / table).glob("part-*.parquet"))[0]


def _damage_truncated(d):
    p = _part(d)
    p.write_bytes(p.read_bytes()[:40])
    return p, "not a readable parquet file"


def _damage_garbled(d):
    p = _part(d)
    data = bytearray(p.read_bytes())
    data[4:-8] = bytes(len(data) - 12)  # magic bytes kept, everything between zeroed
    p.write_bytes(bytes(data))
    return p, "not a readable parquet file"


def _damage_other_columns(d):
    p = _part(d)
    shutil.copy(_part(d, "epochs"), p)  # the epochs table's columns in the steps folder
    return p, "are not those of table 'steps'"


def _damage_json_list(d):
    (d / "run.json").write_text("[]")
    return d / "run.json", "a JSON list, not an object"


def _damage_no_run_id(d):
    meta = json.loads((d / "run.json").read_text())
    del meta["run_id"]
    (d / "run.json").write_text(json.dumps(meta))
    return d / "run.json", "has no run_id"


def _damage_not_utf8(d):
    (d / "run.json").write_bytes(b'{"run_id": "caf\xe9"}')
    return d / "run.json", "not UTF-8"


DAMAGE = [_damage_truncated, _damage_garbled, _damage_other_columns, _damage_json_list,
          _damage_no_run_id, _damage_not_utf8]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.removeprefix("_damage_"))
def test_an_unreadable_run_is_skipped_with_a_warning_naming_the_file(results, damage):
    bad, good = _dirs(results)
    path, reason = damage(bad)
    with pytest.warns(LoadWarning) as caught:
        t = load(results)
    (w,) = [str(c.message) for c in caught if issubclass(c.category, LoadWarning)]
    assert str(path) in w and reason in w
    assert t["runs"].run_id.tolist() == [good.name]  # the other run is still loaded, whole
    assert set(t["steps"].run_id) == {good.name} and len(t["steps"]) == 6
    assert t["load_warnings"].to_dict("records") == [{"path": str(path), "reason": w.split(
        ": ", 1)[1].split("; the run was skipped")[0]}]
    listed = all_warnings(t, *_no_stats())
    assert any(str(path) in m for m in listed[listed.kind == "run skipped"].message)


def _no_stats():
    import pandas as pd

    step_stats = pd.DataFrame(columns=["run_id", "phase", "cv", "n_steps"])
    table = pd.DataFrame(columns=["phase", "repeat_cv", "method", "batch_size",
                                  "hidden_layers", "n_runs"])
    return step_stats, table


def test_the_report_lists_skipped_runs(results):
    bad, _ = _dirs(results)
    _damage_json_list(bad)
    with pytest.warns(LoadWarning):
        t = load(results)
    (row,) = load_warnings(t["load_warnings"]).to_dict("records")
    assert row["kind"] == "run skipped" and str(bad / "run.json") in row["message"]


def test_a_part_copied_from_another_run_is_an_error_naming_both_parts(results):
    a, b = _dirs(results)
    copied = a / "steps" / "part-00009.parquet"
    shutil.copy(_part(b), copied)
    with pytest.raises(DuplicateKeyError, match="steps row") as e:
        load(results)
    assert str(_part(a)) in str(e.value) and str(copied) in str(e.value)


def test_two_directories_with_one_run_id_are_an_error_naming_both(results):
    a, _ = _dirs(results)
    twin = results / "elsewhere" / a.name
    shutil.copytree(a, twin)
    with pytest.raises(DuplicateKeyError, match=f"run id {a.name} is in two") as e:
        load(results)
    assert str(a / "run.json") in str(e.value) and str(twin / "run.json") in str(e.value)


def test_retired_attempts_in_hidden_directories_are_not_loaded(results):
    a, _ = _dirs(results)
    shutil.copytree(a, results / ".stale" / a.name)  # even a whole directory, run.json and all
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load(results)["runs"]) == 2


def test_a_missing_path_is_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope")):
        load(tmp_path / "nope")
