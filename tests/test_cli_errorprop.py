"""`profkit errorprop` (§7's study as a command) and the demo's small study."""

from __future__ import annotations

import argparse

import pytest

import profkit
from profkit.cli import main as cli
from profkit.commands import demo
from profkit.data import load_dataset
from profkit.store import read_study


def _argv(results, *extra):
    return ["errorprop", "--results", str(results), "--methods", "alsh-approx", "--depths",
            "1,2", "--seeds", "0,1", "--width", "16", "--steps", "3", "--samples", "8", *extra]


def test_errorprop_writes_the_study_the_report_reads(tmp_path, capsys):
    assert cli(_argv(tmp_path)) == 0
    out = capsys.readouterr().out
    study = read_study("errorprop", tmp_path)
    # one network per depth and seed, each with its own rows, at the options given
    assert set(zip(study["depth"], study["seed"], strict=True)) == {(1, 0), (1, 1), (2, 0), (2, 1)}
    assert set(study["trained_with"]) == {"alsh-approx"}
    assert set(study["method"]) == {"alsh-approx", "topk-terms", "topk-units"}
    assert set(study["width"]) == {16} and set(study["steps"]) == {3}
    assert set(study["batch_size"]) == {8}
    assert "k=1" in out and "k=2" in out  # the by-layer summary
    assert "holds no runs yet" in out  # the report needs runs beside the study
    # with a run in the directory, the loaded frames carry the study for the report
    profkit.run(profkit.RunConfig(width=16, hidden_layers=1, max_steps=3, warmup_steps=1,
                                  results=str(tmp_path)), progress=False)
    assert cli(_argv(tmp_path, "--seeds", "3")) == 0  # a new study replaces the old one
    assert "`profkit report" in capsys.readouterr().out
    from profkit.analyses import Analysis

    comp = Analysis(tmp_path).error_propagation()
    assert set(read_study("errorprop", tmp_path)["seed"]) == {3}
    assert set(comp["depth"]) == {1, 2} and comp["error_to_estimate"].notna().any()


@pytest.mark.parametrize("flag,value,msg", [
    ("--samples", "0", "--samples must be >= 1, got 0"),
    ("--steps", "-1", "--steps must be >= 0, got -1"),
    ("--fraction", "0", "--fraction must be in (0, 1], got 0.0"),
    ("--depths", "0", "--depths must be >= 1, got 0"),
    ("--depths", "60", "hidden_layers must be in [1, 50], got 60"),
    ("--methods", "nope", "unknown method 'nope'; valid methods: standard"),
    ("--width", "0", "width must be in"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, flag, value, msg):
    argv = _argv(tmp_path, flag, value)  # the last of a repeated flag wins
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "errorprop.parquet").exists()


def test_demo_includes_a_small_study_and_reuses_it(tmp_path, capsys):
    args = argparse.Namespace(methods="standard,mc-approx", depths=(1, 2), width=16,
                              dataset="mnist-5k", threads=1, results=str(tmp_path))
    ds = load_dataset("mnist-5k")
    demo.errorprop_study(args, ds)
    study = read_study("errorprop", tmp_path)
    # only the demo's approximate methods are studied; one seed per depth
    assert set(study["trained_with"]) == {"mc-approx"}
    assert set(zip(study["depth"], study["seed"], strict=True)) == {(1, 0), (2, 0)}
    assert set(study["steps"]) == {demo.ERRORPROP_STEPS}
    capsys.readouterr()
    demo.errorprop_study(args, ds)
    assert "reusing the error-propagation study" in capsys.readouterr().out
    demo.errorprop_study(argparse.Namespace(**{**vars(args), "width": 8}), ds)  # changed: redo
    assert set(read_study("errorprop", tmp_path)["width"]) == {8}
    demo.errorprop_study(argparse.Namespace(**{**vars(args), "methods": "standard"}), ds)
    assert set(read_study("errorprop", tmp_path)["width"]) == {8}  # nothing to study: untouched
