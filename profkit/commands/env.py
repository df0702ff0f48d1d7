"""Show this machine's environment and what profkit can and cannot measure on it."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print as JSON")


def main(args: argparse.Namespace) -> int:
    from profkit import env
    from profkit.capabilities import detect

    info = {"environment": env.capture(), "capabilities": detect()}
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    for k, v in info["environment"].items():
        print(f"{k:<24} {v}")
    print("\nmeasurement capabilities:")
    for cap in info["capabilities"]:
        mark = "yes" if cap["available"] else "NO "
        print(f"  [{mark}] {cap['name']:<26} {cap['detail']}")
    return 0
