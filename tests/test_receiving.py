"""Receiving and failing well: stored before acknowledged, taken over after a crash, outages and slow or flooding
chats survived, bad bodies refused without a 5xx. The real app (tests/harness.py) against the fake APIs."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.config import parse_config
from bot.runner import BotApp
from bot.storage.database import Database
from bot.storage.inbox import Arrival, SqlInbox
from bot.storage.models import Event, InboxItem, utcnow
from tests.conftest import answer_of, apart_from_notices, free_port
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram, callback_update, message_update
from tests.fakes.viber_api import FakeViber, conversation_started, message
from tests.harness import ENV, WEBHOOK_SECRET, bot_on, config_text

CHAT = 3001


@pytest.fixture
def fake(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram  # the shared fixture (tests/conftest.py), under the name these tests use


@pytest.fixture
def viber_fake(fake_viber: FakeViber) -> FakeViber:
    return fake_viber  # the shared fixture (tests/conftest.py), under the name these tests use


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


async def inbox_rows(database: Database) -> list[InboxItem]:
    async with database.sessions() as session:
        return list((await session.scalars(select(InboxItem).order_by(InboxItem.id))).all())


async def test_the_webhook_stores_an_update_before_it_answers(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.hanging.add(CHAT)  # the reply cannot go out: the update is stored, and still pending
    async with bot_on(sqlite(tmp_path), fake, "webhook") as bot:
        update = message_update(CHAT, "my passport number is AB1234567")
        assert (await bot.post_telegram(update)).status_code == 200
        [row] = await inbox_rows(bot.database)
        assert row.key == str(update["update_id"]) and row.status == "pending" and "AB1234567" in (row.body or "")
        fake.let_go()
        await bot.handled("telegram", row.key)
        [row] = await inbox_rows(bot.database)
        assert row.body is None


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_updates_a_dead_process_left_are_taken_over_emergencies_first(
    mode: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    database = Database(sqlite(tmp_path))
    await database.upgrade()
    dead = SqlInbox(database, "dead-process")
    updates = [
        message_update(CHAT, "is emergency care free if i have no insurance"),
        message_update(CHAT, "and where is the office"),
        message_update(CHAT + 1, "he is going to kill me"),
    ]
    for pending, urgent in zip(updates, (False, False, True), strict=True):
        chat = str(pending["message"]["chat"]["id"])
        await dead.store(Arrival("telegram", str(pending["update_id"]), chat, json.dumps(pending), urgent))
    async with database.sessions.begin() as session:
        await session.execute(update_lease(utcnow()))
    await database.close()
    async with bot_on(sqlite(tmp_path), fake, mode) as bot:
        for pending in updates:
            await bot.handled("telegram", str(pending["update_id"]))
    order = [int(m["chat_id"]) for m in fake.sent()]
    assert order[0] == CHAT + 1 and "112" in fake.sent(CHAT + 1)[0]["text"]
    first = answer_of("health-emergency-care", "en")[:30]
    assert next(m["text"][:30] for m in fake.sent(CHAT)) == first  # the chat's own order is kept


def update_lease(when: object) -> Any:
    return update(InboxItem).values(lease_until=when)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_short_outage_of_the_bot_api_loses_no_reply(mode: str, fake: FakeTelegram, tmp_path: Path) -> None:
    async with bot_on(sqlite(tmp_path), fake, mode) as bot:
        fake.outage_until = time.monotonic() + 3
        updates = [message_update(CHAT + n, "hello") for n in range(10)]
        if mode == "webhook":
            for update in updates:
                assert (await bot.post_telegram(update)).status_code == 200
        else:
            fake.updates.extend(updates)
        await eventually(lambda: len({int(m["chat_id"]) for m in fake.sent()}) == 10, 30)
    assert sorted(int(m["chat_id"]) for m in fake.sent()) == [CHAT + n for n in range(10)]


async def test_a_short_outage_of_viber_and_its_too_many_requests_lose_no_reply(
    viber_fake: FakeViber, tmp_path: Path
) -> None:
    async with bot_on(sqlite(tmp_path), viber=viber_fake) as bot:
        viber_fake.outage_until = time.monotonic() + 3
        for n in range(5):
            assert (await bot.post_viber(message(f"user{n}=", "hello"))).status_code == 200
        await eventually(lambda: len(viber_fake.sent()) == 5, 30)
        viber_fake.too_many = 1
        await bot.viber_message(message("user9=", "hello"))
        await eventually(lambda: len(viber_fake.sent("user9=")) == 1, 30)
    assert sorted(m["receiver"] for m in viber_fake.sent()) == [f"user{n}=" for n in (0, 1, 2, 3, 4, 9)]


async def test_chats_whose_calls_hang_do_not_hold_up_the_others(fake: FakeTelegram, tmp_path: Path) -> None:
    hanging = {CHAT + n for n in range(4)}
    fake.hanging |= hanging
    async with bot_on(sqlite(tmp_path), fake, "webhook") as bot:
        for chat in hanging:
            assert (await bot.post_telegram(message_update(chat, "hello"))).status_code == 200
        others = [message_update(CHAT + 100 + n, "hello") for n in range(30)]
        for update in others:
            assert (await bot.post_telegram(update)).status_code == 200
        for update in others:
            await bot.handled("telegram", str(update["update_id"]))
        assert {int(m["chat_id"]) for m in fake.sent()} == {CHAT + 100 + n for n in range(30)}  # hangers still hang
        fake.let_go()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_flooder_is_cut_off_before_his_messages_are_understood(
    mode: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    async with bot_on(sqlite(tmp_path), fake, mode, extra="flood_per_minute = 5\n") as bot:
        flood = [message_update(CHAT, f"question number {n} about health insurance") for n in range(40)]
        flood.insert(20, message_update(CHAT, "help he is going to kill me"))
        if mode == "webhook":
            for update in flood:
                assert (await bot.post_telegram(update)).status_code == 200
        else:
            fake.updates.extend(flood)
        calm = message_update(CHAT + 1, "do i need health insurance")
        await bot.telegram_update(calm)
        await bot.settled()
        async with bot.database.sessions() as session:
            understood = (await session.scalars(select(Event.action))).all()
        rows = await inbox_rows(bot.database)
    texts = [m["text"] for m in fake.sent(CHAT)]
    assert len(rows) == 5 + 1 + 1 + 1  # what the gate let through; the rest was never stored
    notices, answers = apart_from_notices(texts)
    assert len(notices) == 1  # sent at once, not behind his other messages
    assert len(answers) == 7 and "112" in answers[5]  # five answers, the emergency's 112 and its ticket notice
    assert len(understood) == 5 + 1 + 1  # the flooder's five, his emergency, the calm user's question
    assert all(row.body is None for row in rows)
    assert len(fake.sent(CHAT + 1)) == 1


async def test_past_a_burst_messages_take_turns_and_an_emergency_behind_them_waits_for_none(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    # one message read at once, then one every 10 s: the second and third would be read 10 and 20 s later
    async with bot_on(sqlite(tmp_path), fake, bot_keys="flood_per_minute = 6\nflood_burst = 1\n") as bot:
        questions = ["do i need health insurance", "where do i apply for asylum", "how do i register a gp"]
        fake.updates.extend(message_update(CHAT, text) for text in questions)
        await eventually(lambda: len(fake.sent(CHAT)) == 1, 5)
        rows = await inbox_rows(bot.database)
        assert [row.status for row in rows] == ["done", "pending", "pending"]  # stored, waiting their turns
        assert len(fake.sent(CHAT)) == 1
        await bot.telegram_update(message_update(CHAT, "help he is going to kill me"), wait=False)
        await bot.telegram_update(message_update(CHAT, "where do i register my address"), wait=False)
        await bot.telegram_update(message_update(CHAT, "he has a knife, he is going to kill me"), wait=False)
        await bot.settled(5)  # well before the turns (10, 20, 30 s): the emergencies hurried what stood ahead
    urgent = [m["text"].startswith("If you or someone else is in danger, call 112") for m in fake.sent(CHAT)]
    assert urgent[:4] == [False, False, False, True]  # in order: the three questions' replies, then the 112
    assert sum(urgent) == 2  # the second emergency's too, behind the fourth question


async def test_a_stopping_bot_reads_the_messages_waiting_their_turn_before_it_ends(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async with bot_on(sqlite(tmp_path), fake, bot_keys="flood_per_minute = 6\nflood_burst = 1\n") as bot:
        fake.updates.extend(message_update(CHAT, f"question {n} about health insurance") for n in range(3))
        await eventually(lambda: len(fake.sent(CHAT)) == 1, 5)
        bot.stop.set()
        await asyncio.wait_for(bot.app.close(), 5)  # the turns would have been 10 and 20 s away
    assert len(fake.sent(CHAT)) == 3
    assert [row.status for row in await inbox_rows(bot.database)] == ["done"] * 3


async def test_bodies_over_the_limit_are_refused_before_they_are_read(fake: FakeTelegram, tmp_path: Path) -> None:
    async with bot_on(sqlite(tmp_path), fake, "webhook") as bot:  # Viber is not enabled: /viber refuses too
        huge = b"x" * 2_000_000

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b"y" * 50_000

        async with httpx.AsyncClient() as client:
            for path in ("/telegram", "/viber", "/healthz"):
                assert (await client.post(bot.url + path, content=huge)).status_code == 413, path
            streamed = await client.post(
                bot.url + "/telegram",
                content=chunks(),  # no length said: counted
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
            assert streamed.status_code == 413
            assert (await client.get(bot.url + "/healthz")).status_code == 200
    assert await inbox_rows(bot.database) == []


def hostile_bodies(rng: random.Random) -> list[bytes]:
    """Bodies an authentic webhook might carry that are broken in every way we could think of."""
    base = message_update(CHAT, "hello")
    bodies: list[Any] = [
        "[" * 50_000 + "]" * 50_000,
        {"update_id": 1, "message": {"date": 10**30, "chat": {"id": 1}}},
        {"update_id": 2, "message": {"date": float("1e300"), "chat": {"id": 1, "type": "private"}}},
        {
            **base,
            "update_id": 3,
            "message": {**base["message"], "from": {**base["message"]["from"], "language_code": 7}},
        },
        {**base, "update_id": 4, "message": {**base["message"], "text": "\ud800 lone"}},
        {"update_id": "five"},
        {"update_id": None},
        [],
        "",
        12,
        None,
        {"update_id": 6, "callback_query": "x"},
        {"update_id": 7, "message": {"chat": {"id": "abc", "type": 5}, "date": "yesterday"}},
        {"update_id": 8, "message": {**base["message"], "text": {"nested": ["deep"]}}},
    ]
    for n in range(250):
        broken = json.loads(json.dumps(base))
        broken["update_id"] = 100 + n
        target = broken["message"]
        key = rng.choice(["date", "chat", "from", "text", "message_id", "entities", "photo", "caption"])
        target[key] = rng.choice([None, -1, 10**25, "", "x" * 5000, [], {}, [1, 2], {"id": None}, True, 1.5e308])
        bodies.append(broken)
    out = []
    for body in bodies:
        try:
            out.append(json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError):
            out.append(repr(body).encode())
    return out


async def test_an_authentic_webhook_with_a_broken_body_never_gets_a_5xx(
    fake: FakeTelegram, viber_fake: FakeViber, tmp_path: Path
) -> None:
    rng = random.Random(9)
    async with bot_on(sqlite(tmp_path), fake, "webhook", viber=viber_fake) as bot:
        statuses = [(await bot.post_telegram(None, content=body)).status_code for body in hostile_bodies(rng)]
        viber_bodies = [
            b"[" * 50_000,
            json.dumps({"event": "message", "message_token": 1}).encode(),
            json.dumps({"event": "conversation_started", "message_token": 2, "user": 5}).encode(),
            json.dumps({**conversation_started("u="), "user": {"id": "u=", "language": 7}}).encode(),
            json.dumps({**message("u=", "hi"), "sender": {"id": None}}).encode(),
            json.dumps({**message("u=", "\ud800"), "message_token": 77}).encode("utf-8", "surrogatepass"),
        ]
        statuses += [(await bot.post_viber(content=body)).status_code for body in viber_bodies]
        assert all(status in (200, 400) for status in statuses), sorted(set(statuses))
        await bot.telegram_update(message_update(CHAT + 9, "is emergency care free if i have no insurance"))
    assert fake.sent(CHAT + 9)[-1]["text"].startswith(answer_of("health-emergency-care", "en")[:30])


async def test_when_too_much_waits_the_webhook_asks_to_come_back_later(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.hanging.add(CHAT)
    async with bot_on(sqlite(tmp_path), fake, "webhook") as bot:
        assert bot.app.intake is not None
        bot.app.intake._backlog = 3  # a small backlog, to reach it with a few updates
        statuses = [(await bot.post_telegram(message_update(CHAT, f"m{n}"))).status_code for n in range(5)]
        fake.let_go()
    assert statuses == [200, 200, 200, 503, 503]


async def test_an_unreachable_bot_api_at_start_is_tried_again_and_healthz_says_503_meanwhile(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    late = FakeTelegram()
    late.url = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.WARNING, logger="bot.runner")
    app = BotApp(parse_config(config_text(sqlite(tmp_path), late), "test", tmp_path, env={}), ENV)
    stop = asyncio.Event()
    starting = asyncio.create_task(app.start(stop))
    try:
        await eventually(lambda: "cannot reach it" in caplog.text, 30)
        assert app.parts.server is not None and not starting.done()
        bot_port = app.parts.server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{bot_port}/healthz")).status_code == 503
            await late.start(port)
            assert await asyncio.wait_for(starting, 30)
            assert (await client.get(f"http://127.0.0.1:{bot_port}/healthz")).status_code == 200
        late.updates.append(message_update(CHAT, "hello"))
        await eventually(lambda: bool(late.sent(CHAT)), 30)
    finally:
        stop.set()
        await app.close()
        await late.stop()
    assert "Telegram Bot API: cannot reach it" in caplog.text and "Traceback" not in caplog.text
    assert late.sent(CHAT)[0]["text"].startswith("Hello!")


async def test_logs_at_the_default_level_hold_no_text_and_no_platform_id(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    chat = 987654321
    async with bot_on(sqlite(tmp_path), fake) as bot:
        for text in ("/start", "my passport is XY7654321", "/consultant", "my landlord took my passport XY7654321"):
            await bot.telegram_update(message_update(chat, text))
        await bot.telegram_update(callback_update(chat, "t:health"))
    assert fake.sent(chat)
    assert str(chat) not in caplog.text and "XY7654321" not in caplog.text and "landlord" not in caplog.text
