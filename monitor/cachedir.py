"""A private folder for what monitor computes once and reuses: the compiled matcher of a
set of watchlists, word lists drawn from wordfreq.

``$MONITOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/monitor``, else ``~/.cache/monitor``; set
``MONITOR_CACHE_DIR=off`` to keep nothing.  The folder is made mode 0700 and used only if
it belongs to this user and nobody else may write to it (nor to the files in it): a cache
file is never read from a place another user could have written (a compiled matcher is a
pickle, and unpickling runs code).  Files are written whole (a temporary file renamed), so
a reader sees an old file or a new one, never half of one.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def cache_dir() -> Path | None:
    """The private cache folder, made if need be; None if caching is off or the folder is
    not private (then everything is computed afresh, as without a cache)."""
    setting = os.environ.get("MONITOR_CACHE_DIR", "")
    if setting.lower() in ("off", "none", "0", "false"):
        return None
    if setting:
        folder = Path(setting)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "monitor"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if _private(folder) else None


def _private(path: Path) -> bool:
    """Owned by this user, writable by no one else, and not a symbolic link."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (not stat.S_ISLNK(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def read_private(path: Path) -> bytes | None:
    """The file's bytes if it is a private regular file (see _private), else None."""
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid()
                    or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or not _private(path)):
                return None
            return file.read()
    except OSError:
        return None


def write_private(path: Path, data: bytes) -> bool:
    """Write the file whole, mode 0600; False (and nothing written) on any error."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, path)
        return True
    except OSError:
        Path(temp).unlink(missing_ok=True)
        return False
