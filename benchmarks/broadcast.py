"""A broadcast to many subscribers, measured from outside: `migrant-bot run` as a subprocess against the fake Bot
API enforcing Telegram's limits (30 sendMessage a second in all, 1 a second per chat: a 429 with retry_after
beyond them) and the fake Viber API.

    python -m benchmarks.broadcast [--subscribers 10000] [--viber-share 0.2] [--kills 2]

- Telegram's sustained rate: the broadcast's messages a second between the first and the last of a stretch
  without a kill, as a share of 30 (target >= 95%), and the 429s the limits answered;
- p99 reply time for 20 users chatting during the broadcast, against the same 20 with no broadcast (target: within
  1.5x);
- kill -9 at --kills moments mid-way, started again each time: duplicates, and recipients missed (targets: 0);
  "undecided" counts the messages the Bot API had accepted while their rows were still held by the killed process
  (the only ones that can arrive twice: sendMessage has no idempotency key).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert, select

from benchmarks.faults import latency, percentile
from bot.storage.database import Database
from bot.storage.models import Outbox, Subscription, User, utcnow
from bot.tables import format_table
from tests.conftest import free_port
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.viber_api import FakeViber
from tests.harness import BotProcess

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_BASE = 5_000_000
CHATTERS = range(900_000, 900_020)
ROUNDS = 5
TEXT = "An information session on health insurance, Friday 18:00. Send /events to see it."


async def seed(database_url: str, subscribers: int, viber_share: float) -> tuple[set[int], set[str]]:
    """Subscribers on both channels, written in bulk; returns the Telegram chats and the Viber receivers."""
    database = Database(database_url)
    await database.upgrade()
    viber = int(subscribers * viber_share)
    telegram = {TELEGRAM_BASE + n for n in range(subscribers - viber)}
    receivers = {f"viber-user-{n:06d}=" for n in range(viber)}
    now = utcnow()
    rows = [{"channel": "telegram", "chat_id": str(c)} for c in sorted(telegram)]
    rows += [{"channel": "viber", "chat_id": r} for r in sorted(receivers)]
    async with database.sessions.begin() as session:
        await session.execute(
            insert(User),
            [
                {**row, "language": "en", "language_chosen": True, "active": True, "first_seen": now, "last_seen": now}
                for row in rows
            ],
        )
    async with database.sessions.begin() as session:
        ids = (await session.scalars(select(User.id))).all()
        await session.execute(
            insert(Subscription), [{"user_id": i, "city": None, "topics": "", "created_at": now} for i in ids]
        )
    await database.close()
    return telegram, receivers


async def cli(folder: Path, config: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=folder,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"migrant-bot {' '.join(args)} failed: {err.decode()}")
    return out.decode()


async def chatting(bot: BotProcess, telegram: FakeTelegram, offset: int) -> list[float]:
    """The 20 users write five times each, at 4 messages a second in all: 100 reply times in milliseconds."""
    times: list[float] = []
    for _ in range(ROUNDS):
        times += await latency(bot, telegram, range(CHATTERS.start + offset, CHATTERS.stop + offset), 4.0)
    return times


async def held(database_url: str) -> list[tuple[str, str]]:
    database = Database(database_url)
    async with database.sessions() as session:
        rows = (await session.execute(select(Outbox.channel, Outbox.chat_id).where(Outbox.status == "sending"))).all()
    await database.close()
    return [(c, chat) for c, chat in rows]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--viber-share", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=2)
    args = parser.parse_args()

    telegram, viber = FakeTelegram(limits=True), FakeViber()
    await telegram.start()
    await viber.start()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        database_url = f"sqlite+aiosqlite:///{folder / 'bot.db'}"
        chats, receivers = await seed(database_url, args.subscribers, args.viber_share)
        bot = BotProcess(
            folder,
            database_url,
            telegram.url,
            "polling",
            free_port(),
            extra=f'[viber]\nenabled = true\napi_base_url = "{viber.url}"\n',
        )
        await bot.start()
        quiet = await chatting(bot, telegram, 0)
        config = bot.config()
        broadcast = folder / "broadcast.yaml"
        broadcast.write_text(f"name: Benchmark\ntext:\n  en: {TEXT}\naudience: {{}}\n", encoding="utf-8")
        await cli(folder, config, "broadcast", "create", str(broadcast))
        started = time.perf_counter()
        await cli(folder, config, "broadcast", "send", "1", "--no-wait")

        def bulk_calls() -> list[float]:
            return [
                c.at
                for c in telegram.calls
                if c.method == "sendMessage" and c.result is not None and c.params.get("text") == TEXT
            ]

        await eventually(lambda: len(bulk_calls()) >= 100, 120)
        busy = await chatting(bot, telegram, 1000)
        window = bulk_calls()
        every = [c.at for c in telegram.calls if c.method == "sendMessage" and c.result is not None]
        within = [t for t in every if window[0] <= t <= window[-1]]  # the conversation's messages count too
        clean_rate = (len(within) - 1) / (window[-1] - window[0]) if len(window) > 1 else 0.0
        undecided = 0
        for kill in range(args.kills):
            target = len(chats) * (kill + 1) // (args.kills + 2)
            await eventually(lambda target=target: len(bulk_calls()) >= target, 900)
            await bot.kill()
            accepted_telegram = {int(c["chat_id"]) for c in telegram.sent() if c.get("text") == TEXT}
            accepted_viber = {c["receiver"] for c in viber.sent() if c.get("text") == TEXT}
            for channel, chat in await held(database_url):
                undecided += (int(chat) in accepted_telegram) if channel == "telegram" else (chat in accepted_viber)
            await bot.start()
        total = len(chats) + len(receivers)

        def done() -> bool:
            got_telegram = {int(c["chat_id"]) for c in telegram.sent() if c.get("text") == TEXT}
            got_viber = {c["receiver"] for c in viber.sent() if c.get("text") == TEXT}
            return len(got_telegram) + len(got_viber) >= total

        await eventually(done, 1800)
        if bot.process is not None and bot.process.returncode is not None:
            raise SystemExit(f"the bot died: {(folder / f'bot-{bot.port}.log').read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(2)  # anything still arriving would be a duplicate: let it
        elapsed = time.perf_counter() - started
        await bot.stop()
    await telegram.stop()
    await viber.stop()
    sent_telegram = Counter(int(c["chat_id"]) for c in telegram.sent() if c.get("text") == TEXT)
    sent_viber = Counter(c["receiver"] for c in viber.sent() if c.get("text") == TEXT)
    duplicates = sum(n - 1 for n in sent_telegram.values()) + sum(n - 1 for n in sent_viber.values())
    missed = len(chats - set(sent_telegram)) + len(receivers - set(sent_viber))
    rows = [
        ["subscribers (Telegram + Viber)", f"{len(chats)} + {len(receivers)}"],
        ["Telegram rate without a kill", f"{clean_rate:.1f}/s = {clean_rate / 30:.1%} of 30/s (target >= 95%)"],
        ["429s answered by the limits", str(telegram.limited)],
        ["p99 reply, no broadcast", f"{percentile(quiet, 0.99):.0f} ms (p50 {percentile(quiet, 0.5):.0f})"],
        [
            "p99 reply, during the broadcast",
            f"{percentile(busy, 0.99):.0f} ms (p50 {percentile(busy, 0.5):.0f}); "
            f"{percentile(busy, 0.99) / max(percentile(quiet, 0.99), 1e-9):.2f}x (target <= 1.5x)",
        ],
        ["kill -9 mid-way", str(args.kills)],
        ["duplicates (undecided at the kills)", f"{duplicates} ({undecided})"],
        ["recipients missed", str(missed)],
        ["whole broadcast, kills included", f"{elapsed:.0f} s"],
    ]
    print(format_table(["broadcast", "measured"], rows))


if __name__ == "__main__":
    asyncio.run(main())
