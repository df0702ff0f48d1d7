"""Print the claims table of a results directory as Markdown, for docs/reproduction.md.

    .venv/bin/python scripts/claims_markdown.py reports/reproduction-data [REPORT_HREF]

The rows are `Analysis(results).claims()`, the same table as the report's first screen; the
evidence column links to the report's section (REPORT_HREF, default
../reports/reproduction.html). Regenerate the docs table with this after regenerating the
report, so the two never disagree.
"""

from __future__ import annotations

import sys
import warnings


def _cell(x: object) -> str:
    text = "" if x is None or x != x else str(x)  # NaN is not equal to itself
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from profkit.analyses import Analysis
    href = argv[1] if len(argv) > 1 else "../reports/reproduction.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped runs are the report's to list
        claims = Analysis(argv[0]).claims()
    print("| claim | configuration | paper | measured | epochs | verdict | cause / variant "
          "| evidence |")
    print("|---|---|---|---|---|---|---|---|")
    for r in claims.itertuples():
        why = _cell(r.cause) + (f" (variant: `{r.variant}`)" if r.variant else "")
        cells = [r.id, r.config, r.paper, r.measured, r.epochs, f"**{r.verdict}**", why,
                 f"[{r.anchor}]({href}#{r.anchor})"]
        print("| " + " | ".join(_cell(c) if i != 6 else c for i, c in enumerate(cells)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
