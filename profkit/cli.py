"""The `profkit` command: a registry of subcommands, one module each under profkit/commands.

Command modules import only argparse-level things at the top and the heavy libraries (torch,
pandas) inside main(), so that `profkit --help`, `profkit CMD --help` and input errors return at
once (tests/test_cli.py checks it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from profkit._version import __version__
from profkit.exitcodes import SIGPIPE_EXIT, USAGE

# name -> module under profkit.commands with add_arguments(parser) and main(args) -> int
COMMANDS: dict[str, str] = {
    "run": "run",
    "datasets": "datasets",
    "env": "env",
    "report": "report",
    "compare": "compare",
    "demo": "demo",
    "sweep": "sweep",
    "reproduce": "reproduce",
    "errorprop": "errorprop",
    "compact": "compact",
}

# Exceptions that are the user's input, printed as one clear line instead of a traceback,
# by the module that defines them. Only modules already imported can have raised one, so
# the check imports nothing.
USER_ERRORS = {
    "profkit.attempts": ("RunInProgressError",),
    "profkit.config": ("ConfigError",),
    "profkit.data.errors": ("DataFileError", "DatasetUnavailableError", "UnknownDatasetError"),
    "profkit.methods": ("UnknownMethodError",),
    "profkit.probes": ("ProbeError",),
    "profkit.store": ("OutputDirError",),
    "profkit.validation": ("ConfigError",),
}


def _user_errors() -> tuple[type[BaseException], ...]:
    found = [getattr(sys.modules[mod], name) for mod, names in USER_ERRORS.items()
             if mod in sys.modules for name in names]
    return (*found, FileNotFoundError, IsADirectoryError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profkit", description=__doc__.split(":")[0])
    parser.add_argument("--version", action="version", version=f"profkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"profkit.commands.{module}")
        p = sub.add_parser(name, help=mod.__doc__.strip().splitlines()[0],
                           description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `profkit`: say what there is
        parser.print_help()
        return 0
    try:
        return int(args._main(args) or 0)
    except BrokenPipeError:
        # the reader went away (`profkit env | head`): stop quietly, as other Unix tools do;
        # point stdout at /dev/null so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    except Exception as e:
        if not isinstance(e, _user_errors()):
            raise
        print(f"profkit {args.command}: error: {e}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
