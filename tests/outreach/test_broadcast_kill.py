"""A broadcast survives kill -9: a second process takes over what the first one held when its leases run out.

The only message that can reach someone twice is one the Bot API accepted in the instant between its answer and
the dead process's record of it (Telegram's sendMessage has no idempotency key to ask about): the test counts
those ambiguous rows at the kill and checks that the duplicates are exactly them, and that nobody is missed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.core.outreach import Interest
from bot.storage.broadcasts import Audience, SqlBroadcasts
from bot.storage.database import Database
from bot.storage.models import Outbox
from bot.storage.outreach import SqlOutreach
from bot.storage.users import SqlUserStore
from bot.types import Address, Outbound
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram

RECIPIENTS = 90


async def _worker(database_url: str, fake: FakeTelegram, owner: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.outbox_worker",
        database_url,
        fake.url,
        owner,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_broadcast_killed_half_way_reaches_everyone_once(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    database = Database(database_url)
    await database.upgrade()
    users, outreach = SqlUserStore(database), SqlOutreach(database)
    for n in range(RECIPIENTS):
        address = Address("telegram", str(20_000 + n))
        await users.touch(address)
        await outreach.subscribe(address, Interest(None, ()))
    broadcasts = SqlBroadcasts(database)
    new = await broadcasts.create("All", {"en": "An info session on Friday."}, Audience())
    queued = await broadcasts.start(
        new, "en", lambda r: Outbound(r.address, "An info session on Friday.", (), "en", bulk=True)
    )
    assert queued == RECIPIENTS
    fake = FakeTelegram(limits=True)
    await fake.start()
    try:
        first = await _worker(database_url, fake, "first")
        await eventually(lambda: len(fake.sent()) >= RECIPIENTS // 3, 60)
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        accepted = {int(m["chat_id"]) for m in fake.sent()}
        async with database.sessions() as session:
            held = (await session.scalars(select(Outbox.chat_id).where(Outbox.status == "sending"))).all()
        ambiguous = sum(int(chat) in accepted for chat in held)
        assert len(accepted) < RECIPIENTS, "the first process finished before it was killed"
        second = await _worker(database_url, fake, "second")
        _, err = await asyncio.wait_for(second.communicate(), 120)
        assert second.returncode == 0, err.decode()[-2000:]
    finally:
        await fake.stop()
    delivered = Counter(int(m["chat_id"]) for m in fake.sent())
    assert set(delivered) == {20_000 + n for n in range(RECIPIENTS)}  # nobody missed
    assert sum(delivered.values()) - RECIPIENTS == ambiguous  # twice only what the kill left undecided
    progress = await broadcasts.progress(new)
    assert (progress.sent, progress.left) == (RECIPIENTS, 0)
    await database.close()
