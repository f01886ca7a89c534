"""Files: each run as an .eml (opens in any mail client) with its JSON body beside it, in a
folder; the default channel, so `monitor run` delivers somewhere without any setup."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from monitor.channels.base import Channel, DeliveryError, Outgoing, Services, Setup


@dataclass(frozen=True, slots=True)
class FileChannel(Channel):
    """``file: {dir: outbox/}`` (relative to the config file)."""

    kind: ClassVar[str] = "file"
    settings: ClassVar[tuple[str, ...]] = ("dir",)
    example: ClassVar[str] = "{file: {dir: ...}}"
    formats: ClassVar[tuple[str, ...]] = ("text", "html", "json")
    dir: str = ""

    @classmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> FileChannel:
        folder = setup.reader.text(spec, "dir", where) or "outbox"
        return cls(dir=str(setup.base / folder))

    @property
    def ident(self) -> str:
        return f"file:{self.dir}"

    def send(self, out: Outgoing, now: datetime, services: Services) -> None:
        write_files(self.dir, out)


def write_files(folder: str, out: Outgoing) -> list[Path]:
    """The message as an .eml file (opens in any mail client) and the JSON body beside it;
    written atomically under a name fixed by the run, so a resend replaces, not adds."""
    directory = Path(folder)
    stem = f"{out.window_end:%Y%m%dT%H%M%SZ}-{out.name}-{out.key[:8]}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        paths = [_atomic(directory / f"{stem}.eml", out.message.as_bytes()),
                 _atomic(directory / f"{stem}.json", out.body("json").encode())]
    except OSError as exc:
        raise DeliveryError(f"file {folder}: {exc.strerror or exc}") from exc
    return paths


def _atomic(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
