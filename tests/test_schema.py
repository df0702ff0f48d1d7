"""Schema history: every run.json's schema_version is checked by load() against the history."""

import pytest

from profkit import schema
from profkit.store import RunDir, load


def _run(tmp_path, version):
    rd = RunDir(tmp_path / "r1")
    meta = {"run_id": "r1", "status": "complete", "config": {"method": "standard"}}
    if version is not None:
        meta["schema_version"] = version
    rd.write_meta(meta)
    return tmp_path


def test_current_version_loads(tmp_path):
    frames = load(_run(tmp_path, schema.SCHEMA_VERSION))
    assert list(frames["runs"].run_id) == ["r1"]


def test_history_names_the_current_version():
    assert schema.SCHEMA_VERSION in schema.SCHEMA_HISTORY
    assert all(isinstance(v, int) and v >= 1 for v in schema.SCHEMA_HISTORY)


def test_newer_version_asks_for_an_upgrade(tmp_path):
    with pytest.raises(schema.SchemaVersionError, match="newer profkit.*upgrade profkit"):
        load(_run(tmp_path, schema.SCHEMA_VERSION + 1))


def test_missing_version_is_read_as_version_1(tmp_path):
    # Version-1 sweep failure records were written without the key (see the history).
    assert load(_run(tmp_path, None))["runs"].status.tolist() == ["complete"]


@pytest.mark.parametrize("version", ["1", 0, 1.5, True])
def test_unknown_version_names_the_known_ones(tmp_path, version):
    with pytest.raises(schema.SchemaVersionError, match=r"r1/run.json.*known versions: \[1"):
        load(_run(tmp_path, version))
