"""Show this machine's environment and what profkit can and cannot measure on it.

Examples: profkit env; profkit env --verbose (adds torch's full build settings);
profkit env --json (every value, memory in bytes, for scripts)
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true",
                   help="print as JSON (memory in bytes, torch's full build settings)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print torch's full build settings line")


def text_value(key: str, value: Any) -> str:
    """A value as the text listing shows it: memory in GiB, missing as 'unknown'."""
    if value is None:
        return "unknown"
    if key == "memory_bytes" and isinstance(value, int):
        return f"{value / 2**30:.1f} GiB"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None) or "none set"
    return str(value)


def main(args: argparse.Namespace) -> int:
    from profkit import env
    from profkit.capabilities import detect

    details = args.json or args.verbose
    info = {"environment": env.capture(details=details), "capabilities": detect()}
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    for k, v in info["environment"].items():
        if k == "torch_build_settings":
            continue
        label = "memory" if k == "memory_bytes" else k
        print(f"{label:<26} {text_value(k, v)}")
    if args.verbose:
        build = info["environment"].get("torch_build_settings") or "unknown"
        print("torch_build_settings")
        print(textwrap.fill(build, width=100, initial_indent="  ", subsequent_indent="  ",
                            break_on_hyphens=False))
    print("\nmeasurement capabilities:")
    for cap in info["capabilities"]:
        mark = "yes" if cap["available"] else "NO "
        print(f"  [{mark}] {cap['name']:<26} {cap['detail']}")
    return 0
