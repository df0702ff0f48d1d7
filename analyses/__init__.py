"""The paper's evaluation as pure DataFrame -> DataFrame analyses, their figures, the HTML report.

Analyses never import torch (invariant I6 of docs/architecture.md): they read what
`profkit.load` returns.
The front door is `Analysis(results_dir)` (analyses/analysis.py): each of its methods returns
a DataFrame, and `report(out_path)` writes the HTML page. Beneath it: `load_results(path)` ->
Results (every table, the study tables too); `computed.compute(results)` runs every analysis
once; the modules runtime, accuracy, memory, caches, decision and paper hold the analyses;
figures/ draws them; `report.write_report(results, out_path)` writes the page.
"""

from profkit.analyses.analysis import Analysis
from profkit.analyses.results import Results, load_results

__all__ = ["Analysis", "Results", "load_results"]
