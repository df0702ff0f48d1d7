"""The paper's evaluation as pure DataFrame -> DataFrame analyses, their figures, the HTML report.

Analyses never import torch (invariant I6): they read what `profkit.load` returns.
Entry points: `load_results(path)` -> Results; the modules runtime, accuracy, memory, caches,
decision and paper hold the analyses; figures/ draws them; report.render_report writes the page.
"""

from profkit.analyses.results import Results, load_results

__all__ = ["Results", "load_results"]
