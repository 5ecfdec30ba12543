"""What the conversation needs to remember about a user, as an interface the storage layer implements.

The core depends on this protocol, not on SQLAlchemy, so `migrant-bot ask` runs without a database and tests can
use the in-memory store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.types import Address


@dataclass(frozen=True)
class UserState:
    language: str | None = None
    chosen: bool = False  # the user picked the language; detection no longer changes it


class UserStore(Protocol):
    async def touch(self, address: Address) -> UserState: ...

    async def set_language(self, address: Address, language: str, chosen: bool) -> None: ...

    async def log_event(self, address: Address, action: str, entry_id: str | None, language: str) -> None: ...

    async def record_unanswered(self, address: Address, text: str, language: str, score: float) -> None: ...

    async def record_feedback(
        self, address: Address, entry_id: str | None, ticket_id: int | None, helpful: bool
    ) -> None: ...

    async def forget(self, address: Address) -> None: ...


class MemoryStore:
    """A UserStore that keeps everything in a dict: for tests and for tools that must not write state."""

    def __init__(self) -> None:
        self.users: dict[Address, UserState] = {}
        self.events: list[tuple[Address, str, str | None, str]] = []
        self.unanswered: list[tuple[Address, str, str, float]] = []
        self.feedback: list[tuple[Address, str | None, int | None, bool]] = []

    async def touch(self, address: Address) -> UserState:
        return self.users.setdefault(address, UserState())

    async def set_language(self, address: Address, language: str, chosen: bool) -> None:
        self.users[address] = UserState(language, chosen)

    async def log_event(self, address: Address, action: str, entry_id: str | None, language: str) -> None:
        self.events.append((address, action, entry_id, language))

    async def record_unanswered(self, address: Address, text: str, language: str, score: float) -> None:
        self.unanswered.append((address, text, language, score))

    async def record_feedback(
        self, address: Address, entry_id: str | None, ticket_id: int | None, helpful: bool
    ) -> None:
        self.feedback.append((address, entry_id, ticket_id, helpful))

    async def forget(self, address: Address) -> None:
        self.feedback = [f for f in self.feedback if f[0] != address]
        self.users.pop(address, None)
        self.events = [e for e in self.events if e[0] != address]
        self.unanswered = [u for u in self.unanswered if u[0] != address]
