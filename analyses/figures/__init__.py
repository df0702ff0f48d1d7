"""Figures drawn from analysis outputs (matplotlib, Agg); each returns a Figure or None if empty."""
