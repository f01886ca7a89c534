"""Compiled matchers kept between runs: `monitor match`, the daemon and each backfill
worker load the matcher of a 10,000-entry watchlist in a fifth of a second instead of
parsing the YAML and building it again (seconds).

Two keys, both SHA-256 digests that also cover this code and the data it depends on (the
sources of the matching modules, the versions of monitor, Python, wordfreq, Babel,
pycountry, anyascii and ahocorasick-rs), so a change to any of them is a miss, never a
stale matcher:

- the watchlist files' paths and bytes (`load`: the command line, which then skips the
  YAML as well);
- the watchlists' content, each entry's version (`matcher_for`: the daemon and the
  backfill workers, which are handed loaded watchlists).

A cache file is a pickle, so it is read only from the private folder of monitor.cachedir
(this user's, 0700, files 0600), and only after its header names the key it was asked for;
a damaged or foreign file is a miss (built again, written again), never an error.  The
folder keeps the KEEP most recently used matchers.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import sys
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from monitor import __version__
from monitor.cachedir import cache_dir, read_private, write_private
from monitor.match import Matcher
from monitor.watchlist import Watchlist, load_watchlists, watchlist_files

KEEP = 16
_MAGIC = b"monitor-matcher\n"
_FORMAT = 1
_CODE = ("match.py", "typos.py", "normalize.py", "precision.py", "wordlists.py",
         "watchlist.py", "config/reader.py", "countries.py", "translit.py", "inflect.py",
         "matchcache.py")  # config/reader.py: the YAML loader the watchlists are read with
_PACKAGES = ("wordfreq", "babel", "pycountry", "anyascii", "ahocorasick_rs", "PyStemmer")


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    digest = hashlib.sha256(f"{_FORMAT} {__version__} {sys.version}".encode())
    here = Path(__file__).parent
    for name in _CODE:
        path = here / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"-"))
    for package in _PACKAGES:
        try:
            digest.update(f"{package} {version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    return digest.digest()


def files_key(path: str | Path) -> str | None:
    """The key of the watchlist files at ``path`` (None if it holds none)."""
    root = Path(path)
    if not root.exists():
        return None
    digest = hashlib.sha256(_code_digest())
    files = watchlist_files(root)
    if not files:
        return None
    for file in files:
        try:
            data = file.read_bytes()
        except OSError:
            return None
        digest.update(f"{file.resolve()}\0{len(data)}\0".encode() + data)
    return "files-" + digest.hexdigest()[:40]


def content_key(watchlists: Sequence[Watchlist]) -> str:
    digest = hashlib.sha256(_code_digest())
    for watchlist in watchlists:
        digest.update(f"\1{watchlist.name}\0{watchlist.path}".encode())
        for entry in watchlist.entries:
            digest.update(f"\0{entry.id}\0{entry.version}".encode())
    return "content-" + digest.hexdigest()[:40]


def _read(key: str) -> object | None:
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.pickle"
    data = read_private(path)
    header = _MAGIC + key.encode() + b"\n"
    if data is None or not data.startswith(header):
        return None
    enabled = gc.isenabled()
    gc.disable()  # 10^5 objects: collections during the load would double its time
    try:
        found: object = pickle.loads(memoryview(data)[len(header):])
    except Exception:  # a damaged file: a miss
        return None
    finally:
        if enabled:
            gc.freeze()  # long-lived: no collection need ever traverse them again
            gc.enable()
    path.touch(exist_ok=True)  # recently used
    return found


def _write(key: str, value: object) -> None:
    folder = cache_dir()
    if folder is None:
        return
    header = _MAGIC + key.encode() + b"\n"
    write_private(folder / f"{key}.pickle", header + pickle.dumps(value, protocol=5))
    kept = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)


def load(path: str | Path) -> tuple[list[Watchlist], Matcher]:
    """The watchlists at ``path`` and their matcher, from the cache when the files are the
    ones it was built from; bad watchlists raise WatchlistError as load_watchlists does."""
    key = files_key(path)
    if key is not None:
        found = _read(key)
        if (isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], Matcher)
                and isinstance(found[0], list)):
            return found[0], found[1]
    watchlists = load_watchlists(path)
    matcher = matcher_for(watchlists)
    if key is not None:
        _write(key, (watchlists, matcher))
    return watchlists, matcher


def matcher_for(watchlists: Sequence[Watchlist]) -> Matcher:
    """The matcher of loaded watchlists, from the cache when it holds one of the same
    content (else built, and kept)."""
    key = content_key(watchlists)
    found = _read(key)
    if isinstance(found, Matcher):
        return found
    matcher = Matcher(watchlists)
    _write(key, matcher)
    return matcher
