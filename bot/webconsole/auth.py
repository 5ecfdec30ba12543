"""Who is at the console: argon2 password hashes, signed session cookies backed by server-side sessions, CSRF
tokens, and a login rate limit per account and per address.

The cookie holds a random token and its HMAC; the database holds only the token's SHA-256, so neither a stolen
database nor a forged cookie opens a session, and logging out ends the session for every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

COOKIE = "migrant_console"
_hasher = PasswordHasher()
# checked when a name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10


class PasswordTooWeak(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PasswordTooWeak(f"a password has at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(key: bytes, token: str) -> str:
    return f"{token}.{hmac.new(key, token.encode(), hashlib.sha256).hexdigest()}"


def unsign(key: bytes, cookie: str) -> str | None:
    """The token of a cookie this console signed, or None."""
    token, _, signature = cookie.rpartition(".")
    expected = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    return token if token and hmac.compare_digest(signature, expected) else None


def same_token(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class LoginLimiter:
    """At most `per_minute` failed logins per account and per address in any minute; past that, every attempt
    is refused until the oldest failure is a minute old. Kept in the process: a restart forgives."""

    per_minute: int
    window: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, *keys: str, now: float | None = None) -> float:
        """Seconds before any of `keys` may try again (0 when they may now)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        for key in keys:
            failures = self._failures.get(key)
            while failures and now - failures[0] >= self.window:
                failures.popleft()
            if failures is not None and len(failures) >= self.per_minute:
                longest = max(longest, self.window - (now - failures[0]))
        return longest

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
