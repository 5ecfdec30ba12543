"""Which updates a channel has already handled: Telegram repeats updates, Viber retries callbacks for an hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database
from bot.storage.models import ProcessedUpdate, utcnow

KEEP = dt.timedelta(days=2)


async def record_new(
    connection: AsyncConnection, database: Database, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Record (channel, update id) pairs in the connection's transaction; return those not recorded before, by
    any process. One statement for any number of keys."""
    now = utcnow()
    rows = [{"channel": channel, "key": key, "at": now} for channel, key in dict.fromkeys(keys)]
    if not rows:
        return set()
    inserted = await connection.execute(
        database.insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["channel", "key"])
        .returning(ProcessedUpdate.channel, ProcessedUpdate.key),
        rows,
    )
    return {(channel, key) for channel, key in inserted}


class SqlUpdateLog:
    def __init__(self, database: Database, channel: str) -> None:
        self._db = database
        self._channel = channel

    async def first_time(self, key: str) -> bool:
        """Record `key`; False if it was recorded before (by this process or any other, before a restart too)."""
        async with self._db.engine.begin() as connection:
            return bool(await record_new(connection, self._db, [(self._channel, key)]))

    async def forget_old(self) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < utcnow() - KEEP))
