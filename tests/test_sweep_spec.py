"""Sweep files: parsing, errors, overrides, grid expansion, the paper grid, interleaving."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from profkit.cli import main as cli_main
from profkit.data.registry import DATASETS
from profkit.methods import METHODS
from profkit.methods.base import Standard
from profkit.sweep import SweepFileError, load_spec, parse, parse_sets, plan
from profkit.sweep.plan import interleave

REPO = Path(__file__).resolve().parent.parent
PAPER_DATASETS = ["mnist", "kmnist", "fashion-mnist", "emnist-letters", "norb", "cifar10"]
PAPER_METHODS = ["standard", "dropout", "adaptive-dropout", "alsh-approx", "mc-approx"]


@dataclass(frozen=True)
class _PParams:
    p: float = 0.5
    impl: str = "mask"


class _WithP(Standard):
    Params = _PParams


@pytest.fixture
def paper_registries(monkeypatch):
    """Stand-ins for the datasets and methods other issues add: the grid only needs the names."""
    for name in PAPER_DATASETS:
        monkeypatch.setitem(DATASETS, name, DATASETS["mnist-5k"])
    for name in PAPER_METHODS[1:]:
        monkeypatch.setitem(METHODS, name, Standard)


@pytest.fixture
def with_p(monkeypatch):
    monkeypatch.setitem(METHODS, "with-p", _WithP)


def small_doc(**extra):
    doc = {"fixed": {"dataset": "mnist-5k", "width": 32, "max_steps": 5},
           "axes": {"hidden_layers": [1, 2, 3], "batch_size": [10, 20]}}
    doc.update(extra)
    return doc


def test_grid_is_the_product_of_axes_with_fixed_settings(tmp_path):
    cfgs = plan(parse(small_doc()), tmp_path)
    assert len(cfgs) == 6
    assert Counter((c.hidden_layers, c.batch_size) for c in cfgs) == Counter(
        itertools.product([1, 2, 3], [10, 20]))
    assert {(c.width, c.max_steps, c.dataset) for c in cfgs} == {(32, 5, "mnist-5k")}
    assert {c.results for c in cfgs} == {str(tmp_path)}
    assert len({c.run_id for c in cfgs}) == 6


def test_paper_grid_counts_and_paper_rules(paper_registries, tmp_path):
    spec = load_spec(REPO / "sweeps" / "paper.toml")
    cfgs = plan(spec, tmp_path)
    # 6 datasets x 5 methods x 7 depths x 2 batch sizes, plus MC-approx at depths 10 and 20
    assert len(cfgs) == 6 * 5 * 7 * 2 + 6 * 2 * 2
    per_method = Counter(c.method for c in cfgs)
    assert per_method["mc-approx"] == 6 * 9 * 2 and per_method["standard"] == 6 * 7 * 2
    assert {c.hidden_layers for c in cfgs if c.method == "mc-approx"} == {*range(1, 8), 10, 20}
    assert {c.hidden_layers for c in cfgs if c.method != "mc-approx"} == set(range(1, 8))
    assert {(c.epochs, c.width, c.adam_eps) for c in cfgs} == {(50, 1000, 1e-4)}
    lr = {(c.method, c.batch_size): c.lr for c in cfgs}
    assert lr[("mc-approx", 1)] == 1e-4 and lr[("mc-approx", 20)] == 1e-3
    assert lr[("standard", 1)] == 1e-3
    assert {c.optimizer for c in cfgs if c.dataset == "cifar10"} == {"sgd"}
    assert {c.optimizer for c in cfgs if c.dataset != "cifar10"} == {"adam"}


def test_quick_version_of_the_paper_grid_from_overrides(paper_registries, tmp_path):
    spec = load_spec(REPO / "sweeps" / "paper.toml").with_overrides(
        parse_sets(["epochs=1", "max_steps=200", 'dataset=["mnist-5k"]', "hidden_layers=2"]))
    cfgs = plan(spec, tmp_path)
    assert {(c.epochs, c.max_steps, c.dataset, c.hidden_layers) for c in cfgs} == {
        (1, 200, "mnist-5k", 2)}
    assert len(cfgs) == 5 * 2  # methods x batch sizes; the [[also]] depths collapse too


def test_list_override_adds_an_axis_and_scalar_beats_when_rules(tmp_path):
    doc = small_doc(when=[{"match": {"batch_size": 20}, "set": {"lr": 0.01}}])
    spec = parse(doc).with_overrides({"seed": [0, 1]})
    cfgs = plan(spec, tmp_path)
    assert len(cfgs) == 12 and {c.seed for c in cfgs} == {0, 1}
    assert {c.lr for c in cfgs if c.batch_size == 20} == {0.01}
    assert {c.lr for c in cfgs if c.batch_size == 10} == {1e-3}
    assert {c.lr for c in plan(parse(doc).with_overrides({"lr": 0.5}), tmp_path)} == {0.5}


def test_param_axis_varies_only_methods_that_have_it(with_p, tmp_path):
    doc = {"fixed": {"width": 32}, "axes": {"method": ["standard", "with-p"],
                                            "param.p": [0.1, 0.2, 0.3]},
           "params": {"with-p": {"impl": "gather"}}}
    cfgs = plan(parse(doc), tmp_path)
    assert sorted(c.method for c in cfgs) == ["standard", "with-p", "with-p", "with-p"]
    assert sorted(c.method_params["p"] for c in cfgs if c.method == "with-p") == [0.1, 0.2, 0.3]
    assert {c.method_params["impl"] for c in cfgs if c.method == "with-p"} == {"gather"}


def test_also_blocks_add_points_and_duplicates_collapse(tmp_path):
    doc = small_doc(also=[{"hidden_layers": [3, 10]}])
    cfgs = plan(parse(doc), tmp_path)
    # (3, *) from [[also]] duplicates the main grid's; (10, *) are new
    assert Counter(c.hidden_layers for c in cfgs) == {1: 2, 2: 2, 3: 2, 10: 2}


@pytest.mark.parametrize("doc,needle", [
    ({"axes": {"depth": [1]}}, "unknown setting 'depth'"),
    ({"axes": {"hidden_layers": 3}}, "must be a non-empty list"),
    ({"axes": {"hidden_layers": []}}, "must be a non-empty list"),
    ({"fixed": {"width": 8}}, "no [axes] table"),
    ({"axes": {"method": ["standard"]}, "grid": {}}, "unknown table(s) ['grid']"),
    ({"axes": {"method": ["standard"]}, "sweep": {"preset": "fast"}}, "preset must be one of"),
    ({"axes": {"method": ["standard"]}, "sweep": {"repeats": 0}}, "repeats must be >= 1, got 0"),
    ({"axes": {"method": ["standard"]}, "fixed": {"results": "x"}}, "unknown setting 'results'"),
    ({"axes": {"hidden_layers": [0]}}, "hidden_layers must be in [1, 50]"),
    ({"axes": {"method": ["nope"]}}, "unknown method 'nope'; valid methods: standard"),
    ({"axes": {"method": ["standard"], "param.q": [1]}}, "has parameter(s) ['q']"),
    ({"axes": {"method": ["standard"]}, "when": [{"match": {}}]}, "exactly two keys"),
])
def test_bad_sweep_files_get_clear_errors(doc, needle, tmp_path):
    with pytest.raises(SweepFileError) as e:
        plan(parse(doc), tmp_path)
    assert needle in str(e.value)


def test_bad_overrides_and_files(tmp_path):
    with pytest.raises(SweepFileError, match="KEY=VALUE"):
        parse_sets(["epochs"])
    with pytest.raises(SweepFileError, match="unknown setting 'epoch'"):
        parse(small_doc()).with_overrides({"epoch": 1})
    with pytest.raises(FileNotFoundError, match="sweeps/paper.toml"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[axes\nmethod = 1")
    with pytest.raises(SweepFileError, match="not valid TOML"):
        load_spec(bad)


def test_interleaving_rounds_cover_every_config_then_the_next_repeat(tmp_path):
    spec = parse(small_doc(sweep={"repeats": 3, "shuffle_seed": 7}))
    order = plan(spec, tmp_path)
    base = {c.replace(repeat=0).run_id for c in order}
    assert len(order) == 18 and len(base) == 6
    for r in range(3):
        rnd = order[6 * r:6 * (r + 1)]
        assert {c.repeat for c in rnd} == {r}
        assert {c.replace(repeat=0).run_id for c in rnd} == base
    assert len({c.run_id for c in order}) == 18  # the repeat index is part of the run id
    assert [c.run_id for c in plan(spec, tmp_path)] == [c.run_id for c in order]  # fixed seed


def test_shuffle_is_not_the_grid_order():
    """Over many seeds, the position of a config within a round is near uniform (a seeded
    shuffle), not the grid order: each of 6 configs leads a round about 1/6 of the time."""
    cfgs = plan(parse(small_doc()), "unused")
    first = Counter(interleave(cfgs, 1, seed)[0].run_id for seed in range(600))
    assert len(first) == 6
    # binomial(600, 1/6): mean 100, sd 9.1; 5 sd either side
    assert all(55 <= n <= 145 for n in first.values())


def test_dry_run_lists_runs_in_order(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('[fixed]\nwidth = 32\n[axes]\nhidden_layers = [1, 2]\n[sweep]\nrepeats = 2\n')
    assert cli_main(["sweep", str(f), "--results", str(tmp_path / "r"), "--dry-run"]) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 4 and all(ln.startswith("new") for ln in lines)
    assert [ln.split()[1][-2:] for ln in lines] == ["r0", "r0", "r1", "r1"]
    assert "4 runs: 0 finished, 4 to run" in out.err
    assert not (tmp_path / "r").exists()
