"""What a person asked to hear about: a subscription to announcements, and their "I'll come" / "Remind me" for
events. Nothing is sent to anyone who did not ask; /unsubscribe stops all of it; /forget erases it.

The conversation reads and changes these through `OutreachStore`; bot.storage.outreach keeps them in the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bot.types import Address

ANY = "*"  # "any city" / "all topics" in a button payload


@dataclass(frozen=True)
class Interest:
    """A subscription: a city (None: any) and topics (empty: all)."""

    city: str | None
    topics: tuple[str, ...]

    def wants(self, city: str, topics: tuple[str, ...]) -> bool:
        return (self.city is None or self.city == city) and (not self.topics or bool(set(self.topics) & set(topics)))


@dataclass(frozen=True)
class Signup:
    """One person's standing for one event."""

    attending: bool = False
    remind: bool = False


@dataclass(frozen=True)
class Recipient:
    """Someone a broadcast or a reminder goes to, in their language."""

    user_id: int
    address: Address
    language: str


class Booking(enum.Enum):
    """What "I'll come" came to."""

    BOOKED = "booked"
    ALREADY = "already"
    FULL = "full"


@dataclass(frozen=True)
class EventCounts:
    """An event's sign-ups per language, for organisers: how many, never who."""

    attending_by_language: dict[str, int]
    reminders_by_language: dict[str, int]

    @property
    def attending(self) -> int:
        return sum(self.attending_by_language.values())

    @property
    def reminders(self) -> int:
        return sum(self.reminders_by_language.values())


class OutreachStore(Protocol):
    async def interest(self, address: Address) -> Interest | None: ...

    async def subscribe(self, address: Address, interest: Interest) -> None:
        """Replace the person's subscription with this one."""
        ...

    async def unsubscribe(self, address: Address) -> bool:
        """Stop everything: the subscription and every reminder; False if there was nothing to stop."""
        ...

    async def signup(self, address: Address, event_id: str) -> Signup: ...

    async def attend(self, address: Address, event_id: str, capacity: int | None) -> Booking:
        """Take a place, unless `capacity` places are taken already (checked in the same transaction)."""
        ...

    async def remind(self, address: Address, event_id: str) -> None: ...

    async def cancel(self, address: Address, event_id: str) -> bool:
        """Give up the place and the reminders for one event; False if there were none."""
        ...

    async def taken(self, event_id: str) -> int:
        """How many places are taken."""
        ...
