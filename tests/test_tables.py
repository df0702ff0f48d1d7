"""HTML tables: what a cell shows for the value and type it holds."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.tables import html_table


def test_integers_stay_integers_in_an_all_numeric_row():
    df = pd.DataFrame({"k": [1, 2], "ratio": [0.25, 1.5], "missing": [None, 3.0]})
    out = str(html_table(df, {"k": "k", "ratio": "ratio", "missing": "m"}))
    cells = out.split("<tbody>")[1]
    assert "<td>1</td>" in cells and "<td>2</td>" in cells and "1.0" not in cells
    assert "—" in cells  # NA still an em dash
