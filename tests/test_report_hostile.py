"""Hostile strings in run.json fields and directory names never become live HTML in a report."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from profkit.analyses.markup import safe_href
from profkit.analyses.report import write_report
from profkit.analyses.tables import html_table

import profkit

HOSTILE = ['<script>alert("s")</script>', '"><img src=x onerror=alert(1)>',
           "javascript:alert(1)", "'quoted' \"dq\" {{ 7*7 }} {% raw %}"]
SCRIPT, IMG, JS, MIXED = HOSTILE


class Page(HTMLParser):
    """Elements, attributes and text of a page, as a browser would see them."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    return p


def assert_inert(page: Page) -> None:
    assert "script" not in page.tags
    assert not [a for a in page.attrs if a[1].lower().startswith("on")]
    hrefs = [v for t, k, v in page.attrs if k in ("href", "src")]
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript")]
    # only the figures' inline PNGs and in-page or ./relative links
    assert all(h.startswith(("#", "./", "data:image/png;base64,")) for h in hrefs), hrefs


def _poison(run_dir: Path, tag: str) -> Path:
    """Hostile strings in every free-text field of run.json; the directory renamed to one."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta["run_id"] = f"{SCRIPT}{tag}"
    meta["config"]["dataset"] = SCRIPT
    meta["config"]["method_params"] = {"p": 0.5, "evil": IMG} if tag == "b" else {"evil": MIXED}
    meta["config"]["optimizer_impl"] = IMG
    meta["warnings"] = list(HOSTILE)
    meta["error"] = IMG
    env = meta["environment"]
    for k in ("cpu_model", "hostname", "torch_version", "platform", "python", "torch_blas"):
        env[k] = f"{HOSTILE[len(k) % 4]}"
    env["cpu_caches"] = {IMG: SCRIPT}
    meta["dataset"]["name"] = SCRIPT
    (run_dir / "run.json").write_text(json.dumps(meta))
    return run_dir.rename(run_dir.parent / f"{IMG}{tag}")


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("h")
    root = base / JS
    for tag, method in (("a", "standard"), ("b", "dropout")):
        cfg = profkit.RunConfig(method=method, dataset="digits", hidden_layers=1, width=8,
                                batch_size=20, epochs=1, max_steps=6, warmup_steps=1,
                                results=str(base / "clean"))
        d = Path(profkit.run(cfg, progress=False).path)
        root.mkdir(exist_ok=True)
        _poison(Path(shutil.move(d, root / d.name)), tag)
    return root


@pytest.fixture(scope="module")
def hostile_page(hostile_results, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("out") / "r.html"
    write_report(hostile_results, out)
    return out.read_text()


def test_hostile_run_json_and_directory_names_stay_inert(hostile_page):
    assert_inert(parse(hostile_page))


def test_hostile_strings_are_shown_as_text_not_dropped(hostile_page):
    text = "".join(parse(hostile_page).text)
    assert SCRIPT in text and IMG in text  # escaped, so the reader sees them literally
    assert "{{ 7*7 }}" in text  # data is never evaluated as a template


def test_results_link_is_relative_and_quoted(hostile_page):
    hrefs = [v for t, k, v in parse(hostile_page).attrs if k == "href" and not v.startswith("#")]
    assert hrefs and all(h.startswith("./") and ":" not in h and "<" not in h for h in hrefs)


def test_safe_href_never_keeps_a_scheme():
    assert safe_href("javascript:alert(1)") == "./javascript%3Aalert%281%29"
    assert safe_href("../results/run a") == "./../results/run%20a"
    assert safe_href('"><x>') == "./%22%3E%3Cx%3E"
    assert safe_href("/abs/path") == "./abs/path"


def test_table_cells_and_notes_are_escaped():
    df = pd.DataFrame({"a": [SCRIPT], "b": [IMG]})
    out = str(html_table(df, {"a": SCRIPT, "b": "b"}, note=f"All rows: x = {IMG}"))
    p = parse(out)
    assert p.tags.count("table") == 1 and "script" not in p.tags and "img" not in p.tags
    assert SCRIPT in "".join(p.text) and IMG in "".join(p.text)
