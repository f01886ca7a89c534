"""Logs to stdout: readable lines by default, one JSON object per line with
`--log-format json` (or MONITOR_LOG_FORMAT=json), with the job, feed, article or digest
they are about."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from monitor.display import mask_urls, shown

CONTEXT = ("job", "feed", "channel", "article", "digest", "delivery")


def _context(value: Any) -> Any:
    return shown(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """Messages and context safe for a terminal, URLs in them without credentials."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(), "logger": record.name,
                "message": shown(record.getMessage())}
        data.update({k: _context(getattr(record, k)) for k in CONTEXT if hasattr(record, k)})
        if record.exc_info:
            data["error"] = mask_urls(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """The message safe for a terminal and every URL (traceback included) masked."""
        record = logging.makeLogRecord({**record.__dict__, "msg": shown(record.getMessage()),
                                        "args": None})
        line = mask_urls(super().format(record))
        context = " ".join(f"{k}={_context(getattr(record, k))}" for k in CONTEXT
                           if hasattr(record, k))
        return f"{line}  [{context}]" if context else line


def setup(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    from monitor.store import QUIET_LOGGERS  # the store says "database at revision N"

    for noisy in ("apscheduler", "httpx", "httpcore", "trafilatura", "htmldate", "courlan",
                  *QUIET_LOGGERS):
        logging.getLogger(noisy).setLevel(logging.WARNING)
