"""`profkit demo`: runs the registered methods briefly, writes the report, resumes."""

from __future__ import annotations

import json

import pytest

from profkit.cli import main as cli


def _args(tmp_path, methods="standard,mc-approx"):
    return ["demo", "--results", str(tmp_path / "res"), "-o", str(tmp_path / "demo.html"),
            "--steps", "12", "--width", "16", "--depths", "1", "--batch-sizes", "20",
            "--methods", methods]


@pytest.mark.slow  # two methods trained, the report written twice: ~20 s CPU, more when loaded
def test_demo_runs_methods_and_writes_report_then_reuses(tmp_path, capsys):
    assert cli(_args(tmp_path)) == 0
    runs = sorted((tmp_path / "res").rglob("run.json"))
    assert len(runs) == 2
    metas = [json.loads(p.read_text()) for p in runs]
    assert {m["config"]["method"] for m in metas} == {"standard", "mc-approx"}
    assert all(m["status"] == "complete" and m["steps_done"] == 12 for m in metas)
    assert "id=\"decision\"" in (tmp_path / "demo.html").read_text()
    capsys.readouterr()
    assert cli(_args(tmp_path)) == 0
    assert capsys.readouterr().out.count("reusing complete run") == 2


@pytest.mark.parametrize("flag,value,msg", [("--methods", "nope", "unknown method"),
                                            ("--steps", "0", "--steps must be >= 1")])
def test_demo_bad_input_is_a_clear_error(tmp_path, capsys, flag, value, msg):
    args = _args(tmp_path)
    args[args.index(flag) + 1] = value
    assert cli(args) == 2
    assert msg in capsys.readouterr().err
