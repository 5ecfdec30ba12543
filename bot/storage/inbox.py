"""The inbox: every update a chat service delivers is stored here before it is acknowledged, and marked done only
after its reply went out or was handed to the outbox.

A process stores updates under its own name with a short lease that it renews while it lives; when it dies, its
leases run out and whichever process looks next (the restarted one, or another on the same PostgreSQL) takes the
pending updates over. The row's unique (channel, key) is the dedupe: a repeated delivery inserts nothing. A done
row keeps its key for a few days, as long as the services may repeat an update, and never the body, which holds
the person's words and platform ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database, claimed_ids
from bot.storage.group_commit import DONE_STEP, INBOX_STEP
from bot.storage.models import InboxItem, utcnow

LEASE = dt.timedelta(seconds=15)
KEEP_DONE = dt.timedelta(days=2)  # Telegram repeats an update for a day at most, Viber for an hour


@dataclass(frozen=True)
class Arrival:
    """An update as received: `body` is what the service sent, as text."""

    channel: str
    key: str
    lane: str
    body: str
    urgent: bool = False


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    key: str
    lane: str
    body: str
    urgent: bool


def _insert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The dialect's own INSERT, which knows ON CONFLICT DO NOTHING."""
    return postgresql.insert(InboxItem) if dialect == "postgresql" else sqlite.insert(InboxItem)


class SqlInbox:
    def __init__(self, database: Database, owner: str) -> None:
        self._db = database
        self.owner = owner
        self._store = database.commit.step(INBOX_STEP, self._store_all)
        self._done = database.commit.step(DONE_STEP, self._done_all)

    async def store(self, arrival: Arrival) -> int | None:
        """Store an update, durably; its row id, or None when that key was stored before (a repeat)."""
        item_id = await self._store(arrival)
        assert item_id is None or isinstance(item_id, int)
        return item_id

    async def done(self, item_id: int) -> None:
        await self._done(item_id)

    async def _store_all(self, connection: AsyncConnection, arrivals: list[Arrival]) -> list[int | None]:
        """One INSERT for the whole batch; of two arrivals with one key, the first is the new one."""
        now = utcnow()
        rows, seen = [], set()
        for a in arrivals:
            if (a.channel, a.key) in seen:
                continue
            seen.add((a.channel, a.key))
            rows.append(
                {
                    "channel": a.channel,
                    "key": a.key,
                    "lane": a.lane,
                    "body": a.body,
                    "status": "pending",
                    "owner": self.owner,
                    "lease_until": now + LEASE,
                    "urgent": a.urgent,
                    "received_at": now,
                }
            )
        statement = (
            _insert(self._db.engine.dialect.name)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel", "key"])
            .returning(InboxItem.id, InboxItem.channel, InboxItem.key)
        )
        inserted = {(channel, key): item_id for item_id, channel, key in await connection.execute(statement)}
        results: list[int | None] = []
        for a in arrivals:
            results.append(inserted.pop((a.channel, a.key), None))
        return results

    async def _done_all(self, connection: AsyncConnection, item_ids: list[int]) -> list[None]:
        await connection.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(sorted(set(item_ids))))
            .values(status="done", body=None, lane=None, owner=None, lease_until=None)
        )
        return [None] * len(item_ids)

    async def renew(self) -> None:
        """Extend the leases of this process's pending updates: it is alive, nobody should take them over."""
        async with self._db.engine.begin() as connection:
            await connection.execute(
                update(InboxItem)
                .where(InboxItem.owner == self.owner, InboxItem.status == "pending")
                .values(lease_until=utcnow() + LEASE)
            )

    async def take_over(self, limit: int = 500) -> list[Pending]:
        """Claim pending updates whose owner's lease ran out (a process died), oldest first."""
        now = utcnow()
        expired = _expired(now)
        chosen = claimed_ids(self._db, select(InboxItem.id).where(expired).order_by(InboxItem.id).limit(limit))
        statement = (
            update(InboxItem)
            .where(InboxItem.id == chosen.c.id, expired)
            .values(owner=self.owner, lease_until=now + LEASE)
            .returning(InboxItem.id, InboxItem.channel, InboxItem.key, InboxItem.lane, InboxItem.body, InboxItem.urgent)
        )
        async with self._db.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return sorted(
            (Pending(i, c, k, lane or "", body or "", bool(u)) for i, c, k, lane, body, u in rows), key=lambda p: p.id
        )

    async def pending_count(self) -> int:
        async with self._db.sessions() as session:
            return int(await session.scalar(select(func.count()).where(InboxItem.status == "pending")) or 0)

    async def forget_old(self, now: dt.datetime | None = None) -> int:
        """Drop the keys of updates done long enough ago that no service repeats them any more."""
        async with self._db.engine.begin() as connection:
            result = await connection.execute(
                delete(InboxItem).where(
                    InboxItem.status == "done", InboxItem.received_at < (now or utcnow()) - KEEP_DONE
                )
            )
        return int(result.rowcount or 0)


def _expired(now: dt.datetime) -> ColumnElement[bool]:
    """Pending, and nobody's lease runs any more."""
    return (InboxItem.status == "pending") & or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now)
