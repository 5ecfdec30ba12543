"""The outbox: messages waiting for delivery, claimed by one dispatcher at a time.

A claim marks due rows 'sending' with a lease in one UPDATE ... RETURNING statement. On PostgreSQL the rows are
picked with FOR UPDATE SKIP LOCKED, so several bot processes take disjoint batches; on SQLite the database's
single writer does the same. A row whose lease ran out (its process died mid-send) becomes due again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update

from bot.storage.database import Database
from bot.storage.models import Outbox, Ticket, TicketMessage, User, utcnow
from bot.types import Address, Button, Outbound

LEASE = dt.timedelta(seconds=60)


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

    def outbound(self) -> Outbound:
        return Outbound(self.address, self.text, self.buttons, self.language)


def _item(row: Outbox) -> OutboxItem:
    buttons = tuple(Button(label, payload) for label, payload in json.loads(row.buttons or "[]"))
    return OutboxItem(
        row.id, row.key, Address(row.channel, row.chat_id), row.language, row.text, buttons, row.attempts, row.ticket_id
    )


class SqlOutbox:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._postgres = database.engine.dialect.name == "postgresql"

    async def claim(self, channel: str, limit: int = 20, chat_id: str | None = None) -> list[OutboxItem]:
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
        picked = select(Outbox.id).where(due).order_by(Outbox.id).limit(limit)
        if self._postgres:
            picked = picked.with_for_update(skip_locked=True)
        statement = (
            update(Outbox)
            .where(Outbox.id.in_(picked.scalar_subquery()), due)
            .values(status="sending", lease_until=now + LEASE, attempts=Outbox.attempts + 1)
            .returning(Outbox)
            .execution_options(synchronize_session=False)
        )
        async with self._db.sessions.begin() as session:
            rows = (await session.scalars(statement)).all()
            return sorted((_item(r) for r in rows), key=lambda i: i.id)

    async def sent(self, item: OutboxItem, provider_id: str | None = None) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == item.id, Outbox.status == "sending")
                .values(status="sent", sent_at=utcnow(), lease_until=None, provider_id=provider_id)
            )

    async def receipt(self, channel: str, provider_id: str, event: str) -> bool:
        """Record what the service reported for a message it delivered; False if no outbox message has that id."""
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(Outbox).where(Outbox.channel == channel, Outbox.provider_id == provider_id).values(receipt=event)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def retry(self, item: OutboxItem, error: str, delay: float) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == item.id, Outbox.status == "sending").values(
                    status="pending", last_error=error[:300], lease_until=None,
                    next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
                )
            )

    async def failed(self, item: OutboxItem, error: str, blocked: bool) -> None:
        """Give up on a message; tell the consultant in the ticket, and stop writing to a user who blocked us."""
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == item.id).values(status="failed", last_error=error[:300], lease_until=None)
            )
            if blocked:
                await session.execute(
                    update(User).where(User.channel == item.address.channel, User.chat_id == item.address.chat_id)
                    .values(active=False)
                )
                await session.execute(
                    update(Outbox).where(
                        Outbox.channel == item.address.channel, Outbox.chat_id == item.address.chat_id,
                        Outbox.status == "pending",
                    ).values(status="failed", last_error="the user blocked the bot")
                )
            if item.ticket_id is not None and await session.get(Ticket, item.ticket_id) is not None:
                why = "the user has blocked the bot" if blocked else error[:200]
                session.add(TicketMessage(
                    ticket_id=item.ticket_id, author="system", text=f"delivery to the user failed: {why}", at=utcnow()
                ))

    async def counts(self) -> dict[str, int]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            return {status: int(n) for status, n in rows}
