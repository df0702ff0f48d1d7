"""torch's process-wide settings are the run's during a run and restored after it."""

import torch

from profkit.train import _flushing_denormals, run, torch_settings


def test_settings_apply_inside_and_restore_after():
    before = (torch.get_num_threads(), _flushing_denormals())
    with torch_settings(1, not before[1]) as threads:
        assert threads == 1 == torch.get_num_threads()
        assert _flushing_denormals() is (not before[1])
    assert (torch.get_num_threads(), _flushing_denormals()) == before


def test_settings_restore_after_an_exception():
    before = (torch.get_num_threads(), _flushing_denormals())
    try:
        with torch_settings(1, True):
            raise RuntimeError("training failed")
    except RuntimeError:
        pass
    assert (torch.get_num_threads(), _flushing_denormals()) == before


def test_a_run_leaves_the_process_as_it_found_it(tiny_cfg):
    before = (torch.get_num_threads(), _flushing_denormals())
    result = run(tiny_cfg(threads=1, flush_denormal=True, max_steps=3), progress=False)
    assert result.status == "complete"
    assert (torch.get_num_threads(), _flushing_denormals()) == before
