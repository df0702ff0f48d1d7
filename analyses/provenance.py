"""Provenance: which profkit (version, git commit, uncommitted changes) wrote a report, and
which paths a report may link to."""

from __future__ import annotations

import subprocess
from pathlib import Path

from profkit import _version

SOURCE = Path(_version.__file__).resolve().parent.parent


def _git(*args: str, cwd: Path = SOURCE) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None


def generator() -> dict:
    """profkit's version, the commit of its source tree (None outside a git checkout) and
    whether tracked files differ from that commit."""
    head = _git("rev-parse", "HEAD")
    commit = head.stdout.strip() if head is not None and head.returncode == 0 else None
    dirty = None
    if commit:
        st = _git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(st.stdout.strip()) if st is not None and st.returncode == 0 else None
    return {"version": _version.__version__, "commit": commit, "dirty": dirty}


def generator_text(g: dict) -> str:
    commit = g["commit"][:12] if g["commit"] else "no git commit (not a git checkout)"
    dirty = {True: " with uncommitted changes", False: "", None: ""}[g["dirty"]]
    return f"profkit {g['version']}, commit {commit}{dirty}"


def linkable(path: Path) -> bool:
    """Whether a link to `path` keeps working where the report goes: the file exists and git
    does not ignore it (an ignored results/ directory is absent from every clone)."""
    if not path.exists():
        return False
    r = _git("check-ignore", "-q", str(path.resolve()), cwd=path.resolve().parent)
    return not (r is not None and r.returncode == 0)
