"""The Viber channel: signed callbacks posted to the bot's own HTTP app, replies to a fake Viber API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.channels.viber import PRESS, ViberChannel, signature_of
from bot.config import Config
from bot.core.engine import Engine
from bot.core.handoff import ConsultantInfo, Desk
from bot.dispatch import Dispatcher
from bot.i18n import I18n
from bot.lanes import Lanes
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Outbox, User, utcnow
from bot.storage.outbox import SqlOutbox
from bot.web import create_app
from tests.channels.test_telegram import engine_on
from tests.conftest import free_port, run_config
from tests.fakes.serve import eventually, serve
from tests.fakes.viber_api import TOKEN, FakeViber, conversation_started, event, message, signed

ME = "01234567890A="


def test_the_signature_matches_viberbots_own_test_vector() -> None:
    body = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
    assert signature_of(body, TOKEN) == "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"


@dataclass
class Setup:
    fake: FakeViber
    channel: ViberChannel
    database: Database
    lanes: Lanes
    url: str
    client: httpx.AsyncClient

    async def post(self, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        body, signed_headers = signed(payload)
        response = await self.client.post(self.url, content=body, headers=signed_headers if headers is None else headers)
        await self.lanes.drain()
        return response

    async def deliver(self) -> None:
        await Dispatcher(SqlOutbox(self.database), {"viber": self.channel}).deliver_once("viber")


@pytest.fixture
async def viber(engine: Engine, config: Config, tmp_path: Path) -> AsyncIterator[Setup]:
    fake = FakeViber()
    await fake.start()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'viber.db'}")
    await database.upgrade()
    chat = engine_on(engine, config, database)
    assert chat.store is not None
    outbox = SqlOutbox(database)
    http = httpx.AsyncClient()
    channel = ViberChannel(TOKEN, fake.url, "Migrant Help", "", http, chat.handle, chat.store.deactivate,
                           lambda token, what: outbox.receipt("viber", token, what))
    lanes = Lanes()
    served = await serve(create_app(lanes, lambda: True, viber=channel))
    async with httpx.AsyncClient() as client:
        yield Setup(fake, channel, database, lanes, served.url + "/viber", client)
    await served.stop()
    await http.aclose()
    await database.close()
    await fake.stop()


async def test_callbacks_without_the_right_signature_are_refused(viber: Setup) -> None:
    body, _ = signed(message(ME, "hello"))
    assert (await viber.post(body, headers={})).status_code == 403
    assert (await viber.post(body, headers={"X-Viber-Content-Signature": "00" * 32})).status_code == 403
    assert (await viber.post(b"{not json")).status_code == 400
    assert (await viber.post({"event": "something_new", "timestamp": 1})).status_code == 200
    assert (await viber.post({"event": "webhook", "timestamp": 1, "message_token": 1, "chat_hostname": "x"})).status_code == 200
    assert viber.fake.sent() == []


async def test_conversation_started_is_answered_with_the_welcome_in_the_body(viber: Setup) -> None:
    response = await viber.post(conversation_started(ME, "uk"))
    welcome = response.json()
    assert welcome["type"] == "text" and welcome["text"].startswith("Вітаю!")
    assert welcome["sender"]["name"] == "Migrant Help"
    buttons = welcome["keyboard"]["Buttons"]
    assert [b["Text"] for b in buttons] == ["Български", "English", "Русский", "Українська", "العربية", "فارسی"]
    assert all(b["ActionType"] == "reply" and b["Columns"] == 6 and b["ActionBody"].startswith(PRESS) for b in buttons)
    assert viber.fake.sent() == []  # nothing else may be sent before the user writes


async def test_a_question_is_answered_with_a_keyboard_and_a_press_works(viber: Setup) -> None:
    await viber.post(message(ME, "чи потрібна мені медична страховка", language="uk"))
    [answer] = viber.fake.sent(ME)
    assert answer["text"].startswith("Так.") and answer["sender"]["name"] == "Migrant Help"
    bodies = [b["ActionBody"] for b in answer["keyboard"]["Buttons"]]
    assert f"{PRESS}f:+:e:health-insurance-obligatory" in bodies
    thumbs = [b for b in answer["keyboard"]["Buttons"] if b["Text"] in ("👍", "👎")]
    assert [b["Columns"] for b in thumbs] == [3, 3]
    await viber.post(message(ME, f"{PRESS}t:work", language="uk"))
    assert viber.fake.sent(ME)[-1]["text"] == "Робота: оберіть запитання."


async def test_media_gets_a_text_only_reply_or_joins_an_open_ticket(viber: Setup) -> None:
    picture = {"type": "picture", "text": "", "media": "http://example.com/p.jpg", "thumbnail": "http://example.com/t.jpg"}
    await viber.post(message(ME, **picture))
    assert viber.fake.sent(ME)[-1]["text"].startswith("I can only read text messages")
    await viber.post(message(ME, "/consultant"))
    await viber.post(message(ME, **{**picture, "text": "my card"}))
    [ticket] = await SqlDesk(viber.database).list_tickets()
    _, lines = await SqlDesk(viber.database).show(ticket.id)
    assert lines[-1].text == "[picture http://example.com/p.jpg] my card"


async def test_a_retried_callback_is_handled_once(viber: Setup) -> None:
    retried = message(ME, "hello", token=777)
    await viber.post(retried)
    await viber.post(retried)
    assert len(viber.fake.sent(ME)) == 1


async def test_subscribing_brings_the_welcome_and_the_topics(viber: Setup) -> None:
    await viber.post({"event": "subscribed", "timestamp": 1457764197627, "message_token": 42,
                      "user": {"id": ME, "name": "A", "language": "ar", "api_version": 1}})
    welcome, topics = viber.fake.sent(ME)
    assert welcome["text"].startswith("مرحباً!") and topics["text"] == "اختر موضوعاً:"


async def test_unsubscribed_users_get_nothing_more(viber: Setup) -> None:
    await viber.post(message(ME, "hello"))
    await viber.post(event("unsubscribed", ME, 1))
    async with viber.database.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]


async def test_a_consultants_answer_reaches_the_viber_user_and_receipts_are_recorded(viber: Setup, config: Config) -> None:
    await viber.post(message(ME, "/consultant", language="ru"))
    await viber.post(message(ME, "Хозяин не возвращает залог", language="ru"))
    store = SqlDesk(viber.database)
    await store.add_consultant(ConsultantInfo("maria", ("ru",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    await Desk(store, I18n(config.bot.languages), config.handoff).reply(ticket.id, "maria", "Попросите расписку. " * 500)
    await viber.deliver()
    parts = viber.fake.sent(ME)[2:]
    assert parts[0]["text"].startswith("Консультант:\n\nПопросите расписку.")
    assert len(parts) == 2 and all(len(p["text"]) <= 7000 for p in parts)
    async with viber.database.sessions() as session:
        [row] = (await session.scalars(select(Outbox))).all()
    assert row.status == "sent" and row.provider_id is not None
    await viber.post(event("delivered", ME, int(row.provider_id)))
    await viber.post(event("seen", ME, int(row.provider_id)))
    async with viber.database.sessions() as session:
        assert (await session.scalars(select(Outbox.receipt))).all() == ["seen"]


async def test_too_many_requests_backs_off_and_not_subscribed_stops(viber: Setup, config: Config) -> None:
    await viber.post(message(ME, "/consultant"))
    store = SqlDesk(viber.database)
    await store.add_consultant(ConsultantInfo("maria", ("en",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    await Desk(store, I18n(config.bot.languages), config.handoff).reply(ticket.id, "maria", "hello")
    viber.fake.too_many = 1
    await viber.deliver()
    assert await SqlOutbox(viber.database).counts() == {"pending": 1}
    viber.fake.unsubscribed.add(ME)
    async with viber.database.sessions.begin() as session:
        await session.execute(update(Outbox).values(next_attempt_at=utcnow()))
    await viber.deliver()
    assert await SqlOutbox(viber.database).counts() == {"failed": 1}
    assert (await store.list_tickets())[0].delivery_failed


def test_set_webhook_by_hand_prints_vibers_answer(tmp_path: Path) -> None:
    async def scenario() -> tuple[subprocess.CompletedProcess[str], list[tuple[str, dict[str, Any]]]]:
        fake = FakeViber()
        await fake.start()
        config = tmp_path / "bot.toml"
        config.write_text(f'[viber]\napi_base_url = "{fake.url}"\n[web]\npublic_url = "https://bot.example.org"\n')
        try:
            result = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "bot", "--config", str(config), "viber", "set-webhook"],
                capture_output=True, text=True, env={**os.environ, "VIBER_AUTH_TOKEN": TOKEN}, timeout=60,
            )
        finally:
            await fake.stop()
        return result, fake.calls

    result, calls = asyncio.run(scenario())
    assert result.returncode == 0, result.stderr
    assert '"status": 0' in result.stdout
    [(method, params)] = calls
    assert method == "set_webhook" and params["url"] == "https://bot.example.org/viber"
    assert "conversation_started" in params["event_types"]


async def test_run_serves_viber_and_sets_its_webhook(tmp_path: Path) -> None:
    fake = FakeViber()
    await fake.start()
    port = free_port()
    config = run_config(tmp_path, f'[viber]\nenabled = true\napi_base_url = "{fake.url}"\n'
                                  f'[web]\nport = {port}\npublic_url = "https://bot.example.org"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        env={**os.environ, "VIBER_AUTH_TOKEN": TOKEN}, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: any(m == "set_webhook" for m, _ in fake.calls))
        body, headers = signed(message(ME, "where can I learn bulgarian"))
        async with httpx.AsyncClient() as client:
            assert (await client.post(f"http://127.0.0.1:{port}/viber", content=body, headers=headers)).status_code == 200
        await eventually(lambda: bool(fake.sent(ME)))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await fake.stop()
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(ME)[0]["text"].startswith("The information centres for migrants run free Bulgarian")
