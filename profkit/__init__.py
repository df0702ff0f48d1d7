"""profkit: profile and analyse sampling-based training of neural networks on CPUs."""

__version__ = "0.1.0"

from profkit.config import ConfigError, RunConfig, paper_config  # noqa: E402
from profkit.store import load  # noqa: E402


def run(cfg: "RunConfig", **kwargs):
    """Train one run and write its directory; see profkit.train.run."""
    from profkit.train import run as _run

    return _run(cfg, **kwargs)


__all__ = ["ConfigError", "RunConfig", "__version__", "load", "paper_config", "run"]
