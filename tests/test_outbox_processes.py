"""Two bot processes on one database, a Bot API that takes 0.5-1 s a call: every reply is delivered exactly once."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from bot.storage.database import Database
from bot.storage.outbox import SqlOutbox
from bot.types import Address, Outbound
from tests.fakes.telegram_api import FakeTelegram

REPLIES = 200


async def test_two_processes_deliver_each_outbox_message_once(database_url: str, database: Database) -> None:
    outbox = SqlOutbox(database)
    for n in range(REPLIES):
        await outbox.add(Outbound(Address("telegram", str(10_000 + n)), f"Consultant:\n\nanswer {n}"), f"reply-{n}")
    fake = FakeTelegram(delay=0.5, delay_spread=0.5)
    await fake.start()
    try:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.fakes.outbox_worker",
                database_url,
                fake.url,
                owner,
                stderr=asyncio.subprocess.PIPE,
            )
            for owner in ("first", "second")
        ]
        results = [await asyncio.wait_for(worker.communicate(), 180) for worker in workers]
    finally:
        await fake.stop()
    assert [w.returncode for w in workers] == [0, 0], [err.decode()[-2000:] for _, err in results]
    delivered = Counter(m["text"] for m in fake.sent())
    assert len(delivered) == REPLIES and set(delivered.values()) == {1}
    assert await outbox.counts() == {"sent": REPLIES}
