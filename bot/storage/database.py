"""The database connection, its migrations, and retention.

Migrations are Alembic's, run programmatically on the bot's own connection, so `migrant-bot db upgrade` and the
start-up upgrade need no alembic.ini and work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CTE, Select, and_, delete, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.core.tickets import TicketStatus
from bot.storage.group_commit import SharedCommit
from bot.storage.models import Base, Event, Outbox, Ticket, Unanswered, User, utcnow

QUESTION_KEPT = dt.timedelta(hours=1)
ERASED_TABLES = ("users", "ticket_messages", "unanswered", "inbox", "outbox", "events", "feedback", "tickets")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    # Take BEGIN over from the driver (SQLAlchemy's recipe for aiosqlite) so that _sqlite_begin can make it
    # IMMEDIATE and savepoints work.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]  # the driver's connection
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # the driver's connection
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros, not left in free space
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock at the start: a transaction that reads and then writes must not meet another
    writer half-way (SQLite would fail it with 'database is locked' instead of waiting)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _wal(dbapi_connection: object, _record: object) -> None:
    # WAL with synchronous=NORMAL: commits survive a crash of the bot; only a power cut may lose the last few,
    # and each message no longer waits for several fsyncs
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # the driver's connection
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite, WAL mode, foreign keys, immediate transactions, the file's folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: SQLite has one writer anyway, and waiting in the pool's queue wakes the next
    # task at once, where waiting in SQLite's busy handler sleeps up to 100 ms a try.
    engine = (
        create_async_engine(url, poolclass=StaticPool)
        if memory
        else create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    if not memory:
        event.listen(engine.sync_engine, "connect", _wal)
    return engine


def dialect_insert(database: Database) -> Callable[[type[Base]], postgresql.Insert | sqlite.Insert]:
    """The INSERT of the database's dialect, the one with `on_conflict_do_nothing` (SQLite's and PostgreSQL's)."""
    return postgresql.insert if database.engine.dialect.name == "postgresql" else sqlite.insert


def claimed_ids(database: Database, picked: Select[int]) -> CTE:
    """The ids a claim takes, as a CTE that selects (and on PostgreSQL locks) exactly those rows, once.

    `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` is not that claim on PostgreSQL: the
    planner may run the subquery again for every row of a semi join, so the LIMIT no longer bounds what one
    process takes. A materialised CTE is evaluated once; SKIP LOCKED lets other processes take other rows.
    """
    if database.engine.dialect.name != "postgresql":
        return picked.cte("claimed")
    return picked.with_for_update(skip_locked=True).cte("claimed").prefix_with("MATERIALIZED")


def _alembic(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return str(ScriptDirectory.from_config(_alembic()).get_current_head())


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic(connection), "head")


@dataclass(frozen=True)
class Revisions:
    before: str | None
    after: str | None

    def __str__(self) -> str:
        if self.before == self.after:
            return f"the database is already at the latest revision ({self.after})"
        if self.before is None:
            return f"created the database's tables, at revision {self.after}"
        return f"upgraded the database from revision {self.before} to {self.after}"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(self.engine, expire_on_commit=False)
        self.commit = SharedCommit(self.engine.begin)  # the message path's writes, one transaction per batch

    async def upgrade(self) -> Revisions:
        """Apply the migrations not applied yet; what it did."""
        async with self.engine.begin() as connection:
            before = await connection.run_sync(_current)
            await connection.run_sync(_upgrade)
            return Revisions(before, await connection.run_sync(_current))

    async def current(self) -> str | None:
        """The migration the database is at; None for an empty database."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current)

    async def revision(self, message: str, autogenerate: bool) -> str:
        """Write a new migration file (for developers); with `autogenerate`, its operations are what the models
        have that this database, brought to the latest revision first, lacks."""
        await self.upgrade()
        scripts = ScriptDirectory.from_config(_alembic())
        number = f"{max(int(r.revision) for r in scripts.walk_revisions() if r.revision.isdigit()) + 1:04d}"

        def write(connection: Connection) -> str:
            script = command.revision(_alembic(connection), message, autogenerate=autogenerate, rev_id=number)
            return str(script.path) if script is not None and not isinstance(script, list) else ""

        async with self.engine.begin() as connection:
            return await connection.run_sync(write)

    async def purge(self, retention_days: int, now: dt.datetime | None = None) -> int:
        """Delete what is older than the retention period; returns how many rows went.

        Closed tickets go with their messages; delivered or failed outbox rows go; a user's last question is
        forgotten after an hour whatever the retention.
        """
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=retention_days)
        removed = 0
        async with self.sessions.begin() as session:
            for statement in (
                delete(Event).where(Event.at < cutoff),
                delete(Unanswered).where(Unanswered.at < cutoff),
                delete(Ticket).where(Ticket.status == TicketStatus.CLOSED.value, Ticket.closed_at < cutoff),
                delete(Outbox).where(Outbox.status.in_(("sent", "failed")), Outbox.created_at < cutoff),
                delete(User).where(User.last_seen < cutoff),
            ):
                result = await session.execute(statement)
                removed += result.rowcount or 0  # type: ignore[attr-defined]  # a DELETE's result has rowcount
            await session.execute(
                update(User)
                .where(and_(User.last_question_at.is_not(None), User.last_question_at < now - QUESTION_KEPT))
                .values(last_question=None, last_question_at=None)
            )
        await self.erase_traces()
        return removed

    async def erase_traces(self, tables: tuple[str, ...] = ERASED_TABLES) -> None:
        """After a deletion that must be real, make the deleted bytes go from the files too.

        SQLite (with secure_delete) zeroes deleted rows in the database file, but the write-ahead log still
        holds the pages as they were until a checkpoint: a TRUNCATE checkpoint copies the log in and empties
        it. PostgreSQL keeps dead row versions in the table files until VACUUM makes their space reusable (the
        bytes stay until overwritten, and in its WAL segments until they are recycled): VACUUM the tables a
        deletion touched, which is cheap for these small tables."""
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]  # aiosqlite's connection
            return
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql(f"VACUUM {', '.join(tables)}")

    async def close(self) -> None:
        await self.engine.dispose()
