"""The paper's claims: the registry's expansion and each verdict produced by the rule that
docs/reproduction.md ("Claims and verdict rules") documents, on small synthetic frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from claims_frames import computed, final, growth, growth_table, phase_table, timing
from profkit.analyses import claim_rules
from profkit.analyses.claim_verdicts import judge_claims
from profkit.analyses.claims import load_registry

PUB = "as published"


def verdict_of(c, claim_id: str) -> dict:
    v = judge_claims(c, ids=[claim_id])
    assert list(v["id"]) == [claim_id]
    return v.iloc[0].to_dict()


# --- the registry ---------------------------------------------------------------------------

def test_registry_has_one_claim_per_published_row_and_leaf():
    reg = load_registry()
    by = {}
    for cl in reg.claims:
        by.setdefault(cl.section, []).append(cl)
    t2 = by["Table 2"]
    # 6 methods x the 2 runnable datasets, one row each for the 4 unavailable datasets
    assert len([c for c in t2 if "unavailable" not in c.spec]) == 12
    assert sorted(c.spec["dataset"] for c in t2 if "unavailable" in c.spec) == [
        "CIFAR-10", "EMNIST-Letters", "Kuzushiji-MNIST", "NORB"]
    assert len(by["Table 3"]) == 4 * 3 and len(by["Table 4"]) == 3 * 3  # Standard is the 1
    from profkit.analyses.decision import LEAVES  # one claim per leaf of the tree
    assert sorted(tuple(c.spec["leaf"]) for c in by["§10.4"] if c.rule == "leaf") == sorted(
        LEAVES)
    assert {c.rule for c in reg.claims} <= {"accuracy", "ratio", "memory", "depth_drop",
                                            "depth_floor", "depth_ratio", "memory_order", "leaf"}
    assert len({c.id for c in reg.claims}) == len(reg.claims)


def test_paper_ratio_is_the_published_method_over_published_standard():
    reg = load_registry()
    cl = next(c for c in reg.claims if c.id == "T3-mnist-alsh-approx-S-total")
    assert cl.spec["paper_ratio"] == pytest.approx(807.50 / 361.51)
    cl = next(c for c in reg.claims if c.id == "T4-mnist-mc-approx-M-backward")
    assert cl.spec["paper_ratio"] == pytest.approx(11.323 / 23.143)


def test_nothing_measured_is_missing_and_unavailable_datasets_say_so():
    v = judge_claims(computed())
    assert set(v["verdict"]) == {"missing"}
    kmnist = v[v["id"] == "T2-kuzushiji-mnist"].iloc[0]
    assert "not runnable here: dataset unavailable" in kmnist["cause"]
    assert "no like-for-like runs" in v[v["id"] == "T2-mnist-standard-S"].iloc[0]["cause"]


# --- accuracy -------------------------------------------------------------------------------

@pytest.mark.parametrize("test, epochs, verdict", [
    (0.9447, 50, "reproduced"),      # 96.46 - 1.99 points: inside the 2-point tolerance
    (0.9445, 50, "not reproduced"),  # 96.46 - 2.01 points after the paper's 50 epochs
    (0.9445, 49, "inconclusive"),    # the same, one epoch short: it could still get there
    (0.9447, 1, "reproduced"),       # reached within tolerance early
    (0.9845, 50, "reproduced"),      # 96.46 + 1.99
    (0.9848, 50, "not reproduced"),  # 96.46 + 2.02
    (0.9848, 1, "not reproduced"),   # above the paper's after fewer epochs: still a difference
])
def test_one_run_accuracy_within_tolerance_boundary(test, epochs, verdict):
    c = computed(final(dict(method="standard", test=test, epochs_run=epochs)))
    v = verdict_of(c, "T2-mnist-standard-S")
    assert v["verdict"] == verdict and v["epochs"] == f"{epochs} of 50"
    assert ("of its 50 epochs" in v["cause"]) == (verdict == "inconclusive")


def test_a_run_at_chance_level_says_so_beside_its_verdict():
    v = verdict_of(computed(final(dict(method="dropout", test=0.1135))), "T2-mnist-dropout-S")
    assert v["verdict"] == "inconclusive" and "at chance level" in v["cause"]
    v = verdict_of(computed(final(dict(method="dropout", test=0.16))), "T2-mnist-dropout-S")
    assert "chance" not in v["cause"]  # above 1.5 x 10%


def test_inconclusive_default_is_explained_by_a_variant_that_reaches_the_paper():
    # Dropout S on MNIST, paper 90.21%: the default far below after 1 epoch, the variant close
    rows = final(dict(method="dropout", test=0.11),
                 dict(method="dropout", test=0.895, variant=PUB))
    v = verdict_of(computed(rows), "T2-mnist-dropout-S")
    assert v["verdict"] == "explained" and "untrained" in v["cause"]
    rows = final(dict(method="dropout", test=0.11), dict(method="dropout", test=0.5, variant=PUB))
    v = verdict_of(computed(rows), "T2-mnist-dropout-S")
    assert v["verdict"] == "inconclusive" and "also inconclusive" in v["cause"]
    assert "either" not in v["cause"]  # the default was not judged "not reproduced"
    # the variant far above the paper's value: not reproduced, said without an "either"
    rows = final(dict(method="dropout", test=0.11), dict(method="dropout", test=0.99, variant=PUB))
    v = verdict_of(computed(rows), "T2-mnist-dropout-S")
    assert v["verdict"] == "inconclusive" and "does not reproduce it: 99" in v["cause"]
    # the default above the paper's value (not reproduced), the variant below it after 1 epoch
    rows = final(dict(method="dropout", test=0.99), dict(method="dropout", test=0.5, variant=PUB))
    v = verdict_of(computed(rows), "T2-mnist-dropout-S")
    assert v["verdict"] == "not reproduced" and v["cause"].endswith(": inconclusive")


def test_accuracy_interval_over_repeats_widens_what_is_reproduced():
    # mean 90%, sd 3 points over 3 runs: t(0.975, 2) 3 / sqrt(3) = 7.45 points half-width
    wide = [dict(method="standard", test=t) for t in (0.87, 0.90, 0.93)]
    v = verdict_of(computed(final(*wide)), "T2-mnist-standard-S")
    assert v["verdict"] == "reproduced"
    assert v["hi"] == pytest.approx(90 + 4.302653 * 3 / math.sqrt(3), abs=1e-3)
    tight = [dict(method="standard", test=t, epochs_run=50) for t in (0.899, 0.90, 0.901)]
    assert verdict_of(computed(final(*tight)), "T2-mnist-standard-S")["verdict"] == (
        "not reproduced")


def test_step_capped_or_unlike_runs_are_missing_not_failed():
    capped = final(dict(method="standard", test=0.96, max_steps=100))
    assert "step-capped" in verdict_of(computed(capped), "T2-mnist-standard-S")["cause"]
    narrow = final(dict(method="standard", test=0.96, width=256),
                   dict(method="standard", test=0.96, dataset="mnist-5k"))
    v = verdict_of(computed(narrow), "T2-mnist-standard-S")
    assert v["verdict"] == "missing" and "width 1000" in v["cause"]


def test_published_variant_that_reproduces_explains():
    rows = final(dict(method="standard", dataset="fashion-mnist", test=0.85),
                 dict(method="standard", dataset="fashion-mnist", test=0.7364, variant=PUB))
    v = verdict_of(computed(rows), "T2-fashion-mnist-standard-S")
    assert v["verdict"] == "explained"
    assert v["variant"] == "--param as_published=true" and "sigmoid" in v["cause"]
    assert v["value"] == pytest.approx(85.0)  # the measured value is the default's


def test_published_variant_that_does_not_reproduce_leaves_not_reproduced():
    rows = final(dict(method="standard", dataset="fashion-mnist", test=0.85),
                 dict(method="standard", dataset="fashion-mnist", test=0.84, variant=PUB))
    v = verdict_of(computed(rows), "T2-fashion-mnist-standard-S")
    assert v["verdict"] == "not reproduced" and "does not reproduce it either" in v["cause"]
    alone = final(dict(method="standard", dataset="fashion-mnist", test=0.85))
    v = verdict_of(computed(alone), "T2-fashion-mnist-standard-S")
    assert v["verdict"] == "not reproduced" and "variant not run" in v["cause"]


# --- runtime ratios -------------------------------------------------------------------------

STD = (1.0, 1.01, 0.99)
ALSH = "T3-mnist-alsh-approx-S-total"  # paper ratio 807.50 / 361.51 = 2.23


@pytest.mark.parametrize("alsh, verdict", [
    ((2.2, 2.25, 2.3), "reproduced"),        # the paper's 2.23 inside the interval
    ((5.0, 5.1, 4.9), "reproduced"),         # same side of 1, interval excludes 1
    ((0.98, 1.02, 1.0), "not reproduced"),   # holds 1, not 2.23: no difference measured
    ((0.5, 0.51, 0.49), "not reproduced"),   # significantly the other side of 1
])
def test_ratio_rule(alsh, verdict):
    c = computed(phases=phase_table(timing("standard", STD), timing("alsh-approx", alsh)))
    v = verdict_of(c, ALSH)
    assert v["verdict"] == verdict
    assert v["lo"] < v["value"] < v["hi"]


@pytest.mark.parametrize("lo, hi, paper, agrees", [
    (2.0, 2.5, 2.0, True),     # the paper's ratio on the interval's edge
    (2.5, 3.0, 2.23, True),    # above 1 both, significant
    (0.9, 1.5, 2.23, False),   # not significant, paper outside
    (0.2, 0.5, 0.54, True),    # below 1 both
    (0.2, 0.5, 1.2, False),    # opposite sides
    (math.nan, math.nan, 2.0, False),
])
def test_ratio_decision_boundary(lo, hi, paper, agrees):
    assert claim_rules.ratio_agrees(paper, {"ratio_lo": lo, "ratio_hi": hi}) is agrees


def test_too_few_repeats_or_no_standard_is_missing():
    c = computed(phases=phase_table(timing("standard", STD[:2]), timing("alsh-approx",
                                                                        (2.2, 2.3, 2.25))))
    v = verdict_of(c, ALSH)
    assert v["verdict"] == "missing" and "too few repeats: 3 of ALSH-approx, 2 of Standard" in (
        v["cause"])
    c = computed(phases=phase_table(timing("alsh-approx", (2.2, 2.3, 2.25))))
    assert verdict_of(c, ALSH)["verdict"] == "missing"


def test_phase_ratios_use_the_same_phase():
    # forward: paper 168.02 / 28.976 = 5.80; total would say 2.23
    c = computed(phases=phase_table(timing("standard", STD, phase="forward"),
                                    timing("alsh-approx", (5.7, 5.8, 5.9), phase="forward")))
    assert verdict_of(c, "T3-mnist-alsh-approx-S-forward")["verdict"] == "reproduced"
    assert verdict_of(c, ALSH)["verdict"] == "missing"


@pytest.mark.parametrize("default, variant, verdict, said", [
    # the variant against the published Standard: 4.5 / 2.0
    ((0.5, 0.51, 0.49), (4.4, 4.5, 4.6), "explained", ["masked dense matmul", "2.25x"]),
    # the default ALSH is 1.0x (its interval holds 1, not the paper's 2.23x: not reproduced);
    # the variant's wide interval holds both the paper's 2.23 and the default's 1.0: it
    # reproduces by the rule but shows no difference, so it explains nothing
    ((0.9, 1.0, 1.1), (1.0, 4.4, 9.0), "not reproduced", ["also holds the default's value"]),
])
def test_a_published_variant_explains_only_when_it_moves_the_ratio(default, variant, verdict,
                                                                   said):
    c = computed(phases=phase_table(
        timing("standard", STD), timing("alsh-approx", default),
        timing("standard", (2.0, 2.02, 1.98), variant=PUB),
        timing("alsh-approx", variant, variant=PUB)))
    v = verdict_of(c, ALSH)
    assert v["verdict"] == verdict and all(s in v["cause"] for s in said)


# --- memory ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mb, verdict", [
    (100.0, "reproduced"),  # paper 3731.9 MB over 50 epochs -> 74.6 MB at 1 epoch
    (149.0, "reproduced"),  # < 2 x 74.64
    (150.0, "not reproduced"),
    (37.5, "reproduced"),  # > 74.64 / 2
    (37.0, "not reproduced"),
    (-5.0, "not reproduced"),
])
def test_memory_growth_scaled_to_epochs_within_factor(mb, verdict):
    c = computed(growths=growth_table(growth("alsh-approx", mb)))
    assert verdict_of(c, "9.4-mnist-alsh-approx-S")["verdict"] == verdict


def test_memory_order():
    def g(mc):
        return growth_table(growth("alsh-approx", 100.0), growth("mc-approx", mc, batch_size=20),
                            growth("dropout", 2.0), growth("adaptive-dropout", 3.0))

    assert verdict_of(computed(growths=g(10.0)), "9.4-memory-order")["verdict"] == "reproduced"
    assert verdict_of(computed(growths=g(2.5)), "9.4-memory-order")["verdict"] == (
        "not reproduced")
    part = growth_table(growth("alsh-approx", 100.0))
    assert verdict_of(computed(growths=part), "9.4-memory-order")["verdict"] == "missing"


# --- §9.1 depth -----------------------------------------------------------------------------

def test_alsh_depth_drop():
    def f(deep):
        return final(dict(method="alsh-approx", hidden_layers=1, test=0.94),
                     dict(method="alsh-approx", hidden_layers=7, test=deep))

    assert verdict_of(computed(f(0.25)), "9.1-alsh-depth")["verdict"] == "reproduced"
    assert verdict_of(computed(f(0.925)), "9.1-alsh-depth")["verdict"] == "not reproduced"
    one = final(dict(method="alsh-approx", hidden_layers=1, test=0.94))
    assert verdict_of(computed(one), "9.1-alsh-depth")["verdict"] == "missing"


def test_mc_depth_floor():
    def f(*accs, epochs=50):
        return final(*(dict(method="mc-approx", batch_size=20, hidden_layers=d, test=a,
                            epochs_run=epochs)
                       for d, a in zip((1, 3, 5, 7), accs, strict=False)))

    assert verdict_of(computed(f(0.95, 0.97, 0.96, 0.91)), "9.1-mc-depth")["verdict"] == (
        "reproduced")  # 91 >= 92.71 - 2
    assert verdict_of(computed(f(0.95, 0.97, 0.96, 0.90)), "9.1-mc-depth")["verdict"] == (
        "not reproduced")
    short = verdict_of(computed(f(0.95, 0.97, 0.96, 0.90, epochs=1)), "9.1-mc-depth")
    assert short["verdict"] == "inconclusive" and short["epochs"] == "1 of 50"
    assert verdict_of(computed(f(0.95, 0.97, 0.96, 0.91, epochs=1)), "9.1-mc-depth")[
        "verdict"] == "reproduced"
    assert verdict_of(computed(f(0.95, 0.97)), "9.1-mc-depth")["verdict"] == "missing"


def test_mc_depth_time_ratio():
    def t(shallow, deep):
        return phase_table(*(timing(m, s, batch_size=20, hidden_layers=d) for m, s, d in (
            ("standard", STD, 2), ("mc-approx", shallow, 2),
            ("standard", STD, 6), ("mc-approx", deep, 6))))

    fast, slow = (0.8, 0.81, 0.79), (1.3, 1.31, 1.29)
    assert verdict_of(computed(phases=t(fast, slow)), "9.1-mc-depth-time")["verdict"] == (
        "reproduced")
    assert verdict_of(computed(phases=t(fast, fast)), "9.1-mc-depth-time")["verdict"] == (
        "not reproduced")
    shallow_only = phase_table(timing("standard", STD, batch_size=20, hidden_layers=2),
                               timing("mc-approx", fast, batch_size=20, hidden_layers=2))
    assert verdict_of(computed(phases=shallow_only), "9.1-mc-depth-time")["verdict"] == (
        "missing")


# --- §10.4 leaves ---------------------------------------------------------------------------

def _leaf_case(batch, fast_method, slow_method, accs=(0.97, 0.97)):
    f = final(dict(method=fast_method, batch_size=batch, test=accs[0]),
              dict(method=slow_method, batch_size=batch, test=accs[1]))
    t = phase_table(timing(fast_method, (1.0, 1.0, 1.0), batch_size=batch),
                    timing(slow_method, (2.0, 2.0, 2.0), batch_size=batch))
    return computed(f, t)


def test_leaves():
    mb = "10.4-minibatch-shallow"
    assert verdict_of(_leaf_case(20, "mc-approx", "standard"), mb)["verdict"] == "reproduced"
    assert verdict_of(_leaf_case(20, "standard", "mc-approx"), mb)["verdict"] == (
        "not reproduced")
    # the fast one is 5 points less accurate: outside the 2-point tolerance, so MC-approx wins
    assert verdict_of(_leaf_case(20, "standard", "mc-approx", (0.92, 0.97)), mb)["verdict"] == (
        "reproduced")
    sgd = "10.4-sgd-shallow"  # open problem: reproduced when no sampling method beats Standard
    assert verdict_of(_leaf_case(1, "standard", "alsh-approx"), sgd)["verdict"] == "reproduced"
    assert verdict_of(_leaf_case(1, "alsh-approx", "standard"), sgd)["verdict"] == (
        "not reproduced")
    assert verdict_of(_leaf_case(1, "alsh-approx", "dropout"), sgd)["verdict"] == "missing"


def _scaling(*rows):
    """analyses.parallel.scaling rows: (method, workers, test %, samples/s)."""
    keys = dict(dataset="mnist", batch_size=1, hidden_layers=3, width=1000, variant="")
    return pd.DataFrame([dict(keys, method=m, workers=w, test_pct=a, samples_per_s=s,
                              speedup=None, efficiency=None) for m, w, a, s in rows])


def test_the_parallel_leaf_is_judged_on_multi_worker_runs_only():
    par = "10.4-sgd-parallel"
    assert verdict_of(computed(), par)["verdict"] == "missing"
    alsh_wins = _scaling(("alsh-approx", 2, 96.0, 30.0), ("standard", 2, 97.0, 20.0),
                         ("standard", 1, 97.0, 99.0))  # one worker: not a candidate
    assert verdict_of(computed(scaling=alsh_wins), par)["verdict"] == "reproduced"
    std_wins = _scaling(("alsh-approx", 2, 90.0, 30.0), ("standard", 2, 97.0, 20.0))
    assert verdict_of(computed(scaling=std_wins), par)["verdict"] == "not reproduced"


def test_published_variant_runs_are_kept_apart_in_every_table():
    from analyses_frames import runs

    r = runs(dict(run_id="a", method="alsh-approx", param_as_published=False),
             dict(run_id="b", method="alsh-approx", param_as_published=True),
             dict(run_id="c", method="alsh-approx", param_as_published="true", lr=1e-4),
             dict(run_id="d", method="standard"))
    assert list(r["variant"]) == ["lr=0.001", "as published, lr=0.001", "as published, lr=0.0001",
                                  "lr=0.001"]


def test_ratio_reference_runs_on_the_same_optimizer_kernel():
    # a fused-Adam Standard 3x faster than the default one must not be ALSH-approx's reference
    c = computed(phases=phase_table(timing("standard", STD),
                                    timing("alsh-approx", (2.2, 2.25, 2.3)),
                                    timing("standard", (0.33, 0.34, 0.335),
                                           optimizer_impl="fused")))
    v = verdict_of(c, ALSH)
    assert v["verdict"] == "reproduced" and v["value"] == pytest.approx(2.25, rel=1e-3)


def test_leaf_joins_accuracy_runs_and_timing_runs_of_other_configurations():
    # accuracy from whole-epoch runs on fused Adam, times from capped default-Adam runs: the
    # leaf still has both (otherwise the pick would be by accuracy alone)
    f = final(dict(method="mc-approx", batch_size=20, test=0.96, optimizer_impl="fused"),
              dict(method="standard", batch_size=20, test=0.97, optimizer_impl="fused"))
    t = phase_table(timing("mc-approx", (1.0, 1.0, 1.0), batch_size=20, variant="max_steps=150"),
                    timing("standard", (2.0, 2.0, 2.0), batch_size=20, variant="max_steps=150"),
                    timing("standard", (0.5, 0.5, 0.5), batch_size=20, implementation="tuned"))
    v = verdict_of(computed(f, t), "10.4-minibatch-shallow")
    assert v["verdict"] == "reproduced" and "MC-approx M (b20)" in v["measured"]
    assert "1 s/epoch" in v["measured"]  # the paper implementation's time, not tuned's
