"""The installed package list in pyproject.toml names every package folder on disk."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _on_disk() -> set[str]:
    found = set()
    for top, name in (("profkit", "profkit"), ("analyses", "profkit.analyses")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    return found


def test_pyproject_lists_every_package():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(cfg["packages"]) == _on_disk()
    assert cfg["package-dir"] == {"profkit.analyses": "analyses"}


def test_analyses_is_not_a_top_level_module(tmp_path):
    # A user's own analyses/ folder must not shadow profkit's, nor the other way round.
    import profkit.analyses

    assert Path(profkit.analyses.__file__).parent == ROOT / "analyses"
