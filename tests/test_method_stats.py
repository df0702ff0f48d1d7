"""method_stats rows: every method builds them with stat_row, so they match the schema."""

from profkit import schema
from profkit.methods import METHODS
from profkit.train import run


def test_every_method_reports_rows_with_the_schema_columns(tiny_cfg):
    """on_epoch_end rows come from stat_row: the method_stats columns less `epoch`."""
    from profkit.store import load

    cols = set(schema.table("method_stats").column_names) - {"epoch"}
    for name in METHODS:
        cfg = tiny_cfg(method=name, max_steps=3)
        run(cfg, progress=False)
    stats = load(cfg.results)["method_stats"]
    assert set(stats.columns) - {"run_id"} == cols | {"epoch"}
    reporting = {"dropout", "adaptive-dropout", "mc-approx", "alsh-approx"}
    runs = load(cfg.results)["runs"].set_index("run_id")["method"]
    assert set(runs.loc[stats.run_id.unique()]) == reporting
