"""The outbox: messages waiting for delivery, each held by one sender at a time.

A claim marks at most `limit` due rows 'sending' under this process's name with a short lease, in one statement
(see `claimed_ids`: on PostgreSQL the rows are locked with SKIP LOCKED, so processes take disjoint batches). Before
each send the sender checks that it still holds the row and renews the lease, so a batch that takes longer than
a lease is never sent twice; a row whose process died becomes due again when its lease runs out.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database, claimed_ids, dialect_insert
from bot.storage.group_commit import HOLD_STEP, SENT_STEP
from bot.storage.models import Outbox, Ticket, TicketMessage, User, utcnow
from bot.types import Address, Button, Outbound

LEASE = dt.timedelta(seconds=20)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    address: Address
    language: str
    text: str
    buttons: tuple[Button, ...]
    attempts: int
    ticket_id: int | None
    priority: int = 0

    def outbound(self) -> Outbound:
        return Outbound(self.address, self.text, self.buttons, self.language, bulk=self.priority > 0)


def buttons_json(buttons: tuple[Button, ...]) -> str:
    return json.dumps([[b.label, b.payload] for b in buttons], ensure_ascii=False)


def _item(row: Outbox) -> OutboxItem:
    buttons = tuple(Button(label, payload) for label, payload in json.loads(row.buttons or "[]"))
    address = Address(row.channel, row.chat_id)
    return OutboxItem(
        row.id, row.key, address, row.language, row.text, buttons, row.attempts, row.ticket_id, row.priority or 0
    )


class SqlOutbox:
    def __init__(self, database: Database, owner: str = "") -> None:
        self._db = database
        self.owner = owner
        self._hold = database.commit.step(HOLD_STEP, self._hold_all)
        self._sent = database.commit.step(SENT_STEP, self._sent_all)

    async def add(self, message: Outbound, key: str, priority: int = 0) -> bool:
        """Queue a message (one that could not be sent at once, a reminder); False if `key` was queued before.
        A higher `priority` number waits behind the conversations' messages."""
        insert = dialect_insert(self._db)
        async with self._db.sessions.begin() as session:
            user_id = await session.scalar(
                select(User.id).where(User.channel == message.address.channel, User.chat_id == message.address.chat_id)
            )
            result = await session.execute(
                insert(Outbox)
                .values(
                    key=key,
                    user_id=user_id,
                    channel=message.address.channel,
                    chat_id=message.address.chat_id,
                    language=message.language,
                    text=message.text,
                    buttons=buttons_json(message.buttons),
                    status="pending",
                    attempts=0,
                    next_attempt_at=utcnow(),
                    created_at=utcnow(),
                    priority=priority,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an INSERT has rowcount

    async def claim(self, channel: str, limit: int = 20, chat_id: str | None = None) -> list[OutboxItem]:
        """Take at most `limit` due messages of a channel (of one chat) for this process: the conversations'
        first, then broadcasts and reminders, each oldest first."""
        now = utcnow()
        due = and_(
            Outbox.channel == channel,
            or_(
                and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
                and_(Outbox.status == "sending", Outbox.lease_until < now),
            ),
        )
        if chat_id is not None:
            due = and_(due, Outbox.chat_id == chat_id)
        chosen = claimed_ids(self._db, select(Outbox.id).where(due).order_by(Outbox.priority, Outbox.id).limit(limit))
        statement = (
            update(Outbox)
            .where(Outbox.id == chosen.c.id, due)
            .values(status="sending", owner=self.owner, lease_until=now + LEASE, attempts=Outbox.attempts + 1)
            .returning(Outbox)
            .execution_options(synchronize_session=False)
        )
        async with self._db.sessions.begin() as session:
            rows = (await session.scalars(statement)).all()
            return sorted((_item(r) for r in rows), key=lambda i: i.id)

    def _held(self, item: OutboxItem) -> ColumnElement[bool]:
        return and_(Outbox.id == item.id, Outbox.status == "sending", Outbox.owner == self.owner)

    async def hold(self, item: OutboxItem) -> bool:
        """Just before sending: True if this process still holds the message, whose lease is then renewed.
        False when the lease ran out and another process may have taken it: then it must not be sent here."""
        return bool(await self._hold(item))

    async def sent(self, item: OutboxItem, provider_id: str | None = None) -> None:
        await self._sent((item, provider_id))

    async def _hold_all(self, connection: AsyncConnection, items: list[OutboxItem]) -> list[bool]:
        now = utcnow()
        held = update(Outbox).where(
            Outbox.id.in_(sorted({i.id for i in items})),
            Outbox.status == "sending",
            Outbox.owner == self.owner,
            Outbox.lease_until >= now,
        )
        still = set((await connection.execute(held.values(lease_until=now + LEASE).returning(Outbox.id))).scalars())
        return [i.id in still for i in items]

    async def _sent_all(self, connection: AsyncConnection, sent: list[tuple[OutboxItem, str | None]]) -> list[None]:
        statement = (
            update(Outbox)
            .where(Outbox.id == bindparam("item"), Outbox.status == "sending", Outbox.owner == self.owner)
            .values(status="sent", sent_at=utcnow(), lease_until=None, owner=None, provider_id=bindparam("provider"))
        )
        await connection.execute(statement, [{"item": item.id, "provider": provider} for item, provider in sent])
        return [None] * len(sent)

    async def receipt(self, channel: str, provider_id: str, event: str) -> bool:
        """Record what the service reported for a message it delivered; False if no outbox message has that id."""
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(Outbox).where(Outbox.channel == channel, Outbox.provider_id == provider_id).values(receipt=event)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result has rowcount

    async def retry(self, item: OutboxItem, error: str, delay: float) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Outbox)
                .where(self._held(item))
                .values(
                    status="pending",
                    last_error=error[:300],
                    lease_until=None,
                    owner=None,
                    next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                )
            )

    async def failed(self, item: OutboxItem, error: str, blocked: bool) -> None:
        """Give up on a message; tell the consultant in the ticket, and stop writing to a user who blocked us."""
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Outbox)
                .where(Outbox.id == item.id)
                .values(status="failed", last_error=error[:300], lease_until=None, owner=None)
            )
            if blocked:
                await session.execute(
                    update(User)
                    .where(User.channel == item.address.channel, User.chat_id == item.address.chat_id)
                    .values(active=False)
                )
                await session.execute(
                    update(Outbox)
                    .where(
                        Outbox.channel == item.address.channel,
                        Outbox.chat_id == item.address.chat_id,
                        Outbox.status == "pending",
                    )
                    .values(status="failed", last_error="the user blocked the bot")
                )
            if item.ticket_id is not None and await session.get(Ticket, item.ticket_id) is not None:
                why = "the user has blocked the bot" if blocked else error[:200]
                session.add(
                    TicketMessage(
                        ticket_id=item.ticket_id,
                        author="system",
                        text=f"delivery to the user failed: {why}",
                        at=utcnow(),
                    )
                )

    async def counts(self) -> dict[str, int]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            return {status: int(n) for status, n in rows}
