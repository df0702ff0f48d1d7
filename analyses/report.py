"""The HTML report: one self-contained offline page (inline CSS and PNG figures, no URL at all)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import jinja2
from profkit.analyses import provenance
from profkit.analyses.computed import Computed, compute
from profkit.analyses.decision import DEFAULT_TOLERANCE_PCT
from profkit.analyses.markup import safe_href
from profkit.analyses.results import Results, load_results
from profkit.analyses.sections import Section, overview
from profkit.analyses.sections import accuracy as s_accuracy
from profkit.analyses.sections import alsh as s_alsh
from profkit.analyses.sections import claims as s_claims
from profkit.analyses.sections import decision as s_decision
from profkit.analyses.sections import errorprop as s_errorprop
from profkit.analyses.sections import memory as s_memory
from profkit.analyses.sections import paper as s_paper
from profkit.analyses.sections import runtime as s_runtime
from profkit.analyses.sections import verdicts as s_verdicts

TEMPLATES = Path(__file__).parent / "templates"

# The page's sections, in order: the one place to add, drop or move a section. FIRST ones
# fill the first screen (the answers): the per-claim verdicts, then who is fastest per leaf.
FIRST = ("claims", "verdicts")
SECTIONS: dict[str, Callable[[Computed], Section]] = {
    "claims": s_claims.build,
    "verdicts": s_verdicts.build,
    "summary": overview.summary,
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


def build_sections(c: Computed, out_path: Path | None,
                   say: Callable[[str], None] | None = None) -> list[Section]:
    secs = []
    for i, (sid, build) in enumerate(SECTIONS.items(), 1):
        if say:
            say(f"section {i}/{len(SECTIONS) + 1}: {sid}")
        secs.append(build(c))
    secs.append(overview.raw_data(c, out_path))
    return secs


def environment() -> jinja2.Environment:
    """The page's template environment: everything from data is escaped; only Markup that
    profkit built (tables) passes as is."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["safe_href"] = safe_href
    return env


def render(c: Computed, out_path: Path | None = None, title: str | None = None,
           say: Callable[[str], None] | None = None) -> str:
    """The report's HTML text; `say` is told each step (progress)."""
    env = environment()
    secs = build_sections(c, out_path, say)
    gen = provenance.generator()
    return env.get_template("report.html").render(
        title=title or "profkit report", head=overview.first_screen(c),
        first=[s for s in secs if s.id in FIRST],
        sections=[s for s in secs if s.id not in FIRST],
        results=overview.results_link(c, out_path),
        generated=time.strftime("%Y-%m-%d %H:%M:%S %z"), tolerance=c.tolerance_pct,
        generator=provenance.generator_text(gen), generator_info=gen)


def write_report(results: str | Path | Results, out_path: str | Path,
                 tolerance_pct: float = DEFAULT_TOLERANCE_PCT, title: str | None = None,
                 progress: bool = False) -> Path:
    """Load `results` (a directory or a Results), compute everything, write the page.
    `progress` prints each step with the seconds since the start to stderr."""
    if Path(out_path).is_dir():  # before any work; a rename onto it would fail at the end
        raise IsADirectoryError(f"{out_path} is a directory; give the report a file name, "
                                f"e.g. -o {Path(out_path) / 'report.html'}")
    say = Progress() if progress else None
    if say:
        say("loading results")
    res = results if isinstance(results, Results) else load_results(results)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if say:
        say(f"computing analyses of {len(res.runs)} runs")
    html = render(compute(res, tolerance_pct), out, title, say)
    if say:
        say(f"writing {out}")
    tmp = out.with_suffix(out.suffix + ".tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # gone after the rename; never left behind after a failure
    return out


class Progress:
    """Prints 'report [12.3 s] message' lines to stderr: the report's steps as they start."""

    def __init__(self, stream=None):
        self.stream, self.t0 = stream or sys.stderr, time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"report [{time.perf_counter() - self.t0:5.1f} s] {message}", file=self.stream,
              flush=True)
