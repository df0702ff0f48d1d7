"""implementation=paper|tuned: config resolution, run ids, CLI, sweeps, records, lazy Adam."""

from __future__ import annotations

import pytest
import torch
from method_steps import CLASSES, IN, batches, train

from profkit import load
from profkit.cli import build_parser
from profkit.commands.run import config_from_args
from profkit.config import ConfigError, RunConfig, paper_config
from profkit.implementation import TUNED_OPTIMIZER_IMPL, choices
from profkit.methods import get_method
from profkit.methods.subset_grads import DenseStepOptimizer, LazyOptimizer
from profkit.phases import NullMarker
from profkit.store import RunDir
from profkit.sweep import parse, plan

pytestmark = pytest.mark.usefixtures("one_thread")

# Ids computed before the field existed (same code path, same digest): they must not change.
# threads=None is how those configs were recorded (torch's choice, the default until threads=1).
PINNED = [(RunConfig(threads=None), "standard-mnist-5k-h3-w1000-b20-25b8590ace-r0"),
          (paper_config("alsh-approx", dataset="mnist-5k", threads=None),
           "alsh-approx-mnist-5k-h3-w1000-b1-78d1d84669-r0"),
          (RunConfig(method="dropout", optimizer_impl="fused", flush_denormal=True,
                     threads=None),
           "dropout-mnist-5k-h3-w1000-b20-295983a4e6-r0")]


@pytest.mark.parametrize("cfg,run_id", PINNED)
def test_paper_default_keeps_run_ids_of_existing_configs(cfg, run_id):
    assert cfg.run_id == run_id
    assert cfg.replace(implementation="paper").run_id == run_id
    assert cfg.implementation == "paper"


def test_tuned_resolves_its_choices_and_gets_its_own_id():
    cfg = RunConfig(implementation="tuned")
    assert (cfg.optimizer_impl, cfg.flush_denormal) == (TUNED_OPTIMIZER_IMPL, True)
    assert cfg.run_id != RunConfig().run_id
    # an explicit optimizer implementation stands; paper changes nothing it was given
    assert RunConfig(implementation="tuned", optimizer_impl="foreach").optimizer_impl == "foreach"
    assert (RunConfig().optimizer_impl, RunConfig().flush_denormal) == ("default", False)
    # round trip through the recorded dict gives the same config and id
    assert RunConfig.from_dict(cfg.to_dict()).run_id == cfg.run_id


def test_bad_implementation_lists_valid_ones():
    with pytest.raises(ConfigError, match="implementation must be one of paper, tuned; got 'fast'"):
        RunConfig(implementation="fast")


@pytest.mark.parametrize("method,params,lazy", [
    ("standard", {}, False), ("mc-approx", {}, False), ("adaptive-dropout", {}, False),
    ("dropout", {"impl": "gather"}, True), ("dropout", {"impl": "mask"}, False),
    ("alsh-approx", {}, True), ("alsh-approx", {"as_published": True}, False)])
def test_choices_name_each_implied_choice(method, params, lazy):
    tuned = choices(RunConfig(method=method, method_params=params, implementation="tuned"))
    assert tuned.lazy_updates is lazy and (tuned.lazy_what is not None) is lazy
    assert (tuned.optimizer_impl, tuned.flush_denormal) == (TUNED_OPTIMIZER_IMPL, True)
    paper = choices(RunConfig(method=method, method_params=params))
    assert paper.lazy_updates is False and paper.optimizer_impl == "default"


def test_paper_alsh_with_its_own_sparse_update_is_lazy():
    cfg = RunConfig(method="alsh-approx", method_params={"sparse_update": True})
    assert choices(cfg).lazy_updates


def _cli(*argv):
    return config_from_args(build_parser().parse_args(["run", *argv]))


def test_cli_flag_and_presets():
    assert _cli("--implementation", "tuned").implementation == "tuned"
    assert _cli().implementation == "paper"
    cfg = _cli("--preset", "paper", "--method", "dropout", "--implementation", "tuned")
    assert (cfg.adam_eps, cfg.optimizer_impl, cfg.flush_denormal) == (1e-4, "fused", True)
    with pytest.raises(SystemExit):
        _cli("--implementation", "fast")


def test_sweep_axis_gives_one_run_per_implementation(tmp_path):
    doc = {"fixed": {"dataset": "mnist-5k", "width": 32, "max_steps": 5},
           "axes": {"method": ["standard", "dropout"], "implementation": ["paper", "tuned"]}}
    cfgs = plan(parse(doc), tmp_path)
    got = {(c.method, c.implementation, c.optimizer_impl, c.flush_denormal) for c in cfgs}
    assert got == {(m, "paper", "default", False) for m in ("standard", "dropout")} | \
                  {(m, "tuned", "fused", True) for m in ("standard", "dropout")}
    assert len({c.run_id for c in cfgs}) == 4


def test_run_json_and_runs_table_record_every_choice(tiny_cfg):
    from profkit.train import run

    tuned = run(tiny_cfg(method="dropout", implementation="tuned", max_steps=4,
                         method_params={"p": 0.5}), progress=False)
    paper = run(tiny_cfg(method="dropout", max_steps=4, method_params={"p": 0.5}),
                progress=False)
    meta = RunDir(tuned.path).read_meta()
    assert meta["implementation"] == {**meta["implementation"], "implementation": "tuned",
                                      "optimizer_impl": "fused", "flush_denormal": True,
                                      "lazy_updates": True}
    runs = load(tuned.path.parent, tables=[])["runs"].set_index("run_id")
    cols = ["implementation", "optimizer_impl", "flush_denormal", "lazy_updates"]
    assert runs.loc[tuned.run_id, cols].tolist() == ["tuned", "fused", True, True]
    assert runs.loc[paper.run_id, cols].tolist() == ["paper", "default", False, False]


# --- lazy Adam against a per-row reference --------------------------------------------------

def _reference_lazy_adam(p, grads_by_step, lr, eps, b1=0.9, b2=0.999):
    """Lazy Adam by an explicit loop over rows: only rows in a step's gradient move, with the
    global step count in the bias correction (as torch.optim.SparseAdam and LazyOptimizer)."""
    p = p.clone().double()
    m, v = torch.zeros_like(p), torch.zeros_like(p)
    for t, (rows, g) in enumerate(grads_by_step, start=1):
        for r, grow in zip(rows.tolist(), g.double(), strict=True):
            m[r] = b1 * m[r] + (1 - b1) * grow
            v[r] = b2 * v[r] + (1 - b2) * grow * grow
            mhat, vhat = m[r] / (1 - b1 ** t), v[r] / (1 - b2 ** t)
            p[r] = p[r] - lr * mhat / (vhat.sqrt() + eps)
    return p, m, v


def _touched_steps(n_rows, n_cols, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        rows = torch.randperm(n_rows, generator=g)[: int(torch.randint(1, n_rows, (1,),
                                                                           generator=g))]
        out.append((rows.sort().values, torch.randn(len(rows), n_cols, generator=g)))
    return out


def test_lazy_adam_matches_a_per_row_reference():
    cfg = RunConfig(lr=0.01, adam_eps=1e-6, results="unused")
    w = torch.nn.Parameter(torch.randn(9, 4, generator=torch.Generator().manual_seed(1)))
    ref_p, ref_m, ref_v = _reference_lazy_adam(w.detach(), _touched_steps(9, 4, 12), 0.01, 1e-6)
    opt = LazyOptimizer(cfg, [w])
    for rows, g in _touched_steps(9, 4, 12):
        leaf = opt.touch(w, rows, None)
        (leaf * g).sum().backward()  # d/d leaf = g: the step's row gradients
        opt.step()
    tol = dict(rtol=1e-5, atol=1e-6)
    assert torch.allclose(w.detach().double(), ref_p, **tol)
    assert torch.allclose(opt.state[w]["exp_avg"].double(), ref_m, **tol)
    assert torch.allclose(opt.state[w]["exp_avg_sq"].double(), ref_v, **tol)


def _two_steps(opt_cls):
    """Row 0 gets a gradient on step 1 only, row 1 on both steps. Returns (weight after step
    1, weight after step 2, first moment after step 1, after step 2)."""
    cfg = RunConfig(lr=0.01, results="unused")
    w = torch.nn.Parameter(torch.ones(3, 2))
    opt = opt_cls(cfg, [w])
    snaps = []
    for rows in (torch.tensor([0, 1]), torch.tensor([1])):
        opt.touch(w, rows, None).sum().backward()
        opt.step()
        snaps.append((w.detach().clone(), opt.state[w]["exp_avg"].clone()))
    return snaps[0][0], snaps[1][0], snaps[0][1], snaps[1][1]


def test_lazy_and_dense_adam_differ_where_rows_rest():
    """Dense Adam keeps moving a resting row through its momentum and decays its moments;
    lazy Adam leaves the row's weight and moments exactly as its last gradient left them."""
    w1, w2, m1, m2 = _two_steps(LazyOptimizer)
    assert torch.equal(w2[0], w1[0]) and torch.equal(m2[0], m1[0])
    assert torch.equal(w2[2], torch.ones(2))  # never touched: never moved
    d1, d2, dm1, dm2 = _two_steps(DenseStepOptimizer)
    assert (d2[0] < d1[0]).all()  # momentum drift: a zero gradient still moves it
    assert torch.allclose(dm2[0], 0.9 * dm1[0])  # the moment decays by beta1
    # the rows touched every step move identically under both
    assert torch.allclose(w2[1], d2[1], rtol=1e-6) and torch.allclose(w1, d1, rtol=1e-6)


def _dropout(p, implementation, seed=0, **kw):
    cfg = RunConfig(method="dropout", hidden_layers=2, width=16, batch_size=4,
                    method_params={"p": p, "impl": "gather"}, implementation=implementation,
                    results="unused", **kw)
    torch.manual_seed(seed)
    return get_method("dropout")(cfg, IN, CLASSES, torch.Generator().manual_seed(seed + 1))


@pytest.mark.parametrize("opt", [{}, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05}])
def test_tuned_dropout_with_every_unit_kept_trains_like_paper(opt):
    """p = 1 keeps every row and column, so lazy updates touch everything: dense Adam/SGD."""
    a, b = _dropout(1.0, "paper", **opt), _dropout(1.0, "tuned", **opt)
    la, lb = train(a, 10, 4), train(b, 10, 4)
    assert lb == pytest.approx(la, rel=1e-5, abs=1e-6)
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.allclose(pa, pb, rtol=1e-5, atol=1e-6)


def test_tuned_dropout_updates_only_kept_rows_and_columns():
    m = _dropout(0.3, "tuned")
    before = [p.detach().clone() for p in m.model.parameters()]
    x, y = next(batches(1, 4))
    m.train_step(x, y, NullMarker())
    k0, k1 = (set(k.tolist()) for k in m.last_kept)
    w0, b0, w1, b1, wo, bo = (p.detach() != q
                              for p, q in zip(m.model.parameters(), before, strict=True))
    assert set(w0.any(dim=1).nonzero().flatten().tolist()) <= k0
    assert {r for r, _ in w1.nonzero().tolist()} <= k1
    assert {c for _, c in w1.nonzero().tolist()} <= k0
    assert {c for _, c in wo.nonzero().tolist()} <= k1
    assert w1.any() and bo.any()  # something did move
