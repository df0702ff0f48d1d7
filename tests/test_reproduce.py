"""`profkit reproduce`: the protocol's plan, epochs fitted to the budget, resume, CLI errors."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

import profkit.errorprop
import profkit.train
from profkit.cli import main as cli
from profkit.store import read_study
from profkit.sweep.cost import n_params, run_seconds, split_sizes
from profkit.sweep.protocol import load_protocol, make_plan, select

TINY = Path(__file__).parent / "data" / "reproduce_tiny.toml"
PARTS = ["errorprop", "accuracy", "memory", "runtime"]


@pytest.fixture(scope="module")
def paper_plan(tmp_path_factory):
    protocol = load_protocol()
    parts, datasets = select(protocol, None, None)
    return make_plan(protocol, parts, datasets, tmp_path_factory.mktemp("r"))


def _part(plan, name):
    return next(p for p in plan.parts if p.part.name == name)


def test_the_protocol_has_the_four_parts_in_order_and_both_datasets(paper_plan):
    assert [p.part.name for p in paper_plan.parts] == PARTS
    acc = _part(paper_plan, "accuracy").configs
    default = [c for c in acc if not c.method_params.get("as_published")
               and c.hidden_layers == 3]
    assert Counter((c.dataset, c.batch_size) for c in default) == {
        (d, b): 5 for d in ("mnist", "fashion-mnist") for b in (1, 20)}
    assert {c.method for c in default} == {"standard", "dropout", "adaptive-dropout",
                                           "alsh-approx", "mc-approx"}
    # the published variants that can move a Table 2 accuracy, at batch 1 on both datasets
    published = [c for c in acc if c.method_params.get("as_published")]
    assert sorted((c.method, c.dataset, c.batch_size) for c in published) == sorted(
        (m, d, 1) for m in ("standard", "dropout", "adaptive-dropout")
        for d in ("mnist", "fashion-mnist"))
    # §9.1's accuracy by depth, on MNIST: MC-approx M at 1-7, 10, 20; ALSH-approx S at 1, 5, 7
    depth = {(c.method, c.batch_size, c.hidden_layers) for c in acc if c.hidden_layers != 3}
    assert {c.dataset for c in acc if c.hidden_layers != 3} == {"mnist"}
    assert depth == {(m, 20, h) for m in ("mc-approx", "standard")
                     for h in (1, 2, 4, 5, 6, 7, 10, 20)} | {
        (m, 1, h) for m in ("alsh-approx", "standard") for h in (1, 5, 7)}


def test_an_also_block_keeps_its_own_datasets_of_those_chosen(tmp_path):
    protocol = load_protocol()
    parts, datasets = select(protocol, ["accuracy"], ["fashion-mnist"])
    acc = _part(make_plan(protocol, parts, datasets, tmp_path), "accuracy").configs
    assert {c.dataset for c in acc} == {"fashion-mnist"}
    assert {c.hidden_layers for c in acc} == {3}  # the MNIST-only depth study is left out
    assert len(acc) == 10 + 3  # the main grid and the published variants


def test_accuracy_runs_are_the_paper_preset_with_the_memory_probe(paper_plan):
    pp = _part(paper_plan, "accuracy")
    assert pp.part.probes == ("memory",)
    for c in pp.configs:
        assert (c.width, c.optimizer, c.adam_eps) == (1000, "adam", 1e-4)
        assert c.lr == (1e-4 if (c.method, c.batch_size) == ("mc-approx", 1) else 1e-3)
        assert c.epochs == paper_plan.epochs and c.max_steps is None and c.threads == 1
        assert c.implementation == "paper" and not c.flush_denormal
    # §9.4 is on MNIST: the memory part is the accuracy part's MNIST runs, costing nothing more
    mem = _part(paper_plan, "memory")
    assert {c.run_id for c in mem.configs} == {c.run_id for c in pp.configs
                                               if c.dataset == "mnist"}
    assert mem.seconds == 0


def test_runtime_part_covers_tables_3_4_and_the_depth_and_batch_series(paper_plan):
    cfgs = _part(paper_plan, "runtime").configs
    assert all(c.max_steps is not None and c.dataset == "mnist" for c in cfgs)
    assert all(c.max_steps == (400 if c.batch_size == 1 else 150) for c in cfgs)
    base = {(c.method, c.batch_size, c.hidden_layers, c.implementation, c.lr) for c in cfgs}
    for impl in ("paper", "tuned"):
        for m in ("standard", "dropout", "adaptive-dropout", "alsh-approx", "mc-approx"):
            for b in (1, 20):
                lr = 1e-4 if (m, b) == ("mc-approx", 1) else 1e-3
                assert (m, b, 3, impl, lr) in base
        for h in range(1, 8):  # Figure 8
            assert {("standard", 1, h, impl, 1e-3), ("standard", 20, h, impl, 1e-3),
                    ("alsh-approx", 1, h, impl, 1e-3), ("mc-approx", 20, h, impl, 1e-3)} <= base
        assert {("mc-approx", 20, h, impl, 1e-3) for h in (10, 20)} <= base  # §9.1
        assert {("mc-approx", b, 3, impl, 1e-3) for b in (1, 2, 5, 10, 20, 50)} <= base  # Fig 11
    # every method's published variant beside the default, at the paper's settings
    pub = {(c.method, c.batch_size, c.hidden_layers, c.implementation) for c in cfgs
           if c.method_params.get("as_published")}
    assert pub == {(m, b, 3, "paper") for b in (1, 20) for m in
                   ("standard", "dropout", "adaptive-dropout", "alsh-approx", "mc-approx")}


def test_runtime_repeats_are_interleaved_rounds(paper_plan):
    cfgs = _part(paper_plan, "runtime").configs
    n = len(cfgs) // 3
    rounds = [cfgs[i * n:(i + 1) * n] for i in range(3)]
    assert [{c.repeat for c in r} for r in rounds] == [{0}, {1}, {2}]
    keys = [[c.replace(repeat=0).run_id for c in r] for r in rounds]
    assert set(keys[0]) == set(keys[1]) == set(keys[2]) and len(set(keys[0])) == n
    assert keys[0] != keys[1] != keys[2]  # each round in its own shuffle, not back to back


def _hand_costs() -> tuple[float, float]:
    """The tiny protocol on digits by hand: (seconds of everything but the accuracy epochs,
    seconds per accuracy epoch). 20 s per batch-20 step at 3 x 1000, scaled by parameters."""
    def step(h):
        return 20.0 * n_params(h, 8) / n_params(3, 1000)

    train = split_sizes("digits")[0]
    per_epoch = 2 * math.ceil(train / 20) * step(1)  # standard and mc-approx, 1 x 8
    errorprop = sum(2 * step(d) + d * 0.6 * (8 / 1000) ** 2 for d in (1, 2) for _ in (0, 1))
    runtime = 3 * sum(1 + 6 * step(h) for h in (1, 1, 1, 1, 2, 2))  # std/dropout x impl, h2
    return errorprop + runtime + 2 * 1.0, per_epoch


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_epochs_are_the_most_that_fit_the_budget(tmp_path, k):
    fixed, per_epoch = _hand_costs()
    budget_s = fixed + (k + 0.5) * per_epoch
    plan = make_plan(load_protocol(TINY), PARTS, ["digits"], tmp_path, budget_s / 3600)
    assert plan.epochs == min(max(k, 1), 3)  # the tiny protocol's min_epochs 1, max_epochs 3
    assert plan.hours * 3600 == pytest.approx(fixed + plan.epochs * per_epoch)
    assert ("over budget" in plan.epochs_note) == (k == 0)


def test_an_impossible_budget_runs_the_minimum_and_says_so(tmp_path):
    plan = make_plan(load_protocol(TINY), PARTS, ["digits"], tmp_path, 1e-6)
    assert plan.epochs == 1 and "over budget" in plan.epochs_note


def test_the_budget_keeps_the_share_of_parts_run_later(tmp_path):
    protocol = load_protocol(TINY)
    fixed, per_epoch = _hand_costs()
    budget = (fixed + 1.5 * per_epoch) / 3600  # 1 epoch with the runtime part, 3 without it
    now = make_plan(protocol, ["errorprop", "accuracy"], ["digits"], tmp_path, budget)
    everything = make_plan(protocol, PARTS, ["digits"], tmp_path, budget)
    runtime = sum(run_seconds(c, protocol.cost) for c in _part(everything, "runtime").configs)
    assert [p.part.name for p in now.parts] == ["errorprop", "accuracy"]
    assert now.reserved_s == pytest.approx(runtime)
    assert now.epochs == everything.epochs == 1


@pytest.fixture
def calls(monkeypatch):
    """Count the trainer's runs and the study's units (what a reproduction executes)."""
    seen: list[str] = []
    real_run, real_study = profkit.train.run, profkit.errorprop.run_study

    def run(cfg, **kw):
        seen.append(cfg.run_id)
        return real_run(cfg, **kw)

    def study(cfg, **kw):
        seen.append(f"errorprop-{cfg.method}-d{kw['depths'][0]}-s{kw['seeds'][0]}")
        return real_study(cfg, **kw)

    monkeypatch.setattr(profkit.train, "run", run)
    monkeypatch.setattr(profkit.errorprop, "run_study", study)
    return seen


BUDGET = "0.02"  # hours: the tiny protocol's 3 epochs fit (about 30 s + 3 x 3 s)


def _reproduce(results, *extra):
    return cli(["reproduce", "--protocol", str(TINY), "--results", str(results),
                "--datasets", "digits", "--budget", BUDGET, *extra])


def test_a_reproduction_completes_and_a_rerun_runs_nothing(tmp_path, calls):
    results = tmp_path / "r"
    assert _reproduce(results) == 0
    n_runs = 1 * 2 + 6 * 3  # accuracy: digits x 2 methods; runtime: 6 configs x 3 repeats
    assert len([c for c in calls if not c.startswith("errorprop")]) == n_runs
    assert len([c for c in calls if c.startswith("errorprop")]) == 4
    study = read_study("errorprop", results)
    units = set(zip(study.depth, study.seed, strict=True))
    assert sorted(units) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    metas = [json.loads(p.read_text()) for p in results.glob("*/run.json")]
    probes = {(m["config"]["max_steps"] is None, "memory" in m["instruments"]) for m in metas}
    assert probes == {(True, True), (False, False)}  # the memory probe on accuracy runs only
    rec = json.loads((results / "reproduce.json").read_text())
    assert set(rec["parts_done"]) == set(PARTS) and rec["epochs"] >= 1
    calls.clear()
    assert _reproduce(results) == 0 and calls == []


def test_an_interrupted_reproduction_resumes_with_only_the_rest(tmp_path, calls, monkeypatch):
    results = tmp_path / "r"
    real_epoch = profkit.train.Trainer._epoch

    def ctrl_c_in_fifth_run(self, epoch):
        if len(calls) == 4 + 5:  # 4 study units, then the fifth run (the runtime part's third)
            raise KeyboardInterrupt
        return real_epoch(self, epoch)

    monkeypatch.setattr(profkit.train.Trainer, "_epoch", ctrl_c_in_fifth_run)
    assert _reproduce(results) == 130
    first = [c for c in calls if not c.startswith("errorprop")]
    assert len(first) == 5
    assert json.loads((results / first[-1] / "run.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(profkit.train.Trainer, "_epoch", real_epoch)
    calls.clear()
    assert _reproduce(results) == 0
    assert not any(c.startswith("errorprop") for c in calls)  # the study was complete
    assert len(calls) == 20 - 4 and first[-1] in calls  # the interrupted run, then the rest
    assert not set(first[:4]) & set(calls)
    assert list((results / ".stale").glob(f"{first[-1]}*.json"))  # the attempt, kept aside


def test_an_interrupted_study_resumes_at_its_first_missing_unit(tmp_path, calls, monkeypatch):
    results = tmp_path / "r"
    real_study = profkit.errorprop.run_study

    def interrupting(cfg, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_study(cfg, **kw)

    monkeypatch.setattr(profkit.errorprop, "run_study", interrupting)
    assert _reproduce(results, "--parts", "errorprop") == 130
    assert len(read_study("errorprop", results).groupby(["depth", "seed"])) == 2
    monkeypatch.setattr(profkit.errorprop, "run_study", real_study)
    calls.clear()
    assert _reproduce(results, "--parts", "errorprop") == 0
    assert calls == ["errorprop-mc-approx-d2-s0", "errorprop-mc-approx-d2-s1"]
    assert len(read_study("errorprop", results).groupby(["depth", "seed"])) == 4


def test_a_rerun_keeps_the_epochs_of_the_first_start(tmp_path, calls):
    results = tmp_path / "r"
    assert _reproduce(results, "--parts", "accuracy") == 0
    rec = json.loads((results / "reproduce.json").read_text())
    assert rec["epochs"] == 3
    slow = tmp_path / "slow.toml"  # a cost model under which 1 epoch would be fitted now
    slow.write_text(TINY.read_text().replace("[10000.0, 20000.0]", "[900000.0, 900000.0]"))
    fresh = make_plan(load_protocol(slow), ["accuracy"], ["digits"], tmp_path / "x",
                      float(BUDGET))
    assert fresh.epochs == 1
    calls.clear()
    assert cli(["reproduce", "--protocol", str(slow), "--results", str(results),
                "--datasets", "digits", "--budget", BUDGET, "--parts", "accuracy"]) == 0
    assert calls == [] and json.loads((results / "reproduce.json").read_text())["epochs"] == 3


def test_dry_run_prints_parts_hours_and_epochs(tmp_path, capsys):
    assert _reproduce(tmp_path / "r", "--dry-run") == 0
    out = capsys.readouterr().out
    for name in PARTS:
        assert f"\n{name}" in f"\n{out}"
    assert "accuracy epochs:" in out and "h budget" in out
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flag,value,valid", [
    ("--parts", "accuracy,nope", "valid parts: errorprop, accuracy, memory, runtime"),
    ("--datasets", "cifar10", "valid datasets: digits, mnist-5k")])
def test_unknown_part_or_dataset_lists_the_valid_ones(tmp_path, capsys, flag, value, valid):
    assert cli(["reproduce", "--protocol", str(TINY), "--results", str(tmp_path),
                flag, value, "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("profkit reproduce: error: unknown") and err.endswith(valid)
    assert len(err.splitlines()) == 1


def test_a_dataset_not_here_says_how_to_fetch_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROFKIT_DATA", str(tmp_path / "empty"))
    proto = tmp_path / "p.toml"
    proto.write_text(TINY.read_text().replace('"mnist-5k"', '"kmnist"'))
    assert cli(["reproduce", "--protocol", str(proto), "--results", str(tmp_path / "r"),
                "--datasets", "kmnist", "--parts", "accuracy"]) == 2
    err = capsys.readouterr().err
    assert "kmnist is not available here" in err and "profkit datasets fetch kmnist" in err
