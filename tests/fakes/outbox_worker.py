"""One bot process's outbox dispatcher, alone: `python -m tests.fakes.outbox_worker DATABASE_URL API_URL OWNER`.

Tests and benchmarks start two of these on one database against one fake Bot API, to see that each message is
sent by exactly one process. It delivers until nothing is left to deliver, then exits 0.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import func, select

from bot.channels.telegram.adapter import TelegramChannel, connect
from bot.dispatch import Dispatcher
from bot.storage.database import Database
from bot.storage.models import Outbox
from bot.storage.outbox import SqlOutbox
from tests.fakes.telegram_api import TOKEN


async def main(database_url: str, api_url: str, owner: str) -> None:
    database = Database(database_url)
    bot = connect(TOKEN, api_url)
    await bot.initialize()
    try:
        dispatcher = Dispatcher(SqlOutbox(database, owner), {"telegram": TelegramChannel(bot)})
        while True:
            await dispatcher.deliver_once("telegram", limit=20)
            async with database.sessions() as session:
                left = await session.scalar(select(func.count()).where(Outbox.status.in_(("pending", "sending"))))
            if not left:
                return
            await asyncio.sleep(0.05)
    finally:
        await bot.shutdown()
        await database.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
