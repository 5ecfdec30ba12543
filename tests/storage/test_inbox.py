"""The inbox: stored before acknowledged, each key once, taken over when its process dies, no words kept."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select, update

from bot.storage.database import Database
from bot.storage.inbox import Arrival, SqlInbox
from bot.storage.models import InboxItem, utcnow


def arrival(
    key: str, lane: str = "chat-1", body: str = '{"text": "my passport AB123"}', urgent: bool = False
) -> Arrival:
    return Arrival("telegram", key, lane, body, urgent)


async def test_an_update_is_stored_once_whatever_how_often_it_comes(database: Database) -> None:
    inbox = SqlInbox(database, "me")
    first, again, other_channel = await asyncio.gather(
        inbox.store(arrival("1")),
        inbox.store(arrival("1")),
        inbox.store(Arrival("viber", "1", "x", "{}")),
    )
    assert first is not None and again is None and other_channel is not None
    assert await inbox.store(arrival("1")) is None  # and in a later batch too
    assert await inbox.pending_count() == 2


async def test_done_keeps_the_key_and_drops_the_words(database: Database) -> None:
    inbox = SqlInbox(database, "me")
    item_id = await inbox.store(arrival("1"))
    assert item_id is not None
    await inbox.done(item_id)
    async with database.sessions() as session:
        row = (await session.scalars(select(InboxItem))).one()
    assert (row.status, row.body, row.lane, row.owner) == ("done", None, None, None)
    assert await inbox.store(arrival("1")) is None


async def test_updates_of_a_dead_process_are_taken_over_in_order_and_only_once(database: Database) -> None:
    dead, alive, other = SqlInbox(database, "dead"), SqlInbox(database, "alive"), SqlInbox(database, "other")
    ids = [await dead.store(arrival(str(n), lane=f"chat-{n % 2}", urgent=n == 3)) for n in range(5)]
    assert await alive.take_over() == []  # the dead process's lease still runs
    async with database.sessions.begin() as session:
        await session.execute(update(InboxItem).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    taken, also = await asyncio.gather(alive.take_over(), other.take_over())
    assert sorted(p.id for p in taken + also) == ids  # each taken by exactly one of them
    assert [p.id for p in taken] == sorted(p.id for p in taken)
    assert {p.key for p in taken + also if p.urgent} == {"3"}


async def test_a_live_process_keeps_its_updates_by_renewing_its_lease(database: Database) -> None:
    mine, theirs = SqlInbox(database, "mine"), SqlInbox(database, "theirs")
    await mine.store(arrival("1"))
    async with database.sessions.begin() as session:
        await session.execute(update(InboxItem).values(lease_until=utcnow() + dt.timedelta(seconds=1)))
    await mine.renew()
    async with database.sessions() as session:
        lease = (await session.scalars(select(InboxItem.lease_until))).one()
    assert lease is not None and lease.replace(tzinfo=dt.UTC) > utcnow() + dt.timedelta(seconds=10)
    assert await theirs.take_over() == []


async def test_old_keys_are_forgotten(database: Database) -> None:
    inbox = SqlInbox(database, "me")
    await inbox.done(await inbox.store(arrival("1")) or 0)
    assert await inbox.forget_old() == 0
    assert await inbox.forget_old(now=utcnow() + dt.timedelta(days=3)) == 1
