"""The claims table on the report's first screen and the runtime section's ratio table:
rendered through the report's own template, escaped, verdicts marked, evidence linked."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from claims_frames import computed, final, phase_table, timing
from profkit.analyses import report
from profkit.analyses.claim_verdicts import COLUMNS
from profkit.analyses.claims import load_registry
from profkit.analyses.sections import Section
from profkit.analyses.sections import claims as s_claims

HEAD = dict(cpu="cpu", cores=2, host="host", torch="2", threads=1, settings=[],
            missing_methods=[])
HOSTILE = '<script>alert("x")</script>'


def page(first: list[Section], sections: list[Section] = ()) -> str:
    return report.environment().get_template("report.html").render(
        title="t", head=HEAD, first=first, sections=list(sections),
        results={"text": "r", "href": None}, generated="now", tolerance=2.0, generator="g",
        generator_info={})


def cells(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in
            re.findall(r"<tr>(.*?)</tr>", html, flags=re.S) if "<td" in r]


def fake_verdicts(monkeypatch, rows: list[dict]) -> None:
    frame = pd.DataFrame([{k: r.get(k, "") for k in COLUMNS} for r in rows], columns=COLUMNS)
    monkeypatch.setattr(s_claims, "judge_claims", lambda c: frame)


def test_every_claim_has_a_row_and_sections_are_grouped():
    c = computed(final(dict(method="standard", test=0.96)),
                 phase_table(timing("standard", (1.0, 1.01, 0.99)),
                             timing("alsh-approx", (2.2, 2.25, 2.3))))
    html = page([s_claims.build(c)])
    assert len(cells(html)) == len(load_registry().claims)
    for title in ("Table 2: 1 reproduced, 15 missing", "Table 3: 1 reproduced, 11 missing",
                  "Table 4: 9 missing", "§9.1", "§9.4", "§10.4"):
        assert f"<h3>{title}" in html
    row = next(r for r in cells(html) if r[0].startswith("MNIST, Standard S, 3 hidden"))
    assert row[1] == "96.46%" and row[2] == "96.00% (1 run)" and row[3] == "1 of 50"
    assert row[4] == "reproduced"
    assert 'class="v-reproduced"' in html and 'class="v-missing"' in html


def test_cells_are_escaped_and_verdicts_marked(monkeypatch):
    fake_verdicts(monkeypatch, [
        dict(section="Table 2", statement=HOSTILE, paper="1%", measured="2%", epochs="1 of 50",
             verdict="explained", cause="because <b>", variant="--param as_published=true",
             anchor="accuracy"),
        dict(section="§9.4", statement="s", verdict="not reproduced", anchor="memory")])
    html = page([s_claims.build(None)])
    assert "<script" not in html and "&lt;script&gt;" in html and "because &lt;b&gt;" in html
    assert '<td class="v-explained">explained</td>' in html
    assert '<td class="v-not-reproduced">not reproduced</td>' in html
    assert "(variant: --param as_published=true)" in html
    assert "1 reproduced" not in html and "1 explained, 0 inconclusive, 0 missing" in html


def test_a_results_set_with_no_like_for_like_run_points_to_the_reproduction(monkeypatch):
    fake_verdicts(monkeypatch, [dict(section="Table 2", statement="s", verdict="missing",
                                     anchor="accuracy")])
    assert "profkit reproduce --results DIR" in page([s_claims.build(None)])
    fake_verdicts(monkeypatch, [dict(section="Table 2", statement="s", verdict="missing",
                                     anchor="accuracy"),
                                dict(section="§9.4", statement="s", verdict="not reproduced",
                                     anchor="memory")])
    assert "profkit reproduce --results DIR" not in page([s_claims.build(None)])


def test_evidence_links_point_at_sections_of_the_page(monkeypatch):
    anchors = ["accuracy", "runtime", "memory", "decision"]
    fake_verdicts(monkeypatch, [dict(section="x", statement=a, verdict="missing", anchor=a)
                                for a in anchors])
    html = page([s_claims.build(None)], [Section(a, a) for a in anchors])
    claims = html[html.index('<section id="claims">'):]
    links = re.findall(r'<a href="#([^"]+)">', claims[:claims.index("</section>")])
    assert links == anchors
    assert all(f'<section id="{a}">' in html for a in links)


def test_runtime_section_shows_every_published_ratio_beside_the_paper():
    c = computed(phases=phase_table(timing("standard", (1.0, 1.01, 0.99)),
                                    timing("alsh-approx", (2.2, 2.25, 2.3))))
    sec = Section("runtime", "Runtime")
    s_claims.runtime_ratios(c, sec)
    rows = cells(page([], [sec]))
    assert len(rows) == 12 + 9  # Tables 3 and 4, each method but Standard, three phases
    alsh = next(r for r in rows if r[1] == "ALSH-approx S" and r[2] == "epoch time")
    assert alsh[0] == "Table 3" and alsh[3] == "2.23x"
    assert re.fullmatch(r"2\.25x \[2\.\d\d, 2\.\d\d\]", alsh[4]) and alsh[5] == "reproduced"
    mc = next(r for r in rows if r[1] == "MC-approx M" and r[2] == "backpropagation time")
    assert mc[3] == "0.49x" and mc[5] == "missing"
    assert alsh[7] == "—" and mc[7] == "—"  # no tuned runs: nothing beside


def test_runtime_ratios_show_the_tuned_implementation_beside_and_never_judge_it():
    tuned = dict(implementation="tuned", optimizer_impl="default", flush_denormal=True)
    c = computed(phases=phase_table(
        timing("standard", (1.0, 1.01, 0.99)), timing("alsh-approx", (2.2, 2.25, 2.3)),
        timing("standard", (1.0, 1.02, 0.98), **tuned),
        timing("alsh-approx", (0.30, 0.31, 0.29), **tuned),
        timing("mc-approx", (0.9, 0.91), **tuned)))  # 2 repeats: too few, said so
    sec = Section("runtime", "Runtime")
    s_claims.runtime_ratios(c, sec)
    rows = cells(page([], [sec]))
    alsh = next(r for r in rows if r[1] == "ALSH-approx S" and r[2] == "epoch time")
    assert alsh[5] == "reproduced"  # judged on the paper implementation's 2.25x
    assert re.fullmatch(r"0\.30x \[0\.\d\d, 0\.\d\d\]", alsh[7])
    mc = next(r for r in rows if r[1] == "MC-approx S" and r[2] == "epoch time")
    assert mc[5] == "missing" and mc[7].startswith("— (too few repeats: 2 of MC-approx")


@pytest.mark.parametrize("verdict", ["reproduced", "not reproduced", "explained", "inconclusive",
                                     "missing"])
def test_every_verdict_kind_has_a_style(verdict):
    css = report.TEMPLATES.joinpath("report.html").read_text()
    assert f"td.v-{verdict.replace(' ', '-')}" in css
