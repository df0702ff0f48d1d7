"""The HTML report: one self-contained offline page (inline CSS and PNG figures, no URL at all)."""

from __future__ import annotations

import time
from pathlib import Path

import jinja2
from profkit.analyses.computed import Computed, compute
from profkit.analyses.decision import DEFAULT_TOLERANCE_PCT
from profkit.analyses.markup import safe_href
from profkit.analyses.results import Results, load_results
from profkit.analyses.sections import Section, overview
from profkit.analyses.sections import accuracy as s_accuracy
from profkit.analyses.sections import alsh as s_alsh
from profkit.analyses.sections import decision as s_decision
from profkit.analyses.sections import errorprop as s_errorprop
from profkit.analyses.sections import memory as s_memory
from profkit.analyses.sections import paper as s_paper
from profkit.analyses.sections import runtime as s_runtime

TEMPLATES = Path(__file__).parent / "templates"

# section id -> builder(Computed) -> Section, in page order (after the summary)
SECTIONS = {
    "runtime": s_runtime.build,
    "accuracy": s_accuracy.build,
    "memory": s_memory.build,
    "decision": s_decision.build,
    "paper": s_paper.build,
    "errorprop": s_errorprop.build,
    "alsh": s_alsh.build,
    "warnings": overview.warnings,
    "environment": overview.environment_section,
}


def build_sections(c: Computed, out_path: Path | None) -> list[Section]:
    secs = [overview.summary(c)]
    for build in SECTIONS.values():
        secs.append(build(c))
    secs.append(overview.raw_data(c, out_path))
    return secs


def render(c: Computed, out_path: Path | None = None, title: str | None = None) -> str:
    """The report's HTML text."""
    # everything from data is escaped; only Markup that profkit built (tables) passes as is
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["safe_href"] = safe_href
    results_dir = (overview._rel(str(c.results.path), out_path) if c.results.path else "")
    return env.get_template("report.html").render(
        title=title or "profkit report", head=overview.first_screen(c),
        sections=build_sections(c, out_path), results_dir=results_dir,
        generated=time.strftime("%Y-%m-%d %H:%M:%S %z"), tolerance=c.tolerance_pct)


def write_report(results: str | Path | Results, out_path: str | Path,
                 tolerance_pct: float = DEFAULT_TOLERANCE_PCT, title: str | None = None) -> Path:
    """Load `results` (a directory or a Results), compute everything, write the page."""
    res = results if isinstance(results, Results) else load_results(results)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render(compute(res, tolerance_pct), out, title)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
