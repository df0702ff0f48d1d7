"""The cost model's step table read back off finished runs (profkit.sweep.calibrate)."""

from __future__ import annotations

import json

from profkit.sweep import calibrate


def _run(root, name, ms_per_step, steps=100, status="complete", **cfg):
    base = {"method": "standard", "batch_size": 1, "hidden_layers": 3, "width": 1000,
            "dataset": "mnist", "implementation": "paper", "optimizer_impl": "default",
            "workers": 1, "method_params": {"as_published": False}}
    total = ms_per_step * steps / 1000
    meta = {"status": status, "config": {**base, **cfg},
            "summary": {"steps_measured": steps,
                        "phase_s_measured": {"forward": total / 4, "optimizer": total * 3 / 4}}}
    (root / name).mkdir()
    (root / name / "run.json").write_text(json.dumps(meta))


def test_the_fastest_usable_run_of_each_cell_and_what_is_left_out(tmp_path):
    _run(tmp_path, "a", 12.0)
    _run(tmp_path, "b", 30.0)  # the same cell beside another job: slower, not used
    _run(tmp_path, "c", 5.0, optimizer_impl="fused", dataset="fashion-mnist")
    _run(tmp_path, "d", 9.0, implementation="tuned", batch_size=20, method="mc-approx")
    # none of these is a 3 x 1000 single-process default-variant finished run
    _run(tmp_path, "e", 1.0, width=256)
    _run(tmp_path, "f", 1.0, hidden_layers=7)
    _run(tmp_path, "g", 1.0, status="interrupted")
    _run(tmp_path, "h", 1.0, method_params={"as_published": True})
    _run(tmp_path, "i", 1.0, workers=2)
    _run(tmp_path, "j", 1.0, dataset="mnist-5k")
    _run(tmp_path, "k", 1.0, batch_size=5)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json")
    current = {"default": {"standard": [99.0, 15.0], "dropout": [1.0, 2.0]}}
    table, counts = calibrate.step_table(tmp_path, current)
    assert table["default"]["standard"] == [12.0, 15.0]  # M kept from the file
    assert table["default"]["dropout"] == [1.0, 2.0]
    assert table["fused"]["standard"][0] == 5.0
    assert table["tuned"]["mc-approx"][1] == 9.0
    assert counts == {("default", "standard", 1): 2, ("fused", "standard", 1): 1,
                      ("tuned", "mc-approx", 20): 1}
    assert current["default"]["standard"] == [99.0, 15.0]  # the caller's table is not changed
    text = calibrate.format_table(table, counts)
    assert "[cost.step_ms.default]\nstandard = [12.0, 15.0]  # runs: S 2, M 0; 0 = kept" in text


def test_the_command_refuses_a_directory_without_usable_runs(tmp_path, capsys):
    assert calibrate.main([str(tmp_path)]) == 2
    assert "no finished 3 x 1000" in capsys.readouterr().err
    assert calibrate.main([str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
