"""profkit env: BLAS named short, flush-denormal support detected and restored, memory in GiB,
the source commit with a dirty flag."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import torch

from profkit import env
from profkit.cli import main as cli
from profkit.train import _flushing_denormals

MKL_CONFIG = """PyTorch built with:
  - GCC 13.3
  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605 for Intel(R) 64
  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, CXX_FLAGS= -O2 -fPIC, LAPACK_INFO=mkl,
"""
OPENBLAS_CONFIG = """PyTorch built with:
  - GCC 11.2
  - OpenBLAS 0.3.27
  - Build settings: BLAS_INFO=open, BUILD_TYPE=Release, LAPACK_INFO=open, USE_MKL=OFF,
"""


@pytest.mark.parametrize("config,short", [
    (MKL_CONFIG, "MKL 2024.2"),
    (OPENBLAS_CONFIG, "OpenBLAS 0.3.27"),
    (OPENBLAS_CONFIG.replace("  - OpenBLAS 0.3.27\n", ""), "OpenBLAS"),
    ("  - Build settings: BLAS_INFO=blis, BUILD_TYPE=Release,", "BLIS"),
    ("  - Build settings: BUILD_TYPE=Release,", None),
])
def test_blas_is_named_short_from_the_build_config(config, short):
    assert env.blas_short(config) == short


def test_build_settings_line_is_kept_whole_for_verbose_and_json():
    line = env.build_settings(MKL_CONFIG)
    assert line is not None and line.startswith("BLAS_INFO=mkl, BUILD_TYPE=Release")
    assert "LAPACK_INFO=mkl" in line and "Math Kernel" not in line
    assert env.build_settings("PyTorch built with:\n  - GCC 13.3\n") is None


def test_this_torchs_blas_is_short_and_its_build_line_only_in_details():
    short = env.capture()["torch_blas"]
    assert short is not None and "," not in short and "=" not in short and len(short) < 40
    assert "torch_build_settings" not in env.capture()  # run.json stays small
    full = env.capture(details=True)["torch_build_settings"]
    assert full is not None and "BLAS_INFO=" in full


@pytest.mark.parametrize("flushing", [False, True])
def test_flush_denormal_support_is_detected_and_the_setting_restored(flushing):
    before = _flushing_denormals()
    torch.set_flush_denormal(flushing)
    try:
        now = _flushing_denormals()
        supported = env.flush_denormal_supported()
        assert isinstance(supported, bool)
        assert _flushing_denormals() == now  # the process's setting is as it was
        if now:  # torch flushed, so this CPU can
            assert supported
    finally:
        torch.set_flush_denormal(before)


def test_text_shows_memory_in_gib_and_json_in_bytes(capsys):
    assert cli(["env"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("memory "))
    gib = float(re.fullmatch(r"memory +([0-9.]+) GiB", line).group(1))
    assert "BUILD_TYPE" not in out and "torch_build_settings" not in out
    assert cli(["env", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["environment"]
    assert isinstance(info["memory_bytes"], int)
    assert gib == pytest.approx(info["memory_bytes"] / 2**30, abs=0.05)
    assert "BLAS_INFO=" in info["torch_build_settings"]
    assert cli(["env", "--verbose"]) == 0
    assert "BLAS_INFO=" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_commit_is_short_with_a_dirty_flag_and_none_outside_git(tmp_path):
    assert env.git_commit(tmp_path) is None  # not a git checkout

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                        "user.email=t@example.org", *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "one")
    clean = env.git_commit(tmp_path)
    assert clean is not None and re.fullmatch(r"[0-9a-f]{12}", clean)
    (tmp_path / "new.py").write_text("")  # untracked files do not change what runs
    assert env.git_commit(tmp_path) == clean
    (tmp_path / "a.py").write_text("x = 2\n")
    assert env.git_commit(tmp_path) == clean + "+dirty"
