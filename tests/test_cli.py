"""The `profkit` command: help and input errors import no heavy library; bare call; --version."""

from __future__ import annotations

import subprocess
import sys

import pytest

import profkit
from profkit.cli import COMMANDS
from profkit.cli import main as cli

HEAVY = ("torch", "pandas", "pyarrow", "numpy", "dask", "seaborn")


def _imported_after(code: str) -> list[str]:
    """Heavy modules in sys.modules after running `code` in a fresh interpreter."""
    probe = (f"{code}\nimport sys\n"
             f"print('HEAVY:', *(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    last = out.stdout.splitlines()[-1]  # after whatever the command printed
    assert last.startswith("HEAVY:")
    return last.split()[1:]


def test_building_the_parser_imports_no_heavy_library():
    assert _imported_after("import profkit.cli\nprofkit.cli.build_parser()") == []


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["run", "--hidden-layers", "0"],
                                  ["errorprop", "--samples", "0"], ["errorprop", "--depths", ""],
                                  ["run", "--method", "nope"], ["demo", "--methods", "nope"],
                                  ["errorprop", "--methods", "nope"],
                                  *[[c, "--help"] for c in COMMANDS]])
def test_help_and_config_errors_import_no_heavy_library(argv):
    code = (f"from profkit.cli import main\ntry:\n    main({argv!r})\n"
            "except SystemExit:\n    pass")
    assert _imported_after(code) == []


def test_a_config_error_is_one_line_and_exit_2(capsys):
    assert cli(["run", "--hidden-layers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "profkit run: error: hidden_layers must be in [1, 50], got 0"


def test_bare_profkit_prints_help(capsys):
    assert cli([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: profkit") and all(c in out for c in COMMANDS)


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli(["--version"])
    assert e.value.code == 0 and profkit.__version__ in capsys.readouterr().out


def test_examples_keep_their_lines_in_help(capsys):
    with pytest.raises(SystemExit):
        cli(["datasets", "--help"])
    out = capsys.readouterr().out
    assert "\n  profkit datasets list\n  profkit datasets info NAME\n" in out


def test_unknown_executor_names_the_valid_ones(capsys, tmp_path):
    assert cli(["sweep", "sweeps/small.toml", "--results", str(tmp_path), "--executor",
                "threads", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "unknown executor 'threads'" in err and "inprocess" in err and "dask" in err


def test_lazy_load_attribute():
    from profkit.store import load

    assert profkit.load is load
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        profkit.nope  # noqa: B018


def test_a_reader_that_goes_away_ends_the_command_quietly():
    # `profkit env | head -1`: here the reader closes the pipe before anything is written, so
    # the first write meets a closed pipe; no BrokenPipeError traceback, the shell's 141
    p = subprocess.Popen([sys.executable, "-m", "profkit", "env"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
