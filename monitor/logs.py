"""Logs to stdout: readable lines by default, one JSON object per line with
`--log-format json` (or MONITOR_LOG_FORMAT=json), with the job, feed, article or digest
they are about."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

CONTEXT = ("job", "feed", "channel", "article", "digest", "delivery")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        data.update({k: getattr(record, k) for k in CONTEXT if hasattr(record, k)})
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT if hasattr(record, k))
        return f"{line}  [{context}]" if context else line


def setup(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "httpx", "httpcore", "trafilatura", "htmldate", "courlan",
                  "alembic"):  # monitor.db says "database at revision N" instead
        logging.getLogger(noisy).setLevel(logging.WARNING)
