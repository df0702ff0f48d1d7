"""Exit codes of profkit's commands: one mapping from a run's status, shared by every caller."""

from __future__ import annotations

OK = 0
FAILED = 1  # a run failed (an exception in training), or an unknown status
USAGE = 2  # the user's input is wrong; the message says what and the fix (argparse uses 2 too)
DIVERGED = 3  # the run diverged (train.py: the divergence rule); it stopped and kept its results
INTERRUPTED = 130  # SIGINT/SIGTERM: 128 + SIGINT, as shells report Ctrl-C
SIGPIPE_EXIT = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as shells report

BY_STATUS = {"complete": OK, "diverged": DIVERGED, "interrupted": INTERRUPTED}


def exit_code(status: str) -> int:
    """The process exit code for a run that ended with `status` (run.json's "status")."""
    return BY_STATUS.get(status, FAILED)
