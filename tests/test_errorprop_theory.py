"""Theorem 7.2 and Lemma 7.1 (analyses.errorprop): the paper's table, the recursion, and c."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from profkit.analyses import errorprop as ep


def test_theory_matches_published_c5_table():
    pub = pd.read_csv(ep.PUBLISHED)
    pub = pub[pub["table"] == "Theorem 7.2"].sort_values("hidden_layers")
    assert len(pub) == 6
    computed = ep.theory_ratio(5.0, pub["hidden_layers"].to_numpy())
    # The paper prints 2 decimals, truncated: every value is within 0.01 below the exact one.
    assert np.all(computed - pub["value"].to_numpy() >= -1e-12)
    assert np.all(computed - pub["value"].to_numpy() < 0.01)
    check = ep.paper_table_check()
    np.testing.assert_allclose(check["computed_truncated"], check["paper"], atol=1e-12)
    assert (check["computed_rounded"] != check["paper"]).sum() == 3  # k = 3, 5, 6


def test_theory_curve_relations_and_bad_input():
    curve = ep.theory_curve(2.0, range(1, 5))
    np.testing.assert_allclose(curve["exact_to_estimate"], 1.5 ** curve["k"])
    # e/a = 1 - (c/(c+1))^k: the same error measured against the exact value.
    np.testing.assert_allclose(curve["error_to_exact"], 1 - (2 / 3) ** curve["k"])
    np.testing.assert_allclose(ep.theory_layerwise([2.0] * 4), curve["error_to_estimate"])
    np.testing.assert_allclose(ep.theory_layerwise([1.0, 3.0]), [1.0, 2 * 4 / 3 - 1])
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="c must be"):
            ep.theory_ratio(bad, 1)
    with pytest.raises(ValueError, match="depth k"):
        ep.theory_ratio(5.0, 0)


def _random_net(rng, sizes, p_active=0.3):
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    masks = [rng.random(w.shape) < p_active for w in weights]
    return weights, masks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lemma_recursion_equals_exact_minus_estimate(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 12))
    weights, masks = _random_net(rng, [12, 9, 7, 5, 3])
    exact = ep.linear_forward(x, weights)
    est = ep.masked_forward(x, weights, masks)
    for e, a, a_hat in zip(ep.lemma_errors(x, weights, masks), exact, est, strict=True):
        np.testing.assert_allclose(e, a - a_hat, rtol=1e-10, atol=1e-10)


def _c_condition_net(rng, sizes, c):
    """Positive inputs and weights, random active sets; each column's inactive weights are
    rescaled so that the active part is exactly c times the inactive part on the estimates."""
    x = rng.uniform(0.5, 1.5, size=(1, sizes[0]))
    weights, masks, a_hat = [], [], x
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = rng.uniform(0.1, 1.0, size=(n_in, n_out))
        m = rng.random((n_in, n_out)) < 0.3
        m[0], m[1] = True, False  # every node has active and inactive inputs
        act, inact = a_hat @ (w * m), a_hat @ (w * ~m)  # (1, n_out)
        w = np.where(m, w, w * act / (c * inact))
        weights.append(w)
        masks.append(m)
        a_hat = a_hat @ (w * m)
    return x, weights, masks


@pytest.mark.parametrize("c", [0.5, 2.0, 5.0])
def test_theorem_closed_form_holds_when_c_condition_holds(c):
    rng = np.random.default_rng(7)
    x, weights, masks = _c_condition_net(rng, [30, 25, 20, 20, 15, 10], c)
    est = ep.masked_forward(x, weights, masks)
    errors = ep.lemma_errors(x, weights, masks)
    for k, (e, a_hat) in enumerate(zip(errors, est, strict=True), start=1):
        np.testing.assert_allclose(e / a_hat, ep.theory_ratio(c, k), rtol=1e-9)
    # c is recovered at every layer, from the estimates and from the exact inputs alike
    exact = ep.linear_forward(x, weights)
    for prev_est, prev_exact, w, m in zip([x, *est[:-1]], [x, *exact[:-1]], weights, masks,
                                                  strict=True):
        np.testing.assert_allclose(ep.c_ratio(prev_est, w, m), c, rtol=1e-9)
        np.testing.assert_allclose(ep.c_ratio(prev_exact, w, m), c, rtol=1e-9)


def test_theorem_fails_without_the_condition():
    """A control: on random signed weights the closed form is not an identity."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 12))
    weights, masks = _random_net(rng, [12, 10, 10])
    est = ep.masked_forward(x, weights, masks)
    errors = ep.lemma_errors(x, weights, masks)
    assert not np.allclose(errors[1] / est[1], ep.theory_ratio(5.0, 2))


def test_mismatched_shapes_name_the_problem():
    x = np.ones((1, 4))
    with pytest.raises(ValueError, match="weight matrices but"):
        ep.masked_forward(x, [np.ones((4, 3))], [])
    with pytest.raises(ValueError, match="layer 1"):
        ep.masked_forward(x, [np.ones((5, 3))], [np.ones((5, 3), bool)])


def _study(rows):
    base = dict(method="m", trained_with="m", dataset="d", depth=3, width=8, batch_size=4,
                steps=0, quantity="activation")
    return pd.DataFrame([{**base, **r} for r in rows])


def test_theory_comparison_uses_estimated_c():
    rows = []
    for seed, c in ((0, 4.0), (1, 5.0), (2, 6.0)):  # median over seeds: 5
        for layer in range(3):
            rows += [dict(seed=seed, layer=layer, metric="c_median", value=c),
                     dict(seed=seed, layer=layer, metric="error_to_estimate_median",
                          value=0.1 * (layer + 1)),
                     dict(seed=seed, layer=layer, metric="rel_error", value=0.05 * (layer + 1))]
    comp = ep.theory_comparison(_study(rows))
    assert list(comp["k"]) == [1, 2, 3]
    np.testing.assert_allclose(comp["c_hat"], 5.0)
    np.testing.assert_allclose(comp["theory_pooled"], [0.2, 0.44, 0.728])
    np.testing.assert_allclose(comp["theory_layerwise"], [0.2, 0.44, 0.728])
    np.testing.assert_allclose(comp["error_to_estimate"], [0.1, 0.2, 0.3])


def test_theory_comparison_first_layer_without_inactive_inputs():
    """ALSH's first layer reads the whole input (c = inf): it adds no factor layer-wise."""
    rows = [dict(seed=0, layer=0, metric="c_median", value=np.inf),
            dict(seed=0, layer=1, metric="c_median", value=1.0),
            dict(seed=0, layer=2, metric="c_median", value=-0.5)]
    comp = ep.theory_comparison(_study(rows))
    np.testing.assert_allclose(comp["c_hat"], 1.0)
    np.testing.assert_allclose(comp["theory_layerwise"].iloc[:2], [0.0, 1.0])
    assert comp["theory_layerwise"].isna().iloc[2]  # c < 0: the theorem does not apply


def test_recall_table_and_section():
    stats = pd.DataFrame({
        "run_id": ["r1"] * 6, "epoch": [0, 0, 1, 1, 0, 0], "layer": [0, 0, 0, 0, 1, -1],
        "stat": ["recall_topk", "recall_random", "recall_topk", "recall_random",
                 "recall_topk", "rebuilds"],
        "value": [0.08, 0.05, 0.12, 0.05, 0.07, 3.0], "diagnostic": [True] * 6})
    runs = pd.DataFrame({"run_id": ["r1"], "method": ["alsh-approx"], "hidden_layers": [2]})
    rec = ep.recall_table(stats, runs)
    assert list(zip(rec["layer"], rec["epoch"], rec["recall"], strict=True)) == [
        (0, 0, 0.08), (0, 1, 0.12), (1, 0, 0.07)]
    assert rec.loc[0, "recall_random"] == 0.05 and rec["method"].eq("alsh-approx").all()
    sec = ep.error_propagation({"runs": runs, "method_stats": stats})
    assert sec.recall_by_layer.loc[("alsh-approx", 2, 0), "epoch 2"] == 0.12
    assert sec.measured.empty and sec.comparison.empty
    # no study: the note names the command that adds one, not a Python function
    assert [n for n in sec.notes if "no measured" in n] == [ep.STUDY_HINT]
    assert "`profkit errorprop --results" in ep.STUDY_HINT and "run_study" not in ep.STUDY_HINT


def test_section_without_recall_or_study_says_so():
    runs = pd.DataFrame({"run_id": ["r1"], "method": ["standard"]})
    stats = pd.DataFrame(columns=["run_id", "epoch", "layer", "stat", "value", "diagnostic"])
    sec = ep.error_propagation({"runs": runs, "method_stats": stats})
    assert sec.recall.empty and len(sec.notes) == 2
    assert list(sec.paper_table["k"]) == [1, 2, 3, 4, 5, 6]
