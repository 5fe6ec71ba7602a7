"""Logging for people (text) and for schedulers (one JSON object per line).

The runner and client put context in contextvars (run id, concept) and in
``extra`` (utility, attempt, status, elapsed); the JSON formatter writes them
as fields. Nothing here ever sees the API key: requests are logged by utility
and outcome, never by URL; a redaction pass is kept as a last guard.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

RUN_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_id", default=None)
CONCEPT: contextvars.ContextVar[str | None] = contextvars.ContextVar("concept", default=None)

FIELDS = ("utility", "attempt", "status", "elapsed", "request")


class JsonFormatter(logging.Formatter):
    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": RUN_ID.get(),
            "concept": CONCEPT.get(),
        }
        entry.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        text = json.dumps(entry, ensure_ascii=False, default=str)
        return text.replace(self._secret, "***") if self._secret else text


class TextFormatter(logging.Formatter):
    def __init__(self, secret: str | None = None) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        concept = CONCEPT.get()
        if concept:
            text = f"[{concept}] {text}"
        return text.replace(self._secret, "***") if self._secret else text


def configure(level: int, fmt: str, secret: str | None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secret) if fmt == "json" else TextFormatter(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
