"""Webhook throughput and latency: the full bot against a minimal python-telegram-bot echo bot.

Both run in this process behind the same Starlette + uvicorn webhook on 127.0.0.1, both send through the same
fake Bot API (tests/fakes/telegram_api.py), and both get the same N updates posted with the same concurrency,
each from its own chat. Latency is from the POST to the reply reaching the fake API.

    python benchmarks/webhook.py [--updates 400] [--concurrency 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/queue.py would shadow the standard library's queue module: use the repository root instead
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"] + [str(ROOT)]

import httpx  # noqa: E402
from telegram import Bot, Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import open_runtime  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config import load_config, parse_config  # noqa: E402
from bot.core.flood import FloodGate  # noqa: E402
from bot.storage.updates import SqlUpdateLog  # noqa: E402
from bot.tables import format_table  # noqa: E402
from bot.web import BackgroundWork, create_app  # noqa: E402
from tests.fakes.serve import Served, serve  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message_update  # noqa: E402
from tests.fakes.postgres import create_scratch_database, drop_scratch_database  # noqa: E402

SECRET = "bench-secret"
QUESTION = "do I need health insurance?"
Handle = Callable[[dict[str, object]], Awaitable[None]]


async def webhook(handle: Handle, work: BackgroundWork) -> Served:
    return await serve(create_app(handle, SECRET, lambda: True, work))


async def load(url: str, fake: FakeTelegram, updates: int, concurrency: int, first_chat: int) -> list[object]:
    limit = asyncio.Semaphore(concurrency)
    posted: dict[int, float] = {}

    async def post(client: httpx.AsyncClient, chat: int) -> None:
        async with limit:
            posted[chat] = time.perf_counter()
            response = await client.post(url, json=message_update(chat, QUESTION),
                                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            response.raise_for_status()

    chats = range(first_chat, first_chat + updates)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(post(client, chat) for chat in chats))
    while len({int(c.params["chat_id"]) for c in fake.calls if c.method == "sendMessage"
               and int(c.params["chat_id"]) in posted}) < updates:
        await asyncio.sleep(0.01)
    arrivals = {}
    for call in fake.calls:
        if call.method == "sendMessage" and int(call.params["chat_id"]) in posted:
            arrivals.setdefault(int(call.params["chat_id"]), call.at)
    latencies = sorted((arrivals[chat] - posted[chat]) * 1000 for chat in chats)
    elapsed = max(arrivals.values()) - started
    return [updates, f"{updates / elapsed:.0f}", f"{statistics.median(latencies):.0f}",
            f"{latencies[int(len(latencies) * 0.99) - 1]:.0f}"]


async def full_bot(fake: FakeTelegram, updates: int, concurrency: int, database_url: str, first_chat: int) -> list[object]:
    base = load_config(ROOT / "bot.toml", env={})
    config = parse_config(
        f'[bot]\nknowledge_dir = "{base.knowledge_path}"\ndatabase_url = "{database_url}"\n', "benchmark", ROOT, env={}
    )
    runtime = await open_runtime(config)
    assert runtime.engine is not None
    runtime.engine.flood = FloodGate(config.telegram.flood_per_minute)
    bot = Bot(TOKEN, base_url=f"{fake.url}/bot")
    await bot.initialize()
    channel = TelegramChannel(bot, runtime.engine.handle, SqlUpdateLog(runtime.database, "telegram").first_time)
    work = BackgroundWork()

    async def handle(data: dict[str, object]) -> None:
        update = Update.de_json(data, bot)
        if update is not None:
            await channel.process(update)

    served = await webhook(handle, work)
    try:
        return await load(served.url + "/telegram", fake, updates, concurrency, first_chat=first_chat)
    finally:
        await work.drain()
        await served.stop()
        await bot.shutdown()
        await runtime.close()


async def echo_bot(fake: FakeTelegram, updates: int, concurrency: int) -> list[object]:
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the text back."""
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = Application.builder().token(TOKEN).base_url(f"{fake.url}/bot").updater(None).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    work = BackgroundWork()

    async def handle(data: dict[str, object]) -> None:
        await application.update_queue.put(Update.de_json(data, application.bot))

    async with application:
        await application.start()
        served = await webhook(handle, work)
        try:
            return await load(served.url + "/telegram", fake, updates, concurrency, first_chat=50_000)
        finally:
            await served.stop()
            await application.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--postgres", metavar="URL", help="also measure the full bot on this PostgreSQL server")
    args = parser.parse_args()
    fake = FakeTelegram()
    await fake.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            sqlite = await full_bot(fake, args.updates, args.concurrency, f"sqlite+aiosqlite:///{folder}/b.db", 10_000)
        rows.append(["full migrant-bot, SQLite", *sqlite])
        if args.postgres:
            url = await create_scratch_database(args.postgres, "mb_bench")
            try:
                rows.append(["full migrant-bot, PostgreSQL", *await full_bot(fake, args.updates, args.concurrency, url, 20_000)])
            finally:
                await drop_scratch_database(url, args.postgres)
        echo = await echo_bot(fake, args.updates, args.concurrency)
        rows.append(["python-telegram-bot echo", *echo])
    finally:
        await fake.stop()
    print(f"{args.updates} updates posted to the webhook, {args.concurrency} at a time, each from its own chat")
    print(format_table(["bot", "updates", "updates/s", "p50 ms", "p99 ms"], rows))
    for row in rows[:-1]:
        print(f"{row[0]}: {float(str(row[2])) / float(str(echo[1])):.2f} of the echo bot's throughput (target 0.70)")


if __name__ == "__main__":
    asyncio.run(main())
