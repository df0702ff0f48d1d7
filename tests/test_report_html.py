"""The HTML report end to end: real runs -> `profkit report` -> parsed page -> headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

import profkit
from profkit.cli import main as cli

SECTIONS = ("first-screen", "claims", "verdicts", "summary", "runtime", "accuracy", "memory",
            "decision", "paper", "errorprop", "warnings", "environment", "raw", "footer")
CHROMIUM = shutil.which("chromium")


class Page(HTMLParser):
    """Collects ids, img sources, every href/src, and the text of style elements."""

    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.links, self.styles, self._in_style = set(), [], [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def results(report_results) -> Path:
    return report_results


@pytest.fixture(scope="module")
def report(results, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports") / "r.html"
    assert cli(["report", str(results), "-o", str(out)]) == 0
    return out


def test_report_says_each_step_as_it_goes(results, tmp_path, capsys):
    assert cli(["report", str(results), "-o", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    steps = [ln for ln in err.splitlines() if ln.startswith("report [")]
    assert "loading results" in steps[0] and "writing" in steps[-1]
    assert sum("section" in ln for ln in steps) >= 10


@pytest.fixture(scope="module")
def page(report) -> Page:
    p = Page()
    p.feed(report.read_text())
    return p


def test_every_section_is_present(page):
    assert set(SECTIONS) <= page.ids


def test_figures_are_inline_pngs(page):
    assert len(page.imgs) >= 8  # phases, Fig 8, 9, 10-11, 4-6, 7, 3, 13, tree, theory
    for src in page.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_loads_nothing_from_the_network(page, report):
    text = report.read_text()
    assert not [u for u in page.links if re.match(r"\s*(https?:)?//", u)]
    assert "@import" not in text and not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert not re.search(r"<(script|link|iframe)\b", text)


def test_first_screen_names_machine_and_settings(report, results):
    meta = next(results.rglob("run.json")).read_text()
    text = report.read_text()
    first = text[text.index('id="first-screen"'):text.index("<nav>")]
    cpu = re.search(r'"cpu_model": "([^"]*)"', meta).group(1)
    assert cpu in first and "mnist-5k" in first and "torch" in first
    # methods not run are named
    assert "Methods of the paper with no runs here" in first and "Adaptive-Dropout" in first


def test_verdicts_come_first_one_row_per_setting_and_depth_band(report):
    text = report.read_text()
    first = text[text.index('id="first-screen"'):text.index("<nav>")]
    assert first.index('id="claims"') < first.index('id="verdicts"') < first.index("Measured on")
    verdicts = first[first.index('id="verdicts"'):]
    rows = re.findall(r"<tr>(.*?)</tr>", verdicts[verdicts.index("<tbody>"):])
    assert len(rows) == 4  # S and M x shallow and deep
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert {c[0] for c in cells} == {"S (batch 1)", "M (batch 20)"}
    assert all(c[-2] in ("yes", "no", "cannot tell") for c in cells)


def test_booleans_read_yes_no(report):
    cells = re.findall(r"<td[^>]*>(.*?)</td>", report.read_text())
    assert "yes" in cells or "no" in cells
    assert not {"True", "False"} & set(cells)


def test_footer_names_the_profkit_that_wrote_it(report):
    from profkit.analyses import provenance

    footer = report.read_text().split('<footer id="footer">')[1]
    g = provenance.generator()
    assert f"profkit {profkit.__version__}" in footer
    if g["commit"]:
        assert g["commit"][:12] in footer
        assert ("uncommitted changes" in footer) == bool(g["dirty"])


def test_links_point_only_at_files_that_exist(page, report):
    rel = [u for u in page.links if not u.startswith(("data:", "#"))]
    assert rel  # run.json of every run, and the results directory
    for u in rel:
        assert (report.parent / unquote(u)).exists(), u


def test_git_ignored_results_are_named_not_linked(tmp_path):
    from profkit.analyses import provenance

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("results/\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "kept").mkdir()
    assert not provenance.linkable(tmp_path / "results")
    assert provenance.linkable(tmp_path / "kept")
    assert not provenance.linkable(tmp_path / "absent")


def test_missing_inputs_are_said_not_hidden(report):
    text = report.read_text()
    assert "no cache-miss counters recorded" in text  # no perf or callgrind probe
    assert "not comparable" in text  # mnist-5k vs MNIST


def test_errorprop_section_shows_the_study_and_names_no_python_function(report):
    sec = report.read_text().split('<section id="errorprop">')[1].split("</section>")[0]
    assert "Measured error by layer beside the theory" in sec  # the study's figure
    assert "Measured per-layer error beside the theory" in sec  # ... and its table
    assert "run_study" not in sec and "no measured error-propagation study" not in sec


def test_raw_data_is_linked_relatively_not_embedded(report, results):
    text = report.read_text()
    assert str(results) not in text  # relative links only, no absolute paths
    assert len(text) < 3_000_000


def test_report_of_missing_dir_is_a_clear_error(tmp_path, capsys):
    assert cli(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli(["report", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html")]) == 2
    assert "no runs" in capsys.readouterr().err


def test_analyses_do_not_import_torch():
    code = ("import pkgutil, importlib, sys, profkit.analyses as a\n"
            "for m in pkgutil.walk_packages(a.__path__, 'profkit.analyses.'):\n"
            "    importlib.import_module(m.name)\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(apt-get install chromium; scripts/setup does it as root)")
def test_headless_chromium_renders_a_screenshot(report, tmp_path):
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1280,2000", report.resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.exists()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a blank page is ~10 kB


WIDTH_PROBE = """<script>window.addEventListener('load', () => {
  const d = document.documentElement, p = document.createElement('pre');
  p.id = 'PAGE_WIDTH'; p.textContent = d.clientWidth + ' ' + d.scrollWidth;
  document.body.appendChild(p); });</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(apt-get install chromium; scripts/setup does it as root)")
def test_the_page_does_not_scroll_sideways_at_1200_px(report, tmp_path):
    # wide tables scroll inside themselves with their key column pinned (issue 14.6)
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", WIDTH_PROBE + "</body>"))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
           "--virtual-time-budget=5000", "--dump-dom", probed.resolve().as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'id="PAGE_WIDTH">(\d+) (\d+)<', dom)
    assert m, "the probe did not run"
    client, scroll = int(m.group(1)), int(m.group(2))
    assert scroll <= client, f"the page is {scroll} px wide in a {client} px window"
