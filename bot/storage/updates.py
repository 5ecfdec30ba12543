"""Which updates a channel has already handled: Telegram repeats updates, Viber retries callbacks for an hour."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.database import Database
from bot.storage.models import ProcessedUpdate, utcnow

KEEP = dt.timedelta(days=2)


async def record_once(session: AsyncSession, database: Database, channel: str, key: str) -> bool:
    """Record an update id in the session's transaction; False if it was recorded before, by any process."""
    result = await session.execute(
        database.insert(ProcessedUpdate).values(channel=channel, key=key, at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel", "key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlUpdateLog:
    def __init__(self, database: Database, channel: str) -> None:
        self._db = database
        self._channel = channel

    async def first_time(self, key: str) -> bool:
        """Record `key`; False if it was recorded before (by this process or any other, before a restart too)."""
        async with self._db.sessions.begin() as session:
            return await record_once(session, self._db, self._channel, key)

    async def forget_old(self) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < utcnow() - KEEP))
