"""profkit: profile and analyse sampling-based training of neural networks on CPUs."""

from typing import Any

from profkit._version import __version__
from profkit.config import ConfigError, RunConfig, paper_config


def run(cfg: "RunConfig", **kwargs):
    """Train one run and write its directory; see profkit.train.run."""
    from profkit.train import run as _run

    return _run(cfg, **kwargs)


def __getattr__(name: str) -> Any:
    # `load` pulls in pandas and pyarrow: imported on first use, so that `import profkit`
    # (every command's --help and input errors) stays fast.
    if name == "load":
        from profkit.store import load

        return load
    raise AttributeError(f"module 'profkit' has no attribute {name!r}")


__all__ = ["ConfigError", "RunConfig", "__version__", "load", "paper_config", "run"]
