"""The paper's evaluation as pure DataFrame -> DataFrame analyses, their figures, the HTML report.

Analyses never import torch (invariant I6 of docs/architecture.md): they read what
`profkit.load` returns.
Entry points: `load_results(path)` -> Results; `computed.compute(results)` runs every analysis
once; the modules runtime, accuracy, memory, caches, decision and paper hold the analyses;
figures/ draws them; `report.write_report(results, out_path)` writes the page.
"""

from profkit.analyses.results import Results, load_results

__all__ = ["Results", "load_results"]
