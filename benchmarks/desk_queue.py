"""The consultants' queue under load: N tickets, 20 consultants claiming and replying at once, then delivery.

Each consultant and each dispatcher has its own connection pool, as separate bot processes would. Consultants
all reach for the same few oldest tickets, so claims collide; the table counts tickets claimed by more than one
consultant and outbox messages delivered more than once — both must be 0.

    python -m benchmarks.desk_queue [--tickets 10000] [--postgres URL]
"""

from __future__ import annotations

# This file is named queue.py, like the standard library module that asyncio and aiosqlite import:
# take its own folder off the path before anything imports `queue`.
import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import Counter

from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bot.config import HandoffSection
from bot.core.handoff import ConsultantInfo, Desk
from bot.core.tickets import DeskError
from bot.dispatch import Dispatcher
from bot.i18n import I18n
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Ticket, User, utcnow
from bot.storage.outbox import SqlOutbox
from bot.tables import format_table
from bot.types import Outbound
from tests.fakes.postgres import create_scratch_database, drop_scratch_database

LANGUAGES = ("bg", "en", "ru", "uk", "ar", "fa")
CONSULTANTS = 20
DISPATCHERS = 4


class CountingSender:
    channel = "bench"
    max_length = 4096

    def __init__(self, seen: Counter[str]) -> None:
        self._seen = seen

    async def send(self, message: Outbound) -> None:
        self._seen[message.text] += 1


async def seed(database: Database, tickets: int) -> None:
    now = utcnow()
    async with database.sessions.begin() as session:
        await session.execute(
            insert(User),
            [
                {
                    "channel": "bench",
                    "chat_id": str(n),
                    "language_chosen": False,
                    "first_seen": now,
                    "last_seen": now,
                    "active": True,
                    "pseudonym": f"K-{n:05X}",
                }
                for n in range(tickets)
            ],
        )
        await session.execute(
            insert(Ticket),
            [
                {
                    "user_id": n + 1,
                    "pseudonym": f"K-{n:05X}",
                    "channel": "bench",
                    "language": LANGUAGES[n % 6],
                    "reason": "asked_human",
                    "priority": "normal",
                    "status": "waiting",
                    "created_at": now,
                    "updated_at": now,
                    "withdrawn": False,
                }
                for n in range(tickets)
            ],
        )
    store = SqlDesk(database)
    for n in range(CONSULTANTS):
        await store.add_consultant(ConsultantInfo(f"c{n}", (LANGUAGES[n % 6], "en")))


async def consultant(url: str, name: str, wins: Counter[int], stats: Counter[str]) -> None:
    database = Database(url)
    desk = Desk(SqlDesk(database), I18n(LANGUAGES), HandoffSection())
    store = desk.store
    assert isinstance(store, SqlDesk)
    rng = random.Random(name)
    try:
        while True:
            waiting = await store.waiting_ids(limit=10)
            if not waiting:
                return
            ticket_id = rng.choice(waiting)
            stats["attempts"] += 1
            try:
                await store.claim(ticket_id, name)
            except DeskError:
                stats["lost"] += 1
                continue
            wins[ticket_id] += 1
            await desk.reply(ticket_id, name, f"answer to ticket {ticket_id}")
    finally:
        await database.close()


async def dispatcher(url: str, seen: Counter[str]) -> None:
    database = Database(url)
    try:
        worker = Dispatcher(SqlOutbox(database), {"bench": CountingSender(seen)})
        while await worker.deliver_once("bench", limit=50):
            pass
    finally:
        await database.close()


async def measure(url: str, tickets: int) -> list[object]:
    database = Database(url)
    await database.upgrade()
    await seed(database, tickets)
    await database.close()
    wins: Counter[int] = Counter()
    stats: Counter[str] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(consultant(url, f"c{n}", wins, stats) for n in range(CONSULTANTS)))
    claiming = time.perf_counter() - started
    seen: Counter[str] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(dispatcher(url, seen) for _ in range(DISPATCHERS)))
    delivering = time.perf_counter() - started
    backend = make_url(url).get_backend_name()
    return [
        backend,
        tickets,
        len(wins),
        f"{len(wins) / claiming:.0f}",
        stats["lost"],
        sum(1 for n in wins.values() if n > 1),
        sum(seen.values()),
        f"{sum(seen.values()) / delivering:.0f}",
        sum(1 for n in seen.values() if n > 1),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MIGRANT_BOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(await measure(f"sqlite+aiosqlite:///{folder}/bench.db", args.tickets))
    try:
        url = await create_scratch_database(args.postgres, "mb_bench")
    except Exception as exc:
        print(f"PostgreSQL not measured: {exc}")
    else:
        try:
            rows.append(await measure(url, args.tickets))
        finally:
            await drop_scratch_database(url, args.postgres)
    print(f"{CONSULTANTS} consultants claiming and replying at once, then {DISPATCHERS} dispatchers delivering")
    print(
        format_table(
            [
                "database",
                "tickets",
                "claimed",
                "claims/s",
                "lost races",
                "double claims",
                "delivered",
                "delivered/s",
                "double deliveries",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
