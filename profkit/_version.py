"""profkit's version, declared once: pyproject.toml reads it, run.json records it."""

__version__ = "0.1.0"
