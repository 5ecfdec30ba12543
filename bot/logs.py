"""Logging for operators: one format, chatty libraries quietened, and secrets never written, at any level.

python-telegram-bot and httpx log request URLs at debug level, and Telegram's URLs hold the bot token; an
exception's text may hold one too. So every line is redacted as it is formatted: each registered secret becomes
"[redacted]", whatever logger wrote it and whatever it was inside of.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

_SECRETS: set[str] = set()
_handler: logging.Handler | None = None
REDACTED = "[redacted]"
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.INFO,
    "alembic": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
    "telegram": logging.INFO,
    "uvicorn.error": logging.WARNING,
}


def add_secret(value: str) -> None:
    """From now on, `value` never appears in the log."""
    if len(value) >= 6:  # a shorter "secret" would redact ordinary words
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: int, stream: TextIO | None = None) -> None:
    """The root logger writes redacted lines to stderr; libraries that talk a lot stay at their QUIET level
    unless debug logging is on (and then still redacted)."""
    global _handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if _handler is not None:  # configured before (by an earlier command in this process): replace ours only
        root.removeHandler(_handler)
    _handler = handler
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(quiet, level))
