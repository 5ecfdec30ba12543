"""Announcements: a broadcast is stored as a draft, then sent by writing one outbox row per recipient.

Every row's key is `b:<broadcast>:<user>`, so writing them twice (a second `send`, a restart half-way) cannot
reach anyone twice; the rows and the broadcast's new status are written in one transaction, so a broadcast is
either not started or wholly queued. The outbox's dispatchers deliver them after every conversation's messages
(priority), at the channel's pace; cancelling marks what is not yet sent as cancelled.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.outreach import Interest, Recipient
from bot.storage.database import Database
from bot.storage.models import Broadcast, Outbox, Registration, Subscription, User, aware, utcnow
from bot.storage.outbox import buttons_json
from bot.storage.outreach import topics_of
from bot.types import Address, Outbound

BROADCAST_PRIORITY = 10
_BATCH = 500


class BroadcastStatus(enum.Enum):
    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Audience:
    """Who receives it: subscribers filtered by channel, language, city and topic (empty: no filter), or the
    registrants of one event."""

    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    event: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Audience:
        data = json.loads(text)
        return cls(
            tuple(data["channels"]),
            tuple(data["languages"]),
            tuple(data["cities"]),
            tuple(data["topics"]),
            data["event"],
        )

    def admits(self, user: User, interest: Interest | None) -> bool:
        if self.channels and user.channel not in self.channels:
            return False
        if self.languages and user.language not in self.languages:
            return False
        if self.event is not None:
            return True
        assert interest is not None
        if self.cities and interest.city is not None and interest.city not in self.cities:
            return False
        return not self.topics or not interest.topics or bool(set(self.topics) & set(interest.topics))


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    name: str
    texts: dict[str, str]
    audience: Audience
    status: BroadcastStatus
    fallback_default: bool
    recipients: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    blocked: int
    cancelled: int

    @property
    def left(self) -> int:
        return self.total - self.sent - self.failed - self.cancelled


def _info(row: Broadcast) -> BroadcastInfo:
    return BroadcastInfo(
        row.id,
        row.name,
        json.loads(row.texts),
        Audience.from_json(row.audience),
        BroadcastStatus(row.status),
        row.fallback_default,
        row.recipients,
        aware(row.created_at),
        aware(row.started_at) if row.started_at else None,
        aware(row.ended_at) if row.ended_at else None,
    )


class BroadcastStateError(Exception):
    """The broadcast is not in a state that allows this (sent twice, resent after a cancel)."""


class SqlBroadcasts:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, name: str, texts: dict[str, str], audience: Audience) -> int:
        async with self._db.sessions.begin() as session:
            row = Broadcast(
                name=name,
                texts=json.dumps(texts, ensure_ascii=False),
                audience=audience.to_json(),
                status=BroadcastStatus.DRAFT.value,
                recipients=0,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def get(self, broadcast_id: int) -> BroadcastInfo | None:
        async with self._db.sessions() as session:
            row = await session.get(Broadcast, broadcast_id)
            return _info(row) if row is not None else None

    async def all(self) -> list[BroadcastInfo]:
        async with self._db.sessions() as session:
            return [_info(r) for r in await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()))]

    async def recipients(self, audience: Audience, default_language: str) -> list[Recipient]:
        async with self._db.sessions() as session:
            return await self._recipients(session, audience, default_language)

    @staticmethod
    async def _recipients(session: AsyncSession, audience: Audience, default_language: str) -> list[Recipient]:
        people: list[tuple[User, Interest | None]]
        if audience.event is not None:
            registered = (
                select(User)
                .join(Registration, Registration.user_id == User.id)
                .where(Registration.event_id == audience.event, Registration.attending | Registration.remind)
                .where(User.active)
            )
            people = [(user, None) for user in await session.scalars(registered.order_by(User.id))]
        else:
            subscribed = select(User, Subscription.city, Subscription.topics).join(
                Subscription, Subscription.user_id == User.id
            )
            rows = await session.execute(subscribed.where(User.active).order_by(User.id))
            people = [(user, Interest(city, topics_of(topics))) for user, city, topics in rows]
        return [
            Recipient(user.id, Address(user.channel, user.chat_id), user.language or default_language)
            for user, interest in people
            if audience.admits(user, interest)
        ]

    async def start(
        self,
        broadcast_id: int,
        default_language: str,
        message: Callable[[Recipient], Outbound | None],
    ) -> int:
        """Queue the broadcast for every recipient `message` gives a message to; how many were queued.
        BroadcastStateError unless it is a draft: nothing is ever queued twice."""
        async with self._db.sessions.begin() as session:
            row = await session.get(Broadcast, broadcast_id, with_for_update=True)
            if row is None:
                raise BroadcastStateError(f"there is no broadcast {broadcast_id}")
            status = BroadcastStatus(row.status)
            if status is not BroadcastStatus.DRAFT:
                when = f" (started {aware(row.started_at):%Y-%m-%d %H:%M} UTC)" if row.started_at else ""
                raise BroadcastStateError(f"broadcast {broadcast_id} is {status.value}{when}: nothing is sent twice")
            audience = Audience.from_json(row.audience)
            now = utcnow()
            values = []
            for recipient in await self._recipients(session, audience, default_language):
                outbound = message(recipient)
                if outbound is None:
                    continue
                values.append(
                    {
                        "key": f"b:{broadcast_id}:{recipient.user_id}",
                        "user_id": recipient.user_id,
                        "channel": recipient.address.channel,
                        "chat_id": recipient.address.chat_id,
                        "language": outbound.language,
                        "text": outbound.text,
                        "buttons": buttons_json(outbound.buttons),
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "priority": BROADCAST_PRIORITY,
                        "broadcast_id": broadcast_id,
                    }
                )
            for first in range(0, len(values), _BATCH):
                await session.execute(insert(Outbox), values[first : first + _BATCH])
            row.status = BroadcastStatus.SENDING.value
            row.started_at = now
            row.recipients = len(values)
            if not values:
                row.status, row.ended_at = BroadcastStatus.SENT.value, now
            return len(values)

    async def progress(self, broadcast_id: int) -> Progress:
        """Where the sending stands; a broadcast with nothing left to send is marked sent."""
        async with self._db.sessions.begin() as session:
            row = await session.get(Broadcast, broadcast_id)
            if row is None:
                raise BroadcastStateError(f"there is no broadcast {broadcast_id}")
            by_status = select(Outbox.status, func.count()).where(Outbox.broadcast_id == broadcast_id)
            counts = {status: int(n) for status, n in await session.execute(by_status.group_by(Outbox.status))}
            blocked = await session.scalar(
                select(func.count())
                .select_from(Outbox)
                .join(User, User.id == Outbox.user_id)
                .where(Outbox.broadcast_id == broadcast_id, Outbox.status == "failed", User.active.is_(False))
            )
            progress = Progress(
                row.recipients,
                counts.get("sent", 0),
                counts.get("failed", 0),
                int(blocked or 0),
                counts.get("cancelled", 0),
            )
            if row.status == BroadcastStatus.SENDING.value and progress.left <= 0:
                row.status, row.ended_at = BroadcastStatus.SENT.value, utcnow()
            return progress

    async def cancel(self, broadcast_id: int) -> int:
        """Stop what is not yet sent; how many messages were withdrawn. BroadcastStateError once it is over."""
        async with self._db.sessions.begin() as session:
            row = await session.get(Broadcast, broadcast_id, with_for_update=True)
            if row is None:
                raise BroadcastStateError(f"there is no broadcast {broadcast_id}")
            if row.status in (BroadcastStatus.SENT.value, BroadcastStatus.CANCELLED.value):
                raise BroadcastStateError(f"broadcast {broadcast_id} is {row.status} already: nothing to cancel")
            result = await session.execute(
                update(Outbox)
                .where(Outbox.broadcast_id == broadcast_id, Outbox.status == "pending")
                .values(status="cancelled")
            )
            row.status, row.ended_at = BroadcastStatus.CANCELLED.value, utcnow()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
