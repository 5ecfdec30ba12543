"""Which updates a channel has already handled: Telegram repeats updates, Viber retries callbacks for an hour."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.models import ProcessedUpdate, utcnow

KEEP = dt.timedelta(days=2)


class SqlUpdateLog:
    def __init__(self, database: Database, channel: str) -> None:
        self._db = database
        self._channel = channel

    async def first_time(self, key: str) -> bool:
        """Record `key`; False if it was recorded before (by this process or any other, before a restart too)."""
        try:
            async with self._db.sessions.begin() as session:
                session.add(ProcessedUpdate(channel=self._channel, key=key, at=utcnow()))
        except IntegrityError:
            return False
        return True

    async def forget_old(self) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < utcnow() - KEEP))
