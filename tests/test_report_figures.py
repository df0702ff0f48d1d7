"""Every report figure rendered from a small real results set: the encodings hold (hue = method
with the fixed palette, style = S/M, facets, integer ticks, legends outside the data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from profkit.analyses import accuracy, memory, runtime
from profkit.analyses.computed import compute
from profkit.analyses.decision import PARALLEL
from profkit.analyses.figures import accuracy as afig
from profkit.analyses.figures import decision as dfig
from profkit.analyses.figures import errorprop as efig
from profkit.analyses.figures import memory as mfig
from profkit.analyses.figures import runtime as rfig
from profkit.analyses.figures.base import COLORS, plt
from profkit.analyses.labels import method_title
from profkit.analyses.results import load_results
from report_results import DEPTHS, METHODS


@pytest.fixture(scope="module")
def computed(report_results):
    return compute(load_results(report_results))


def _figures(c) -> dict:
    f, runs = c.frames, c.runs
    ep = c.errorprop  # the shared bundle holds §7's frames
    return {
        "phase_bars": rfig.phase_bars(c.phase_table),
        "depth_lines": rfig.depth_lines(runtime.depth_runtime(c.phase_table)),
        "accuracy_vs_time": rfig.accuracy_vs_time(
            runtime.accuracy_vs_time(f["epochs"], c.epoch_seconds, runs)),
        "batch_effects": rfig.batch_effects(runtime.batch_effects(c.phase_table, c.final)),
        "curves": afig.curves(accuracy.accuracy_curves(f["epochs"], runs)),
        "depth_accuracy": afig.depth_accuracy(accuracy.depth_accuracy(c.final), c.published),
        "confusion": afig.confusion_grid(accuracy.confusion_matrices(f["confusion"], runs)),
        "label_shares": afig.label_shares(accuracy.label_shares(f["confusion"], runs)),
        "rss": mfig.rss_over_time(memory.memory_series(f["memory"], runs)),
        "growth": mfig.growth_bars(c.growth),
        "tree": dfig.trees(c.leaves, "mnist-5k"),
        "theory": efig.theory(ep.theory, ep.paper_table),
        "measured": efig.measured(ep.comparison),
        "recall": efig.recall(ep.recall),
    }


@pytest.fixture(scope="module")
def figures(computed):
    figs = _figures(computed)
    for fig in figs.values():
        if fig is not None:
            fig.canvas.draw()  # lays out text, so extents below are the rendered ones
    yield figs
    plt.close("all")


def _data_axes(fig):
    return [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]


def _legend_texts(fig) -> list[str]:
    legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


def test_every_figure_renders(figures):
    assert not [name for name, fig in figures.items() if fig is None]


@pytest.mark.parametrize("name", ["depth_lines", "accuracy_vs_time", "curves", "depth_accuracy",
                                  "rss"])
def test_hue_is_method_in_the_fixed_palette_and_style_is_the_setting(figures, name):
    fig = figures[name]
    texts = _legend_texts(fig)
    titles = [method_title(m) for m in METHODS]
    assert sorted(t for t in texts if t in titles) == sorted(titles)  # each method once
    assert {"S (batch 1)", "M (batch 20)"} <= set(texts)
    assert len(texts) == len(METHODS) + 2 + 2  # + the two legend titles: no per-run entries
    colours = {method_title(m): COLORS[m] for m in METHODS}
    for lg in fig.legends:
        for handle, text in zip(lg.legend_handles, lg.get_texts(), strict=True):
            if text.get_text() in colours:
                assert to_hex(handle.get_color()) == colours[text.get_text()]


@pytest.mark.parametrize("name", ["accuracy_vs_time", "curves", "rss"])
def test_runs_are_faceted_by_depth(figures, name):
    axes = _data_axes(figures[name])
    assert len(axes) == len(DEPTHS)
    assert [a.get_title() for a in axes] == [f"Hidden layers = {h}" for h in DEPTHS]


@pytest.mark.parametrize("name,axis", [("depth_lines", "x"), ("depth_accuracy", "x"),
                                       ("curves", "x"), ("theory", "x"), ("measured", "x"),
                                       ("recall", "x")])
def test_depth_and_epoch_axes_tick_at_integers(figures, name, axis):
    for a in _data_axes(figures[name]):
        lo, hi = getattr(a, f"get_{axis}lim")()
        ticks = [t for t in getattr(a, f"get_{axis}ticks")() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks)


@pytest.mark.parametrize("name", ["depth_lines", "accuracy_vs_time", "batch_effects", "recall",
                                  "phase_bars", "growth", "measured"])
def test_legends_sit_outside_the_data(figures, name):
    fig = figures[name]
    r = fig.canvas.get_renderer()
    right = max(a.get_window_extent(r).x1 for a in _data_axes(fig))
    legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert legends
    assert all(lg.get_window_extent(r).x0 >= right - 1 for lg in legends)


def test_measured_error_has_a_panel_per_training_method_and_a_line_per_estimator(figures,
                                                                              computed):
    axes = _data_axes(figures["measured"])
    assert [a.get_title() for a in axes] == ["trained with alsh-approx", "trained with mc-approx"]
    assert all(a.get_yscale() == "log" for a in axes)
    lo, hi = axes[0].get_ylim()
    labelled = [t for t in axes[0].get_yticklabels()
                if t.get_text() and lo <= t.get_position()[1] <= hi]
    assert labelled  # a wide log range still gets labels
    comp = computed.errorprop.comparison
    drawn = {t for t in _legend_texts(figures["measured"])}
    # an estimator is drawn where it has a positive error; alsh-approx's own estimate is one
    assert {"alsh-approx, depth 5", "topk-units, depth 5", "topk-terms, depth 1"} <= drawn
    assert len(drawn) == len(_legend_texts(figures["measured"]))  # each entry once
    assert set(comp["method"]) >= {"alsh-approx", "topk-terms", "topk-units"}


def test_log_axes_label_without_overlap(figures):
    fig = figures["accuracy_vs_time"]
    r = fig.canvas.get_renderer()
    for a in _data_axes(fig):
        boxes = [t.get_window_extent(r) for t in a.get_xticklabels()
                 if t.get_text() and t.get_visible()]
        boxes.sort(key=lambda b: b.x0)
        assert all(b1.x1 <= b2.x0 for b1, b2 in zip(boxes, boxes[1:], strict=False))


def test_confusion_titles_clear_the_labels_above(figures):
    fig = figures["confusion"]
    r = fig.canvas.get_renderer()
    axes = _data_axes(fig)
    for upper in axes:
        for lower in axes:
            ux, lx = upper.get_position(), lower.get_position()
            if abs(ux.x0 - lx.x0) < 1e-6 and lx.y1 < ux.y0:
                assert not lower.title.get_window_extent(r).overlaps(
                    upper.xaxis.label.get_window_extent(r))


def test_facets_by_implementation_when_the_column_varies(computed):
    depth = runtime.depth_runtime(computed.phase_table)
    both = pd.concat([depth.assign(implementation="paper"),
                      depth.assign(implementation="tuned")])
    fig = rfig.depth_lines(both)
    assert [a.get_title() for a in _data_axes(fig)] == ["paper", "tuned"]
    plt.close(fig)


def _tree_leaves(agrees) -> pd.DataFrame:
    rows = [{"dataset": "d", "setting": s, "depth": d, "winner": "Standard S (b1)",
             "evidence": "90.0% test accuracy, 1 s/epoch; 2 candidate(s)", "agrees": a}
            for (s, d), a in zip([("SGD", PARALLEL), ("SGD", "shallow"), ("SGD", "deep"),
                                  ("mini-batch", "shallow"), ("mini-batch", "deep")], agrees,
                                 strict=True)]
    return pd.DataFrame(rows)


def _leaf_tones(node) -> list[str]:
    """Leaf tones left to right (the parallel-computing split is one level deeper)."""
    return [node.tone] if not node.children else [t for c in node.children
                                                  for t in _leaf_tones(c)]


def test_a_disagreeing_leaf_is_drawn_in_the_disagree_colour():
    # numpy bools, as decision.leaves makes them: `is False` never matched these
    lv = _tree_leaves([np.True_, np.True_, np.False_, None, np.False_])
    assert _leaf_tones(dfig.measured_tree(lv)) == ["agree", "agree", "disagree", "unknown",
                                                   "disagree"]
    fig = dfig.trees(lv, "d")
    drawn = [to_hex(t.get_bbox_patch().get_facecolor()) for t in fig.axes[0].texts
             if t.get_gid() == "node-disagree"]
    assert drawn == [dfig.TONES["disagree"]] * 2
    plt.close(fig)


def test_tree_edge_labels_do_not_collide():
    fig = dfig.trees(_tree_leaves([True, True, False, True, False]), "d")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(r) for t in ax.texts]
        for i, b1 in enumerate(boxes):
            assert not any(b1.overlaps(b2) for b2 in boxes[i + 1:])
    plt.close(fig)


def test_depth_figure_draws_the_papers_mnist_lines_on_mnist_only_and_no_published_points():
    from profkit.analyses import paper
    rows = [(d, v, h, acc) for d in ("mnist", "fashion-mnist") for v, acc in
            (("", 90.0), ("as published", 40.0)) for h in (1, 3, 5)]
    dep = pd.DataFrame(rows, columns=["dataset", "variant", "hidden_layers", "test_pct"]).assign(
        method="alsh-approx", batch_size=1)
    fig = afig.depth_accuracy(dep, paper.load_published())
    by_title = {a.get_title(): a for a in fig.axes if a.get_title()}
    assert set(by_title) == {"mnist", "fashion-mnist"}

    def dotted(a):
        return [ln for ln in a.get_lines() if ln.get_linestyle() == ":"]

    assert len(dotted(by_title["mnist"])) == 1 and not dotted(by_title["fashion-mnist"])
    drawn = [y for a in by_title.values() for ln in a.get_lines()
             if ln.get_linestyle() != ":" for y in ln.get_ydata()]
    assert drawn and 40.0 not in drawn  # the published variant's points are not on the lines
