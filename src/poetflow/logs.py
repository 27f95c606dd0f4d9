"""Logging on stderr as plain text or JSON lines, secrets masked."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Literal, TextIO

from poetflow.masking import MaskingFilter, mask

__all__ = ["LogFormat", "LogLevel", "configure_logging"]

LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            text = f"error: {message}"
        elif record.levelno >= logging.WARNING:
            text = f"warning: {message}"
        else:
            text = message
        # Tracebacks are for debugging PoetFlow itself, never for ordinary users.
        if record.exc_info and logging.getLogger("poetflow").isEnabledFor(logging.DEBUG):
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        return mask(text)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and logging.getLogger("poetflow").isEnabledFor(logging.DEBUG):
            payload["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return mask(json.dumps(payload, default=str))


def configure_logging(
    level: LogLevel = "info", fmt: LogFormat = "text", stream: TextIO | None = None
) -> None:
    """(Re)configure the ``poetflow`` logger; called by the CLI and the container entrypoint."""
    logger = logging.getLogger("poetflow")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _TextFormatter())
    handler.addFilter(MaskingFilter())
    logger.addHandler(handler)
    logger.setLevel(getattr(logging, level.upper()))
    logger.propagate = False
