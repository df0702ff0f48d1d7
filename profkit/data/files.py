"""Source files of a dataset: where they are looked for, how they are verified and fetched.

A file is used from the first place where it is found *and* verified: the data directory
(`--data-dir`, else `$PROFKIT_DATA`, else the platform cache directory) under the dataset's name,
the data directory itself, then the dataset's read-only system directories (e.g. Debian's
packages). Otherwise pooch downloads it into `<data dir>/<dataset>/`: into a temporary file that
is hash-checked before it is moved into place, so a partial or corrupt download is never kept.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from profkit.data.errors import DataFileError, DatasetUnavailableError
from profkit.data.idx import gunzip

MIRROR_ENV = "PROFKIT_DATA_MIRROR"  # base URL serving <base>/<dataset>/<file>, replaces the URLs
DATA_ENV = "PROFKIT_DATA"
RETRIES = 2  # extra attempts per URL after a network error or a hash mismatch
TIMEOUT_S = 60  # per socket operation, not for the whole file


@dataclass(frozen=True)
class SourceFile:
    """One published file: its name, where it is published, and its checksum."""

    name: str
    urls: tuple[str, ...]  # canonical first, then mirrors serving the identical bytes
    known_hash: str  # "<sha256 hex>", or "md5:<hex>" where only an MD5 is published
    # SHA-256 of the gunzipped content: accepts a copy that was re-compressed (same data,
    # different .gz bytes), as Debian's packages are.
    content_sha256: str | None = None


@dataclass
class LocalFile:
    """A source file found or downloaded, and how it was verified."""

    source: SourceFile
    path: Path
    verified_by: str  # "sha256" / "md5" of the file, or "content-sha256" of its gunzipped bytes
    downloaded: bool = False
    content: bytes | None = None  # gunzipped bytes, kept when verification had to decompress

    def data(self) -> bytes:
        """The file's bytes, gunzipped if its name ends in .gz."""
        if self.content is not None:
            return self.content
        raw = self.path.read_bytes()
        return gunzip(raw, str(self.path)) if self.path.suffix == ".gz" else raw


def data_root(explicit: str | Path | None = None) -> Path:
    """The data directory: --data-dir, else $PROFKIT_DATA, else the platform cache directory."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    import pooch

    return Path(pooch.os_cache("profkit"))


def search_dirs(dataset: str, root: Path, extra: tuple[str, ...] = ()) -> list[Path]:
    return [root / dataset, root, *(Path(p) for p in extra)]


def _split_hash(known_hash: str) -> tuple[str, str]:
    alg, _, value = known_hash.rpartition(":")
    return alg or "sha256", value.lower()


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _content_matches(path: Path, sf: SourceFile) -> bytes | str:
    """The gunzipped bytes if their SHA-256 is `sf.content_sha256`, else why not."""
    try:
        content = gunzip(path.read_bytes(), str(path))
    except DataFileError as e:
        return str(e)
    if hashlib.sha256(content).hexdigest() == sf.content_sha256:
        return content
    return "the SHA-256 of its decompressed content differs too"


def verify(path: Path, sf: SourceFile) -> LocalFile | str:
    """A LocalFile if `path` holds `sf` (by its content's hash or its own), else the reason not.

    Where the content hash is known it is checked first: the reader needs the gunzipped bytes
    anyway, so this costs no extra pass, and it accepts re-compressed copies.
    """
    content: bytes | str = "no content hash is known"
    if sf.content_sha256 and path.suffix == ".gz":
        content = _content_matches(path, sf)
        if isinstance(content, bytes):
            return LocalFile(sf, path, "content-sha256", content=content)
    alg, expected = _split_hash(sf.known_hash)
    actual = file_hash(path, alg)
    if actual == expected:
        return LocalFile(sf, path, alg)
    return f"{path}: {alg} {actual} differs from the expected {expected}; {content}"


def find_local(dataset: str, sf: SourceFile, root: Path,
               extra: tuple[str, ...] = ()) -> tuple[LocalFile | None, list[str]]:
    """The first verified copy of `sf` on this machine, and why any other copies were rejected."""
    rejected: list[str] = []
    for d in search_dirs(dataset, root, extra):
        p = d / sf.name
        if p.is_file():
            found = verify(p, sf)
            if isinstance(found, LocalFile):
                return found, rejected
            rejected.append(found)
    return None, rejected


def urls_for(dataset: str, sf: SourceFile, mirror: str | None = None) -> tuple[str, ...]:
    mirror = mirror or os.environ.get(MIRROR_ENV)
    if mirror:
        return (f"{mirror.rstrip('/')}/{dataset}/{sf.name}",)
    return sf.urls


def _pooch_fetch(url: str, sf: SourceFile, target_dir: Path) -> Path:
    import pooch

    store = pooch.create(path=target_dir, base_url="", registry={sf.name: sf.known_hash},
                         urls={sf.name: url}, retry_if_failed=RETRIES)
    bar = sys.stderr.isatty()
    downloader = pooch.HTTPDownloader(progressbar=bar, timeout=TIMEOUT_S)
    return Path(store.fetch(sf.name, downloader=downloader))


class _Offline(Exception):
    """Every URL of a file failed with a network error (not a hash mismatch)."""


def download(dataset: str, sf: SourceFile, root: Path, mirror: str | None = None) -> LocalFile:
    """Download `sf` into <root>/<dataset>/, trying each URL; the file appears only if verified.

    Raises DataFileError if some URL served bytes that fail the hash, else _Offline(errors).
    """
    import requests

    errors: list[str] = []
    bad_hash = False
    for url in urls_for(dataset, sf, mirror):
        try:
            path = _pooch_fetch(url, sf, root / dataset)
            return LocalFile(sf, path, _split_hash(sf.known_hash)[0], downloaded=True)
        except ValueError as e:  # pooch: the downloaded bytes fail the hash; they were discarded
            bad_hash = True
            errors.append(f"{url}: {e} The download was discarded; nothing was kept.")
        except (requests.RequestException, OSError) as e:
            errors.append(f"{url}: {type(e).__name__}: {e}")
    if bad_hash:
        detail = "\n  ".join(errors)
        raise DataFileError(f"{dataset}: cannot get a verified {sf.name}.\n  {detail}")
    raise _Offline(errors)


def _missing_error(dataset: str, target: Path, missing: list[tuple[SourceFile, list[str]]],
                   errors: list[str]) -> DatasetUnavailableError:
    lines = [f"{dataset}: {len(missing)} source file(s) are not on this machine and could not "
             "be downloaded."]
    lines += [f"  download failed: {e}" for e in errors]
    lines.append(f"  Fix: download these by hand and put them in {target}/ (or point --data-dir "
                 f"or ${DATA_ENV} at a directory holding them):")
    for sf, rejected in missing:
        alg, expected = _split_hash(sf.known_hash)
        lines.append(f"    {sf.urls[0]}  ({alg} {expected})")
        lines += [f"      (a local copy was rejected: {r})" for r in rejected]
    return DatasetUnavailableError("\n".join(lines))


def resolve(dataset: str, files: tuple[SourceFile, ...], root: Path, extra: tuple[str, ...] = (),
            mirror: str | None = None) -> dict[str, LocalFile]:
    """Every source file of a dataset, verified: found locally or downloaded (file name -> file).

    After the first network failure no more downloads are tried, but every file is still looked
    for locally, so the error lists everything the user has to put in place.
    """
    out: dict[str, LocalFile] = {}
    missing: list[tuple[SourceFile, list[str]]] = []
    errors: list[str] = []
    for sf in files:
        found, rejected = find_local(dataset, sf, root, extra)
        if found is None and not errors:
            try:
                found = download(dataset, sf, root, mirror)
            except _Offline as e:
                errors = e.args[0]
        if found is None:
            missing.append((sf, rejected))
        else:
            out[sf.name] = found
    if missing:
        raise _missing_error(dataset, root / dataset, missing, errors)
    return out


def present_dir(dataset: str, files: tuple[SourceFile, ...], root: Path,
                extra: tuple[str, ...] = ()) -> Path | None:
    """A directory holding every file by name (not hash-checked: `datasets list` must be quick)."""
    for d in search_dirs(dataset, root, extra):
        if files and all((d / sf.name).is_file() for sf in files):
            return d
    return None
