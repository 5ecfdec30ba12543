"""Which updates a channel has already handled: Telegram repeats updates, Viber retries callbacks for an hour."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from bot.storage.database import Database
from bot.storage.json_rows import json_rows, rows_param, statement, unpacked
from bot.storage.models import ProcessedUpdate, utcnow

KEEP = dt.timedelta(days=2)


@functools.lru_cache(maxsize=None)
def _statements(dialect: str) -> tuple[TextClause, TextClause, TextClause]:
    """Look for keys already recorded; record keys; record keys and return those that were new."""
    rows = json_rows(dialect)
    keys = rows.table("channel", "key")
    insert = (f"INSERT INTO processed_updates (channel, key, at) SELECT k.channel, k.key, :now FROM {keys} AS k "
              "WHERE true ON CONFLICT DO NOTHING")
    seen = (f"SELECT {rows.packed('p.channel', 'p.key')} FROM {keys} AS k "
            "JOIN processed_updates p ON p.channel = k.channel AND p.key = k.key")
    return statement(seen), statement(insert), statement(insert + " RETURNING channel, key")


async def record_new(
    connection: AsyncConnection, database: Database, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Record (channel, update id) pairs in the connection's transaction; return those not recorded before, by
    any process. One or two statements for any number of keys."""
    pairs = sorted(set(keys))  # sorted: two processes on PostgreSQL take their locks in the same order
    if not pairs:
        return set()
    dialect = database.engine.dialect.name
    seen, insert, insert_returning = _statements(dialect)
    if dialect == "sqlite":
        # the transaction holds SQLite's one write lock since its BEGIN IMMEDIATE, so a look first is exact, and
        # it answers in one row where RETURNING would take a step of the driver's thread per key
        found = unpacked(await connection.scalar(seen, {"rows": rows_param(pairs)}))
        new = sorted(set(pairs) - {(str(channel), str(key)) for channel, key in found})
        if new:
            await connection.execute(insert, {"rows": rows_param(new), "now": utcnow()})
        return set(new)
    inserted = await connection.execute(insert_returning, {"rows": rows_param(pairs), "now": utcnow()})
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
