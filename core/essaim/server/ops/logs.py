"""Structured logs: one JSON object per line, never a token.

Fields: ``ts``, ``level``, ``logger``, ``msg``, ``event`` (the stable name
the caller gave, else the logger's name, so every line has one: hypercorn's
and libraries' lines too), and any ``extra`` fields. Keys that could hold a secret are
replaced by ``"[redacted]"`` whatever the caller passed, so a careless
``extra={"token": ...}`` cannot leak one.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

__all__ = ["JsonFormatter", "configure_logging", "SECRET_KEYS"]

SECRET_KEYS = frozenset({"token", "facilitator_token", "admin_token", "authorization", "password", "secret"})
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "event": record.name,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = "[redacted]" if key.lower() in SECRET_KEYS else value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure_logging(level: str = "info", stream: Any = None) -> logging.Handler:
    """JSON lines on stderr for the essaim and hypercorn loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.Formatter.converter = time.gmtime
    return handler
