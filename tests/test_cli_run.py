"""`profkit run`'s flags come from RunConfig's fields; run ids stay stable; exit codes."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from profkit.cli import build_parser
from profkit.cli import main as cli
from profkit.commands.run import config_from_args
from profkit.commands.runflags import add_config_arguments, flag_name, given_fields
from profkit.config import RunConfig, _setting, paper_config
from profkit.exitcodes import exit_code
from profkit.methods import METHODS


def _run_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["run"]


def _actions_by_dest(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions}


def test_every_field_has_a_flag_with_help_stating_its_default():
    actions = _actions_by_dest(_run_parser())
    for f in dataclasses.fields(RunConfig):
        action = actions[f.name]
        assert flag_name(f) in action.option_strings
        assert f.metadata["help"] in action.help and "(default: " in action.help, f.name
    # every flag of the command, not only the generated ones, has a help line
    assert all(a.help for a in _run_parser()._actions)


def test_help_states_field_defaults_and_choices():
    actions = _actions_by_dest(_run_parser())
    assert "(default: standard)" in actions["method"].help
    assert "(default: mnist-5k)" in actions["dataset"].help
    assert "(default: 0.001)" in actions["lr"].help
    assert tuple(actions["optimizer"].choices) == ("adam", "sgd")
    assert "--no-flush-denormal" in actions["flush_denormal"].option_strings


@dataclass(frozen=True)
class _Extended(RunConfig):
    workers: int = _setting(1, "HOGWILD worker threads", id_omits_default=True)
    lazy: bool = _setting(False, "lazy updates", id_omits_default=True)
    implementation: str = _setting("paper", "implementation", choices=("paper", "tuned"),
                                   id_omits_default=True)


def _extended_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(exit_on_error=False)
    add_config_arguments(p, _Extended)
    return p


def test_a_new_field_gets_its_flag_help_and_forms_automatically():
    p = _extended_parser()
    actions = _actions_by_dest(p)
    assert "(default: 1)" in actions["workers"].help
    assert "--no-lazy" in actions["lazy"].option_strings
    args = p.parse_args(["--workers", "4", "--no-lazy", "--implementation", "tuned"])
    assert given_fields(args, _Extended) == {"workers": 4, "lazy": False,
                                             "implementation": "tuned"}
    assert given_fields(p.parse_args([]), _Extended) == {}
    with pytest.raises(argparse.ArgumentError, match="invalid choice"):
        p.parse_args(["--implementation", "fast"])


def test_a_new_field_at_its_default_keeps_the_run_id():
    assert _Extended().run_id == RunConfig().run_id
    assert _Extended(method="dropout", seed=3).run_id == RunConfig(method="dropout",
                                                                   seed=3).run_id
    assert _Extended(workers=4).run_id != RunConfig().run_id
    assert _Extended(implementation="tuned").run_id != _Extended(workers=4).run_id


# Run ids of existing configs, as profkit 0.1.0 published them: finished runs in users'
# results directories are found (and skipped by sweeps) only while these stay the same.
PUBLISHED_IDS = {
    "default": "standard-mnist-5k-h3-w1000-b20-25b8590ace-r0",
    "dropout-set": "dropout-mnist-5k-h3-w1000-b20-74baed4207-r0",
    "standard": "standard-mnist-h3-w1000-b1-03d29d830d-r0",
    "dropout": "dropout-mnist-h3-w1000-b1-59f1ad2fca-r0",
    "adaptive-dropout": "adaptive-dropout-mnist-h3-w1000-b1-dc79a29224-r0",
    "mc-approx": "mc-approx-mnist-h3-w1000-b20-70f1e161db-r0",
    "alsh-approx": "alsh-approx-mnist-h3-w1000-b1-6f815970c7-r0",
    "mc-sgd": "mc-approx-fashion-mnist-h3-w1000-b1-4f158145d2-r0",
}


def test_run_ids_of_existing_configs_do_not_change():
    # 0.1.0's configs left threads to torch (threads=None, as their run.json records it);
    # from_dict of such a run.json gives the same config, so its id stands
    ids = {"default": RunConfig(threads=None).run_id,
           "dropout-set": RunConfig(method="dropout", threads=2, max_steps=10, seed=3,
                                    flush_denormal=True, method_params={"p": 0.1}).run_id,
           "mc-sgd": paper_config("mc-approx", "fashion-mnist", batch_size=1,
                                  optimizer="sgd", threads=None).run_id}
    ids.update({m: paper_config(m, threads=None).run_id for m in METHODS})
    assert ids == PUBLISHED_IDS
    recorded = RunConfig(threads=None).to_dict()
    assert RunConfig.from_dict(recorded).run_id == PUBLISHED_IDS["default"]


def test_timing_runs_default_to_one_thread_everywhere(tmp_path):
    # run, the API and presets: one fixed thread count, so ratios between runs are comparable
    assert RunConfig().threads == 1 == paper_config("standard").threads == _cfg().threads
    assert RunConfig().run_id == RunConfig(threads=1).run_id != RunConfig(threads=None).run_id
    threads_help = next(a.help for a in _run_parser()._actions if a.dest == "threads")
    assert threads_help.endswith("(default: 1)")
    # sweeps: both executors leave the default alone, so a sweep's runs get threads=1 too
    from profkit.sweep import EXECUTORS, load_spec, plan

    spec = load_spec(Path(__file__).parent.parent / "sweeps" / "small.toml")
    for ex in EXECUTORS.values():
        assert {c.threads for c in plan(spec, tmp_path, ex.config_defaults)} == {1}
    assert {c.threads for c in plan(spec.with_overrides({"threads": 2}), tmp_path)} == {2}


def _cfg(*argv: str) -> RunConfig:
    return config_from_args(_run_parser().parse_args(list(argv)))


def test_flags_build_the_config_they_name(tmp_path):
    cfg = _cfg("--method", "dropout", "--param", "p=0.1", "--threads", "2", "--flush-denormal",
               "--max-steps", "7", "--lr", "0.01", "--results", str(tmp_path))
    assert cfg == RunConfig(method="dropout", method_params={"p": 0.1}, threads=2,
                            flush_denormal=True, max_steps=7, lr=0.01)
    assert cfg.results == str(tmp_path)
    assert _cfg() == RunConfig()


def test_paper_preset_values_stand_unless_a_flag_is_given():
    assert _cfg("--preset", "paper", "--method", "mc-approx") == paper_config("mc-approx")
    cfg = _cfg("--preset", "paper", "--method", "dropout", "--param", "p=0.5", "--epochs", "2")
    assert cfg == paper_config("dropout", epochs=2, method_params={"p": 0.5, "impl": "gather"})


def test_list_methods_and_datasets(capsys, monkeypatch, tmp_path):
    # a data dir of its own: no platform cache look-up (pooch's logger would keep this
    # test's captured stderr for later tests)
    monkeypatch.setenv("PROFKIT_DATA", str(tmp_path))
    with pytest.raises(SystemExit) as e:
        cli(["run", "--list-methods"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and all(m in out for m in METHODS)
    assert "sample_ratio=0.9" in out  # parameters with their defaults
    with pytest.raises(SystemExit):
        cli(["run", "--list-datasets"])
    assert "fashion-mnist" in capsys.readouterr().out


def test_a_bad_value_is_one_line_naming_the_valid_ones(capsys):
    assert cli(["run", "--method", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'nope'" in err and "alsh-approx" in err and "Traceback" not in err


def test_exit_codes_by_status():
    assert [exit_code(s) for s in ("complete", "diverged", "interrupted", "failed", "?")] == \
        [0, 3, 130, 1, 1]
