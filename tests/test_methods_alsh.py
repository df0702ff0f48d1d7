"""ALSH-approx: Standard oracle, rebuild schedule, active-set sizes, params, learning, estimates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from profkit import load
from profkit.config import ConfigError, RunConfig
from profkit.methods import get_method
from profkit.methods.alsh import AlshApprox, rebuilds_by
from profkit.phases import NullMarker, PhaseTimer
from profkit.train import run

IN, CLASSES = 20, 4


pytestmark = pytest.mark.usefixtures("one_thread")


def _make(method="alsh-approx", width=24, layers=2, batch=1, seed=0, **kw):
    cfg = RunConfig(method=method, hidden_layers=layers, width=width, batch_size=batch,
                    results="unused", **kw)
    torch.manual_seed(seed)  # model init, as the trainer does
    gen = torch.Generator().manual_seed(seed + 1)
    return get_method(method)(cfg, IN, CLASSES, gen)


def _batches(n_steps, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_steps):
        yield torch.randn(batch, IN, generator=g).relu(), torch.randint(CLASSES, (batch,),
                                                                       generator=g)


def _same_training(a, b, steps=15, batch=1, **tol):
    for x, y in _batches(steps, batch):
        la, lb = a.train_step(x, y, NullMarker()), b.train_step(x, y, NullMarker())
        assert torch.allclose(la, lb, **tol)
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.allclose(pa, pb, **tol)


ALL = {"cap_fraction": 1.0}


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("opt", [{}, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05}])
@pytest.mark.parametrize("sparse", [False, True])
def test_every_unit_active_equals_standard(batch, opt, sparse):
    std = _make("standard", batch=batch, **opt)
    alsh = _make(batch=batch, method_params={**ALL, "sparse_update": sparse}, **opt)
    _same_training(std, alsh, batch=batch, rtol=1e-5, atol=1e-6)


def test_as_published_masked_matmul_trains_like_the_gather():
    a = _make(layers=3, width=60, method_params={"cap_fraction": 0.1})
    b = _make(layers=3, width=60, method_params={"cap_fraction": 0.1, "as_published": True})
    _same_training(a, b, steps=20, rtol=1e-4, atol=1e-6)


def test_sparse_update_touches_only_active_entries():
    m = _make(layers=2, width=40, method_params={"cap_fraction": 0.1, "sparse_update": True})
    before = [p.detach().clone() for p in m.model.parameters()]
    rows: list[torch.Tensor] = []
    m._query = _recording(m._query, rows, size=False)
    x, y = next(_batches(1, 1))
    m.train_step(x, y, NullMarker())
    w0, b0, w1, b1, wo, _ = (p.detach() != q
                            for p, q in zip(m.model.parameters(), before, strict=True))
    assert set(w0.any(dim=1).nonzero().flatten().tolist()) <= set(rows[0].tolist())
    assert set(b0.nonzero().flatten().tolist()) <= set(rows[0].tolist())
    changed = w1.nonzero()
    assert np.isin(changed[:, 0], rows[1]).all() and np.isin(changed[:, 1], rows[0]).all()
    assert np.isin(wo.nonzero()[:, 1], rows[1]).all()
    assert w1.any()  # something did move


@pytest.mark.parametrize("seen,expected", [(0, 0), (99, 0), (100, 1), (9999, 99),
                                           (10000, 100), (10999, 100), (11000, 101),
                                           (55000, 145)])
def test_rebuild_schedule_counts(seen, expected):
    assert rebuilds_by(seen, 100, 10000, 1000) == expected


def test_rebuilds_fire_at_the_scheduled_sample_counts_and_at_epoch_end():
    params = {"rebuild_every_early": 3, "rebuild_early_until": 9, "rebuild_every": 5}
    m = _make(batch=2, method_params=params)
    steps = list(_batches(12, 2))
    for x, y in steps[:6]:
        m.train_step(x, y, NullMarker())
    # thresholds 3, 6, 9, 14, 19, ...; samples seen 2, 4, ..., 12 after each step
    assert m.rebuild_log == [4, 6, 10]
    m.on_epoch_end(0)  # epoch end: the next step rebuilds first
    for x, y in steps[6:]:
        m.train_step(x, y, NullMarker())
    assert m.rebuild_log == [4, 6, 10, 12, 14, 20, 24]
    # the tables hold the current weights
    for index, lin in zip(m.indexes, m.model.hidden, strict=True):
        assert index.units.size == index.L * lin.out_features
        fresh = index.data_codes(lin.weight.detach())
        for t in range(index.L):
            for j in range(lin.out_features):
                assert j in index.buckets(fresh[j])[t]


@pytest.mark.parametrize("batch,mode", [(1, "union"), (6, "union"), (6, "union-capped")])
def test_active_set_size_within_cap_and_padded(batch, mode):
    width, frac = 50, 0.1
    cap = 5
    params = {"cap_fraction": frac, "K": 16, "family": "simple-lsh", "batch_mode": mode}
    m = _make(batch=batch, width=width, method_params=params)
    sizes: list[int] = []
    m._query = _recording(m._query, sizes)
    for x, y in _batches(10, batch):
        m.train_step(x, y, NullMarker())
    if batch == 1 or mode == "union-capped":
        assert sizes == [cap] * len(sizes)  # K=16: buckets nearly empty, padding fills
    else:
        assert all(cap <= s <= min(width, batch * cap) for s in sizes)
        assert max(sizes) > cap
    stats = {(r["layer"], r["stat"]): r for r in m.on_epoch_end(0)}
    assert stats[(0, "active_set_mean")]["value"] == pytest.approx(np.mean(sizes[0::2]))
    assert 0 <= stats[(0, "bucket_fraction")]["value"] < 0.5


def _recording(orig, out, size=True):
    """Wrap a method's _query to record each layer's active set (or its size)."""
    def query(i, a, cols):
        rows = orig(i, a, cols)
        out.append(len(rows) if size else rows)
        return rows
    return query


@pytest.mark.parametrize("params,field", [
    ({"K": 0}, "K"), ({"L": 2000}, "L"), ({"m": 0}, "m"), ({"U": 1.0}, "U"),
    ({"cap_fraction": 0}, "cap_fraction"), ({"cap_fraction": 1.5}, "cap_fraction"),
    ({"family": "e2lsh"}, "family"), ({"projection": "cauchy"}, "projection"),
    ({"batch_mode": "each"}, "batch_mode"), ({"rebuild_every": 0}, "rebuild_every"),
    ({"recall_every": -1}, "recall_every"), ({"sparse_update": "yes"}, "sparse_update"),
    ({"K": 6.0}, "K"), ({"tables": 5}, "tables"), ({"rerank": -1}, "rerank"),
    ({"selection": "best"}, "selection"), ({"bin_size": 1}, "bin_size"),
    ({"family": "dwta", "K": 9}, "bin_size"),
    ({"as_published": True, "sparse_update": True}, "sparse_update"),
])
def test_bad_params_raise_config_error_naming_the_field(params, field):
    with pytest.raises(ConfigError, match=field):
        RunConfig(method="alsh-approx", method_params=params)


def test_paper_params_are_valid_and_the_papers():
    p = RunConfig(method="alsh-approx", method_params=AlshApprox.paper_params()).method_params
    assert (p["K"], p["L"], p["m"], p["U"], p["cap_fraction"]) == (6, 5, 3, 0.83, 0.05)
    assert p["family"] == "l2-alsh-sign" and not p["as_published"]


def test_layer_estimates_shapes_and_zero_error_when_all_units_active():
    x, y = next(_batches(1, 8))
    exact = _make(layers=3, method_params=ALL).layer_estimates(x, y)
    assert [e.layer for e in exact] == [0, 1, 2]
    for e in exact:
        assert e.quantity == "activation" and e.exact.shape == e.estimate.shape == (8, 24)
        assert torch.allclose(e.exact, e.estimate, atol=1e-6)
    m = _make(layers=3, width=40, method_params={"cap_fraction": 0.1})
    est = m.layer_estimates(x, y)
    assert all(((e.estimate != 0).sum(dim=1) <= 4).all() for e in est)  # cap = 4 per sample
    assert (est[0].estimate - est[0].exact).abs().sum() > 0
    # the analysis leaves the generator, hence training, unchanged
    twin = _make(layers=3, width=40, method_params={"cap_fraction": 0.1})
    _same_training(m, twin, steps=5, rtol=0, atol=0)


def test_phases_marked_are_declared_disjoint_and_recall_is_diagnostic():
    m = _make(layers=2, width=40, method_params={"cap_fraction": 1.0, "recall_every": 2})
    timer = PhaseTimer(("data", *AlshApprox.phases))  # raises on undeclared or nested phases
    seen = set()
    for s, (x, y) in enumerate(_batches(4, 1)):
        m.train_step(x, y, timer)
        seen |= {n for n, t in zip(timer.names, timer.acc, strict=True) if t > 0}
        assert (timer.acc[timer.names.index("diagnostic")] > 0) == (s % 2 == 0)
        timer.reset()
    assert {"lsh_query", "forward", "backward", "optimizer", "diagnostic"} <= seen
    stats = {(r["layer"], r["stat"]): r for r in m.on_epoch_end(0)}
    assert stats[(0, "recall_topk")]["value"] == 1.0  # every unit active: perfect recall
    assert stats[(0, "recall_topk")]["diagnostic"] and stats[(0, "recall_random")]["diagnostic"]
    assert not stats[(1, "active_set_mean")]["diagnostic"]


def test_learns_on_mnist_5k_and_records_its_phases(tmp_path):
    cfg = RunConfig(method="alsh-approx", dataset="mnist-5k", hidden_layers=3, width=256,
                    batch_size=20, max_steps=200, warmup_steps=2, threads=1,
                    results=str(tmp_path), method_params={"recall_every": 50})
    r = run(cfg, progress=False)
    t = load(r.path)
    assert t["epochs"].test_accuracy.iloc[0] > 0.5  # chance: 0.1
    assert t["epochs"].subnormal_fraction.notna().all()  # the trainer reads the Adam state
    assert {"lsh_query", "lsh_rebuild", "diagnostic"} <= set(t["phases"].phase)
    ms = t["method_stats"]
    recall = ms[ms.stat == "recall_topk"]
    assert len(recall) == 3 and recall.diagnostic.all() and recall.value.between(0, 1).all()
    assert (ms[ms.stat == "rebuilds"].value == 40).all()  # 4000 samples / 100
    probed = ms[ms.stat == "tables_probed"].value
    assert len(probed) == 3 and probed.between(1, 5).all()  # table order stops at the cap
    occ = t["lsh_tables"]
    assert len(occ) == 3 * 5 and (occ.builds == 41).all()  # 40 rebuilds + the initial tables
    assert occ.largest_share.between(1 / 64, 1).all()  # at least n / 2^K units, at most all
    diag = ms[ms.stat.isin(["largest_bucket_share", "data_extra_share", "query_extra_share"])]
    assert len(diag) == 9 and diag.diagnostic.all() and diag.value.between(0, 1).all()
