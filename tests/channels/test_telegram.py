"""The Telegram channel against a fake Bot API over real HTTP (tests/fakes/telegram_api.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from telegram import Bot, Update

from bot.channels.telegram import API_CONNECTIONS, TelegramChannel, connect
from bot.config import Config
from bot.core.engine import Engine
from bot.core.flood import FloodGate
from bot.core.handoff import ConsultantInfo, Desk
from bot.dispatch import Dispatcher
from bot.i18n import I18n
from bot.lanes import Lanes
from bot.runner import poll
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import User
from bot.storage.outbox import SqlOutbox
from bot.storage.updates import SqlUpdateLog
from bot.storage.users import SqlUserStore
from bot.web import create_app
from tests.conftest import ROOT, free_port, run_config
from tests.fakes.serve import Served, eventually, serve
from tests.fakes.telegram_api import TOKEN, FakeTelegram, callback_update, message_update

CHAT = 555


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'tg.db'}")
    await database.upgrade()
    yield database
    await database.close()


def bot_for(fake: FakeTelegram) -> Bot:
    return connect(TOKEN, fake.url)


def engine_on(engine: Engine, config: Config, database: Database, flood: int | None = None) -> Engine:
    fresh = Engine.__new__(Engine)
    fresh.__dict__.update(engine.__dict__)
    fresh.store = SqlUserStore(database)
    fresh.desk = Desk(SqlDesk(database), I18n(config.bot.languages), config.handoff)
    fresh.flood = FloodGate(flood) if flood else None
    return fresh


@pytest.fixture
async def channel(fake: FakeTelegram, engine: Engine, config: Config, sqlite: Database) -> AsyncIterator[TelegramChannel]:
    bot = bot_for(fake)
    await bot.initialize()
    chat = engine_on(engine, config, sqlite)
    assert chat.store is not None
    yield TelegramChannel(bot, chat.handle, SqlUpdateLog(sqlite, "telegram").first_time, deactivate=chat.store.deactivate)
    await bot.shutdown()


SECRET = "s3cret"


class _CountedLanes(Lanes):
    """Lanes that count the updates they were given, so a test knows when polling has taken one."""

    taken = 0

    def start(self, chat: str, work: Coroutine[object, object, None]) -> None:
        self.taken += 1
        super().start(chat, work)


class Delivery:
    """Hands updates to a channel as `migrant-bot run` does, by long polling or through the webhook app, and
    waits until each has been handled."""

    def __init__(self, channel: TelegramChannel, fake: FakeTelegram, mode: str) -> None:
        self.channel, self.fake, self.mode = channel, fake, mode
        self.lanes = _CountedLanes()
        self._stop = asyncio.Event()
        self._polling: asyncio.Task[None] | None = None
        self._served: Served | None = None

    async def __aenter__(self) -> Delivery:
        if self.mode == "polling":
            self._polling = asyncio.create_task(poll(self.channel, self.lanes, self._stop, timeout=1))
        else:
            self._served = await serve(create_app(self.lanes, lambda: True, self.channel, SECRET))
        return self

    async def __call__(self, update: dict[str, Any]) -> None:
        if self._served is not None:
            async with httpx.AsyncClient() as client:
                response = await client.post(f"{self._served.url}/telegram", json=update,
                                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert response.status_code == 200
        else:
            taken = self.lanes.taken
            self.fake.updates.append(update)
            await eventually(lambda: self.lanes.taken > taken)
            assert self.lanes.taken > taken, "polling did not take the update"
        await self.lanes.drain()

    async def __aexit__(self, *_: object) -> None:
        self._stop.set()
        if self._polling is not None:
            await asyncio.wait_for(self._polling, 5)
        if self._served is not None:
            await self._served.stop()
        await self.lanes.drain()


@pytest.fixture(params=["polling", "webhook"])
async def deliver(
    request: pytest.FixtureRequest, channel: TelegramChannel, fake: FakeTelegram
) -> AsyncIterator[Delivery]:
    """Every test that takes this runs twice: with updates fetched by long polling, and posted to the webhook."""
    async with Delivery(channel, fake, request.param) as delivery:
        yield delivery


async def test_a_question_gets_its_answer_as_escaped_html_with_buttons(deliver: Delivery, fake: FakeTelegram) -> None:
    await deliver(message_update(CHAT, "нужна ли мне медицинская страховка?", language="ru"))
    [sent] = fake.sent(CHAT)
    assert sent["parse_mode"] == "HTML"
    assert sent["text"].startswith("Да. В Болгарии медицинское страхование обязательно")
    data = [b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert "e:health-insurance-cost" in data and "f:+:e:health-insurance-obligatory" in data


async def test_start_greets_in_the_language_of_the_telegram_client(deliver: Delivery, fake: FakeTelegram) -> None:
    await deliver(message_update(CHAT, "/start", language="uk"))
    welcome, topics = fake.sent(CHAT)
    assert welcome["text"].startswith("Вітаю!")
    labels = [b["text"] for row in welcome["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Български", "English", "Русский", "Українська", "العربية", "فارسی"]
    assert topics["text"] == "Оберіть тему:"


async def test_every_callback_is_answered_even_a_garbled_one(deliver: Delivery, fake: FakeTelegram) -> None:
    await deliver(callback_update(CHAT, "t:health"))
    await deliver(callback_update(CHAT, "\u0000nonsense"))
    assert len(fake.called("answerCallbackQuery")) == 2
    first, second = fake.sent(CHAT)
    assert first["text"].startswith("Health and health insurance")
    assert second["text"] == "That button is no longer valid. Here are the topics."


async def test_media_gets_a_text_only_reply_or_joins_an_open_ticket(
    deliver: Delivery, fake: FakeTelegram, sqlite: Database
) -> None:
    photo = {"photo": [{"file_id": "small", "file_unique_id": "s", "width": 1, "height": 1},
                       {"file_id": "big", "file_unique_id": "b", "width": 9, "height": 9}]}
    await deliver(message_update(CHAT, language="en", **photo))
    assert fake.sent(CHAT)[-1]["text"].startswith("I can only read text messages")
    await deliver(message_update(CHAT, "/consultant"))
    await deliver(message_update(CHAT, language="en", caption="my residence card", **photo))
    assert fake.sent(CHAT)[-1]["text"] == "Added to your question. A consultant will read it."
    [ticket] = await SqlDesk(sqlite).list_tickets()
    _, lines = await SqlDesk(sqlite).show(ticket.id)
    assert lines[-1].text == "[photo big] my residence card"


async def test_groups_get_silence(deliver: Delivery, fake: FakeTelegram) -> None:
    await deliver(message_update(-100, "hello", chat_type="supergroup"))
    await deliver(message_update(-100, "/start", chat_type="group"))
    assert fake.sent() == []


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_repeated_update_is_handled_once_even_after_a_restart(
    mode: str, channel: TelegramChannel, fake: FakeTelegram, engine: Engine, config: Config, tmp_path: Path
) -> None:
    update = message_update(CHAT, "hello", update_id=777_001)
    async with Delivery(channel, fake, mode) as deliver:
        await deliver(update)
        if mode == "webhook":  # long polling never hands out an update twice in one run; a restart does
            await deliver(update)
    restarted_db = Database(f"sqlite+aiosqlite:///{tmp_path / 'tg.db'}")
    try:
        restarted = TelegramChannel(channel.bot, engine_on(engine, config, restarted_db).handle,
                                    SqlUpdateLog(restarted_db, "telegram").first_time)
        async with Delivery(restarted, fake, mode) as after_restart:
            await after_restart(update)
    finally:
        await restarted_db.close()
    assert len(fake.sent(CHAT)) == 1


async def test_a_429_is_waited_out_and_the_reply_still_arrives(deliver: Delivery, fake: FakeTelegram) -> None:
    fake.too_many["sendMessage"] = 1
    await deliver(message_update(CHAT, "hello"))
    refused, accepted = fake.called("sendMessage")
    assert refused == accepted and fake.sent(CHAT) == [accepted]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_flood_control_sends_one_notice_then_silence_without_slowing_others(
    mode: str, fake: FakeTelegram, engine: Engine, config: Config, sqlite: Database
) -> None:
    bot = bot_for(fake)
    await bot.initialize()
    try:
        channel = TelegramChannel(bot, engine_on(engine, config, sqlite, flood=5).handle,
                                  SqlUpdateLog(sqlite, "telegram").first_time)
        async with Delivery(channel, fake, mode) as deliver:
            for _ in range(9):
                await deliver(message_update(CHAT, "hello"))
            await deliver(message_update(CHAT + 1, "hello"))
    finally:
        await bot.shutdown()
    texts = [m["text"] for m in fake.sent(CHAT)]
    assert len(texts) == 6 and texts[-1].startswith("You are writing very fast")
    assert len(fake.sent(CHAT + 1)) == 1


async def test_a_consultants_answer_reaches_the_telegram_user_in_their_language(
    deliver: Delivery, channel: TelegramChannel, fake: FakeTelegram, sqlite: Database, config: Config
) -> None:
    await deliver(message_update(CHAT, "/consultant", language="ru"))
    await deliver(message_update(CHAT, "Хозяин квартиры не возвращает залог", language="ru"))
    store = SqlDesk(sqlite)
    await store.add_consultant(ConsultantInfo("maria", ("ru",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    desk = Desk(store, I18n(config.bot.languages), config.handoff)
    await desk.reply(ticket.id, "maria", "Попросите расписку <и> договор. " * 300)
    await Dispatcher(SqlOutbox(sqlite), {"telegram": channel}).deliver_once("telegram")
    parts = fake.sent(CHAT)[2:]
    assert parts[0]["text"].startswith("Консультант:\n\nПопросите расписку &lt;и&gt; договор.")
    assert len(parts) > 1 and all(len(p["text"]) <= 4096 for p in parts)


async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    deliver: Delivery, channel: TelegramChannel, fake: FakeTelegram, sqlite: Database, config: Config
) -> None:
    await deliver(message_update(CHAT, "/consultant"))
    store = SqlDesk(sqlite)
    await store.add_consultant(ConsultantInfo("maria", ("en",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    await Desk(store, I18n(config.bot.languages), config.handoff).reply(ticket.id, "maria", "hello")
    fake.blocked.add(CHAT)
    await Dispatcher(SqlOutbox(sqlite), {"telegram": channel}).deliver_once("telegram")
    assert await SqlOutbox(sqlite).counts() == {"failed": 1}
    assert (await store.list_tickets())[0].delivery_failed


async def test_a_user_who_blocked_the_bot_is_inactive_after_an_immediate_reply_fails(
    deliver: Delivery, fake: FakeTelegram, sqlite: Database
) -> None:
    await deliver(message_update(CHAT, "hello"))
    fake.blocked.add(CHAT)
    await deliver(message_update(CHAT, "hello again"))
    async with sqlite.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]
    assert len(fake.called("sendMessage")) == 2  # the refused one was not retried


async def test_polling_handles_queued_updates_and_stops_cleanly(channel: TelegramChannel, fake: FakeTelegram) -> None:
    fake.updates.append(message_update(CHAT, "hello"))
    stop = asyncio.Event()
    polling = asyncio.create_task(poll(channel, Lanes(), stop, timeout=1))
    await eventually(lambda: bool(fake.sent(CHAT)))
    stop.set()
    await asyncio.wait_for(polling, 5)
    assert fake.sent(CHAT)[0]["text"].startswith("Hello!")


async def test_while_one_users_reply_waits_out_a_429_the_others_are_answered(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.too_many_for[CHAT] = 1
    fake.updates += [message_update(CHAT, "hello"), message_update(CHAT + 1, "hello")]
    stop, lanes = asyncio.Event(), Lanes()
    polling = asyncio.create_task(poll(channel, lanes, stop, timeout=1))
    await eventually(lambda: len(fake.sent()) == 2)
    stop.set()
    await asyncio.wait_for(polling, 5)
    await lanes.drain()
    assert [int(m["chat_id"]) for m in fake.sent()] == [CHAT + 1, CHAT]


async def test_no_more_than_a_few_bot_api_calls_are_in_flight_at_once(fake: FakeTelegram) -> None:
    fake.delay = 0.05
    bot = bot_for(fake)
    await bot.initialize()
    try:
        await asyncio.gather(*(bot.send_message(chat, "hi") for chat in range(1, 21)))
    finally:
        await bot.shutdown()
    assert len(fake.sent()) == 20 and fake.most_in_flight == API_CONNECTIONS


async def test_the_webhook_checks_its_secret_and_answers_at_once(channel: TelegramChannel, fake: FakeTelegram) -> None:
    lanes = Lanes()
    served = await serve(create_app(lanes, lambda: True, channel, "s3cret"))
    url = served.url
    try:
        async with httpx.AsyncClient() as client:
            update = message_update(CHAT, "hello")
            assert (await client.post(f"{url}/telegram", json=update)).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            assert (await client.post(f"{url}/telegram", json=update, headers=wrong)).status_code == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            assert (await client.post(f"{url}/telegram", content=b"{not json", headers=right)).status_code == 400
            assert (await client.post(f"{url}/telegram", json={"message": "no"}, headers=right)).status_code == 400
            assert (await client.post(f"{url}/telegram", json=update, headers=right)).status_code == 200
            assert (await client.get(f"{url}/healthz")).status_code == 200
        await lanes.drain()
    finally:
        await served.stop()
    assert len(fake.sent(CHAT)) == 1


def test_run_without_the_token_names_the_variable(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\n[telegram]\nenabled = true\n')
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "run"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.stderr


async def test_run_polls_answers_and_stops_on_sigterm(fake: FakeTelegram, tmp_path: Path) -> None:
    config = run_config(tmp_path, f'[telegram]\nenabled = true\napi_base_url = "{fake.url}"\n')
    fake.updates.append(message_update(CHAT, "where can I learn bulgarian"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}, stderr=asyncio.subprocess.PIPE,
    )
    await eventually(lambda: bool(fake.sent(CHAT)))
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(CHAT)[0]["text"].startswith("The information centres for migrants run free Bulgarian")
    languages = {c.get("language_code") for c in fake.called("setMyCommands")}
    assert languages >= {"bg", "en", "ru", "uk", "ar", "fa"}
    assert TOKEN not in stderr.decode()


@pytest.mark.parametrize(
    "command", ["/start", "/help", "/topics", "/language", "/consultant", "/cancel", "/privacy", "/forget"]
)
async def test_every_command_answers_in_the_users_language(
    deliver: Delivery, fake: FakeTelegram, engine: Engine, command: str
) -> None:
    await deliver(message_update(CHAT, command, language="bg"))
    replies = fake.sent(CHAT)
    assert replies, command
    bulgarian = {engine.replies.welcome("bg").text, engine.replies.help("bg").text, engine.replies.topics("bg").text,
                 engine.replies.choose_language("bg").text, engine.replies.privacy("bg", 90).text,
                 engine.replies.forgotten("bg").text, "Нямате отворен въпрос към консултант."}
    first = replies[0]["text"]
    assert first in bulgarian or first.startswith("Консултант ще ви отговори тук"), (command, first)


async def test_run_in_webhook_mode_registers_the_webhook_and_serves_it(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    config = run_config(tmp_path, f'[telegram]\nenabled = true\nmode = "webhook"\napi_base_url = "{fake.url}"\n'
                                  f'[web]\nport = {port}\npublic_url = "https://bot.example.org"\n')
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "hook-secret"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient() as client:
            async def healthy() -> bool:
                try:
                    return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy)
            [hook] = fake.called("setWebhook")
            assert hook["url"] == "https://bot.example.org/telegram" and hook["secret_token"] == "hook-secret"
            assert set(hook["allowed_updates"]) == {"message", "callback_query"}
            response = await client.post(f"http://127.0.0.1:{port}/telegram", json=message_update(CHAT, "hello"),
                                          headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"})
            assert response.status_code == 200
        await eventually(lambda: bool(fake.sent(CHAT)))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(CHAT)[0]["text"].startswith("Hello!")
