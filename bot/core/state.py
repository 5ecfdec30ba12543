"""What the conversation needs to remember about a user, as an interface the storage layer implements.

The core depends on this protocol, not on SQLAlchemy, so `migrant-bot ask` runs without a database and tests can
use the in-memory store. A message costs two round trips: `touch` when it arrives, `record_turn` once it is
understood; button presses and commands use the smaller calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from bot.types import Address


@dataclass(frozen=True)
class UserState:
    language: str | None = None
    chosen: bool = False  # the user picked the language; detection no longer changes it
    has_tickets: bool = False  # the user has had a ticket: only then is the desk asked about it
    legal_status: str | None = None  # remembered only with the person's agreement (/status shows it)


@dataclass(frozen=True)
class Turn:
    """What one understood message changes, written at once."""

    action: str
    entry_id: str | None
    language: str
    detected_language: str | None = None  # a language detected from the text, to remember (not as chosen)
    question: str | None = None  # kept at most an hour, for a consultant the user may ask for next
    unanswered: tuple[str, float] | None = None  # (text, score) kept for the FAQ admins


class UserStore(Protocol):
    async def touch(self, address: Address, create: bool = True) -> UserState | None:
        """The user's state, creating the user if new (unless `create` is false: then None for a stranger)."""
        ...

    async def record_turn(self, address: Address, turn: Turn) -> None: ...

    async def set_language(self, address: Address, language: str, chosen: bool) -> None: ...

    async def log_event(self, address: Address, action: str, entry_id: str | None, language: str) -> None: ...

    async def record_feedback(
        self, address: Address, entry_id: str | None, ticket_id: int | None, helpful: bool
    ) -> None: ...

    async def deactivate(self, address: Address) -> None:
        """The user left (unsubscribed, blocked the bot): send them nothing more."""
        ...

    async def set_legal_status(self, address: Address, status: str | None) -> None:
        """Remember (or, with None, drop) the person's status; only ever called with their agreement."""
        ...

    async def forget(self, address: Address) -> None: ...


class MemoryStore:
    """A UserStore that keeps everything in a dict: for tests and for tools that must not write state."""

    def __init__(self) -> None:
        self.users: dict[Address, UserState] = {}
        self.events: list[tuple[Address, str, str | None, str]] = []
        self.unanswered: list[tuple[Address, str, str, float]] = []
        self.questions: dict[Address, str] = {}
        self.feedback: list[tuple[Address, str | None, int | None, bool]] = []
        self.inactive: set[Address] = set()

    async def touch(self, address: Address, create: bool = True) -> UserState | None:
        if not create and address not in self.users:
            return None
        self.inactive.discard(address)
        return self.users.setdefault(address, UserState())

    async def record_turn(self, address: Address, turn: Turn) -> None:
        if turn.detected_language is not None:
            await self.set_language(address, turn.detected_language, chosen=False)
        await self.log_event(address, turn.action, turn.entry_id, turn.language)
        if turn.question is not None:
            self.questions[address] = turn.question
        if turn.unanswered is not None:
            self.unanswered.append((address, turn.unanswered[0], turn.language, turn.unanswered[1]))

    async def set_language(self, address: Address, language: str, chosen: bool) -> None:
        self.users[address] = replace(self.users.get(address, UserState()), language=language, chosen=chosen)

    async def set_legal_status(self, address: Address, status: str | None) -> None:
        self.users[address] = replace(self.users.get(address, UserState()), legal_status=status)

    async def log_event(self, address: Address, action: str, entry_id: str | None, language: str) -> None:
        self.events.append((address, action, entry_id, language))

    async def record_feedback(
        self, address: Address, entry_id: str | None, ticket_id: int | None, helpful: bool
    ) -> None:
        self.feedback.append((address, entry_id, ticket_id, helpful))

    async def deactivate(self, address: Address) -> None:
        self.inactive.add(address)

    async def forget(self, address: Address) -> None:
        self.inactive.discard(address)
        self.feedback = [f for f in self.feedback if f[0] != address]
        self.users.pop(address, None)
        self.questions.pop(address, None)
        self.events = [e for e in self.events if e[0] != address]
        self.unanswered = [u for u in self.unanswered if u[0] != address]
