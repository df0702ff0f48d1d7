"""The `profkit` command: a registry of subcommands, one module each under profkit/commands."""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module under profkit.commands with add_arguments(parser) and main(args) -> int
COMMANDS: dict[str, str] = {
    "run": "run",
    "datasets": "datasets",
    "env": "env",
    "report": "report",
    "demo": "demo",
    "sweep": "sweep",
}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's input, printed as one clear line instead of a traceback."""
    from profkit.config import ConfigError
    from profkit.data import DataFileError, DatasetUnavailableError, UnknownDatasetError
    from profkit.methods import UnknownMethodError
    from profkit.probes import ProbeError
    from profkit.store import OutputDirError

    return (ConfigError, DataFileError, DatasetUnavailableError, UnknownDatasetError,
            UnknownMethodError, OutputDirError, FileNotFoundError, ProbeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profkit", description=__doc__.split(":")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"profkit.commands.{module}")
        p = sub.add_parser(name, help=mod.__doc__.strip().splitlines()[0],
                           description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except _user_errors() as e:
        print(f"profkit {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
