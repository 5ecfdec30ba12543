"""Webhook throughput and latency: the full bot against a minimal python-telegram-bot echo bot.

Both run in this process behind a Starlette + uvicorn webhook on 127.0.0.1 (the bot's own app; the echo bot's route
makes the same checks), both send through the same fake Bot API (tests/fakes/telegram_api.py), and both get the
same N updates posted with the same concurrency, each from its own chat. Latency is from the POST to the reply
reaching the fake API. Each round measures every bot once, in turn (the first round warms up what they share);
throughput is the median over the rounds and latencies are taken over all of them, so one noisy moment on the
machine does not decide the figure.

With --postgres it also runs `migrant-bot run` as one and as two processes on one database (the updates posted to
each in turn), and with --rate it posts at that rate instead of as fast as the bot takes them. The bot's Telegram
pace is lifted (`messages_per_second` = PACE): the figure is what the bot could take, not the pace it keeps.

    python -m benchmarks.webhook [--updates 400] [--concurrency 40] [--rounds 3] [--rate N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import hmac
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.tables import format_table
from tests.conftest import free_port, run_cli_args
from tests.fakes.postgres import create_scratch_database, drop_scratch_database
from tests.fakes.serve import serve
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message_update
from tests.harness import ENV, config_text, running
from tests.harness import WEBHOOK_SECRET as SECRET

QUESTION = "do I need health insurance?"
TELEGRAM_CAP = 30  # messages a second Telegram lets one bot send in all
# the bot's [telegram] messages_per_second here: the fake Bot API has no limit, and what is measured is what the bot
# could take beyond Telegram's cap (with 30 the bot's own pace holds every row near 30/s)
PACE = 1000


@dataclass(frozen=True)
class Run:
    per_second: float
    latencies_ms: list[float]
    cpu_ms: float  # CPU time of this whole process (bot and harness alike) per update


Load = Callable[[list[str]], Awaitable[Run]]  # the round's load, posted to these webhook URLs
Measure = Callable[[Load, FakeTelegram], Awaitable[Run]]


async def load(
    urls: list[str], fake: FakeTelegram, updates: int, concurrency: int, first_chat: int, rate: float | None
) -> Run:
    """Post `updates` to the webhooks at `urls` in turn, `concurrency` at a time; with `rate`, one every 1/rate
    seconds (an open load, as Telegram's cap would send them), else as fast as the bot takes them."""
    posted: dict[int, float] = {}
    begun = 0.0

    async def poster(client: httpx.AsyncClient, chats: Iterator[int]) -> None:
        for chat in chats:
            if rate is not None:
                await asyncio.sleep(max(0.0, begun + (chat - first_chat) / rate - time.perf_counter()))
            posted[chat] = time.perf_counter()
            response = await client.post(
                urls[chat % len(urls)],
                json=message_update(chat, QUESTION),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            response.raise_for_status()

    chats = range(first_chat, first_chat + updates)
    arrivals: dict[int, float] = {}
    fake.calls.clear()  # earlier runs' calls would only slow the garbage collector down
    # `concurrency` posters, each with its own client and kept-alive connection, made before the clock starts: a
    # shared pool checks every idle connection on each request, and each new client loads the CA certificates
    clients = [httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) for _ in range(concurrency)]
    gc.collect()
    seen = 0
    started, cpu = time.perf_counter(), time.process_time()
    begun = started
    shared = iter(chats)
    await asyncio.gather(*(poster(client, shared) for client in clients))
    while len(arrivals) < updates:  # look at each call once: the harness must not eat the time it measures
        for call in fake.calls[seen:]:
            if call.method == "sendMessage" and int(call.params["chat_id"]) in posted:
                arrivals.setdefault(int(call.params["chat_id"]), call.at)
        seen = len(fake.calls)
        await asyncio.sleep(0.01)
    for client in clients:
        await client.aclose()
    elapsed = max(arrivals.values()) - started
    return Run(
        updates / elapsed,
        [(arrivals[chat] - posted[chat]) * 1000 for chat in chats],
        (time.process_time() - cpu) * 1000 / updates,
    )


async def full_bot(load_: Load, fake: FakeTelegram, database_url: str, extra: str) -> Run:
    """`migrant-bot run` in webhook mode, as the tests run it (tests/harness.py)."""
    async with running(config_text(database_url, fake, "webhook", extra=extra, telegram_pace=PACE)) as bot:
        return await load_([bot.url + "/telegram"])


@asynccontextmanager
async def bot_process(fake: FakeTelegram, database_url: str, folder: Path, extra: str) -> AsyncIterator[str]:
    """`migrant-bot run` as its own process; the URL of its webhook once /healthz says it is ready."""
    port = free_port()
    config = folder / f"bot-{port}.toml"
    config.write_text(
        config_text(database_url, fake, "webhook", extra=extra, telegram_pace=PACE).replace(
            "port = 0", f"port = {port}"
        )
    )
    process = await asyncio.create_subprocess_exec(
        *run_cli_args(config, "run"), env={**os.environ, **ENV}, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("a bot process did not become ready in 60 s")
        yield f"http://127.0.0.1:{port}/telegram"
    finally:
        process.terminate()
        await process.wait()


def processes(server: str, count: int, extra: str) -> Measure:
    """`count` bot processes on one PostgreSQL database, the updates posted to each in turn."""

    async def measure(load_: Load, fake: FakeTelegram) -> Run:
        url = await create_scratch_database(server, "mb_bench")
        try:
            with tempfile.TemporaryDirectory() as folder:
                async with AsyncExitStack() as stack:
                    urls = [
                        await stack.enter_async_context(bot_process(fake, url, Path(folder), extra))
                        for _ in range(count)
                    ]
                    return await load_(urls)
        finally:
            await drop_scratch_database(url, server)

    return measure


async def echo_bot(load_: Load, fake: FakeTelegram) -> Run:
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the text back."""
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def webhook(request: Request) -> Response:
        """The same checks as bot/web.py's route, then python-telegram-bot's own update queue."""
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), SECRET.encode()):
            return Response(status_code=403)
        await application.update_queue.put(Update.de_json(json.loads(await request.body()), application.bot))
        return JSONResponse({"ok": True})

    application = Application.builder().token(TOKEN).base_url(f"{fake.url}/bot").updater(None).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        served = await serve(Starlette(routes=[Route("/telegram", webhook, methods=["POST"])]))
        try:
            return await load_([served.url + "/telegram"])
        finally:
            await served.stop()
            await application.stop()


def on_sqlite(extra: str) -> Measure:
    async def measure(load_: Load, fake: FakeTelegram) -> Run:
        with tempfile.TemporaryDirectory() as folder:
            return await full_bot(load_, fake, f"sqlite+aiosqlite:///{folder}/b.db", extra)

    return measure


def on_postgres(server: str, extra: str) -> Measure:
    async def measure(load_: Load, fake: FakeTelegram) -> Run:
        url = await create_scratch_database(server, "mb_bench")
        try:
            return await full_bot(load_, fake, url, extra)
        finally:
            await drop_scratch_database(url, server)

    return measure


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-encoder", action="store_true", help='the bot with [classifier] encoder = "none"')
    parser.add_argument("--rate", type=float, help="post this many updates a second (default: as fast as taken)")
    parser.add_argument("--postgres", metavar="URL", help="also measure the full bot on this PostgreSQL server")
    args = parser.parse_args()
    extra = '[classifier]\nencoder = "none"\n' if args.no_encoder else ""
    bots: dict[str, Measure] = {"python-telegram-bot echo": echo_bot, "full migrant-bot, SQLite": on_sqlite(extra)}
    if args.postgres:
        bots["full migrant-bot, PostgreSQL"] = on_postgres(args.postgres, extra)
        bots["migrant-bot run, PostgreSQL, 1 process"] = processes(args.postgres, 1, extra)
        bots["migrant-bot run, PostgreSQL, 2 processes"] = processes(args.postgres, 2, extra)
    runs: dict[str, list[Run]] = {name: [] for name in bots}
    fake = FakeTelegram()
    await fake.start()
    try:
        for round_ in range(args.rounds):
            for number, (name, measure) in enumerate(bots.items()):
                first_chat = 10_000 + (round_ * len(bots) + number) * args.updates
                runs[name].append(
                    await measure(
                        functools.partial(
                            load,
                            fake=fake,
                            updates=args.updates,
                            concurrency=args.concurrency,
                            first_chat=first_chat,
                            rate=args.rate,
                        ),
                        fake,
                    )
                )
    finally:
        await fake.stop()
    throughput = {name: statistics.median(run.per_second for run in done) for name, done in runs.items()}
    echo = throughput["python-telegram-bot echo"]
    rows: list[list[object]] = []
    for name, done in runs.items():
        latencies = [ms for run in done for ms in run.latencies_ms]
        rows.append(
            [
                name,
                f"{throughput[name]:.0f}",
                " ".join(f"{run.per_second:.0f}" for run in done),
                f"{percentile(latencies, 0.5):.0f}",
                f"{percentile(latencies, 0.99):.0f}",
                f"{statistics.median(run.cpu_ms for run in done):.2f}",
                f"{throughput[name] / echo:.2f}",
                f"{throughput[name] / TELEGRAM_CAP:.1f}",
            ]
        )
    print(
        f"{args.updates} updates posted to the webhook, {args.concurrency} at a time, each from its own chat; "
        f"{args.rounds} rounds; "
        + ("encoder off; " if args.no_encoder else "encoder on; ")
        + (f"posted at {args.rate:.0f}/s" if args.rate else "posted as fast as the bot takes them")
    )
    print(
        format_table(
            [
                "bot",
                "updates/s (median)",
                "each round",
                "p50 ms",
                "p99 ms",
                "CPU ms/update",
                "share of echo",
                "x Telegram's 30/s",
            ],
            rows,
        )
    )
    print(
        "targets: one process sustains 3x Telegram's 30 messages/s (90 updates/s) at p99 <= 500 ms; "
        "two processes on PostgreSQL at least 1.6x one"
    )
    print("CPU ms/update is this process's: for the `migrant-bot run` rows the bots run in processes of their own")


if __name__ == "__main__":
    asyncio.run(main())
