"""The Viber channel: signed callbacks posted to the bot's own HTTP app, replies to a fake Viber API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.channels.viber.adapter import PRESS, ViberChannel, ViberStatus, signature_of
from bot.core.handoff import ConsultantInfo
from bot.storage.desk import SqlDesk
from bot.storage.models import Outbox, User, utcnow
from bot.storage.outbox import SqlOutbox
from bot.types import Address, DeliveryError, Outbound
from tests.conftest import answer_of, free_port, run_config
from tests.fakes.serve import eventually
from tests.fakes.viber_api import TOKEN, FakeViber, conversation_started, event, message, signed
from tests.harness import Running, bot_on

ME = "01234567890A="


def test_the_signature_matches_viberbots_own_test_vector() -> None:
    body = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
    assert signature_of(body, TOKEN) == "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"


@pytest.fixture
def fake(fake_viber: FakeViber) -> FakeViber:
    return fake_viber  # the shared fixture (tests/conftest.py), under the name these tests use


@pytest.fixture
async def viber(fake: FakeViber, tmp_path: Path) -> AsyncIterator[Running]:
    async with bot_on(f"sqlite+aiosqlite:///{tmp_path / 'viber.db'}", viber=fake) as bot:
        yield bot


async def post(bot: Running, payload: dict[str, Any]) -> httpx.Response:
    """Post a signed callback and wait until it is handled."""
    response = await bot.post_viber(payload)
    assert response.status_code == 200, response.text
    if payload.get("event") not in (None, "conversation_started", "webhook", "something_new"):
        await bot.handled("viber", f"{payload['event']}:{payload['message_token']}")
    return response


async def claimed_ticket(bot: Running, language: str) -> int:
    store = SqlDesk(bot.database)
    await store.add_consultant(ConsultantInfo("maria", (language,)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    return ticket.id


async def test_callbacks_without_the_right_signature_are_refused(viber: Running, fake: FakeViber) -> None:
    body, _ = signed(message(ME, "hello"))
    assert (await viber.post_viber(content=body, signature="")).status_code == 403
    assert (await viber.post_viber(content=body, signature="00" * 32)).status_code == 403
    assert (await viber.post_viber(content=b"{not json")).status_code == 400
    assert (await post(viber, {"event": "something_new", "timestamp": 1})).status_code == 200
    assert (
        await post(viber, {"event": "webhook", "timestamp": 1, "message_token": 1, "chat_hostname": "x"})
    ).status_code == 200
    assert fake.sent() == []


async def test_conversation_started_is_answered_with_the_welcome_in_the_body(viber: Running, fake: FakeViber) -> None:
    response = await post(viber, conversation_started(ME, "uk"))
    welcome = response.json()
    assert welcome["type"] == "text" and welcome["text"].startswith("Вітаю!")
    assert welcome["sender"]["name"] == "Migrant Help"
    buttons = welcome["keyboard"]["Buttons"]
    assert [b["Text"] for b in buttons] == ["Български", "English", "Русский", "Українська", "العربية", "فارسی"]
    assert all(b["ActionType"] == "reply" and b["Columns"] == 6 and b["ActionBody"].startswith(PRESS) for b in buttons)
    assert fake.sent() == []  # nothing else may be sent before the user writes


async def test_a_question_is_answered_with_a_keyboard_and_a_press_works(viber: Running, fake: FakeViber) -> None:
    await post(viber, message(ME, "чи безкоштовна швидка допомога без страховки", language="uk"))
    [answer] = fake.sent(ME)
    assert answer["text"].startswith(answer_of("health-emergency-care", "uk")[:40])
    assert answer["sender"]["name"] == "Migrant Help"
    bodies = [b["ActionBody"] for b in answer["keyboard"]["Buttons"]]
    assert f"{PRESS}f:+:e:health-emergency-care" in bodies
    thumbs = [b for b in answer["keyboard"]["Buttons"] if b["Text"] in ("👍", "👎")]
    assert [b["Columns"] for b in thumbs] == [3, 3]
    await post(viber, message(ME, f"{PRESS}t:work", language="uk"))
    assert fake.sent(ME)[-1]["text"] == "Робота: оберіть запитання."


async def test_media_gets_a_text_only_reply_or_joins_an_open_ticket(viber: Running, fake: FakeViber) -> None:
    picture = {
        "type": "picture",
        "text": "",
        "media": "http://example.com/p.jpg",
        "thumbnail": "http://example.com/t.jpg",
    }
    await post(viber, message(ME, **picture))
    assert fake.sent(ME)[-1]["text"].startswith("I can only read text messages")
    await post(viber, message(ME, "/consultant"))
    await post(viber, message(ME, **{**picture, "text": "my card"}))
    [ticket] = await SqlDesk(viber.database).list_tickets()
    _, lines = await SqlDesk(viber.database).show(ticket.id)
    assert lines[-1].text == "[picture http://example.com/p.jpg] my card"


async def test_a_retried_callback_is_handled_once(viber: Running, fake: FakeViber) -> None:
    retried = message(ME, "hello", token=777)
    await post(viber, retried)
    await post(viber, retried)
    assert len(fake.sent(ME)) == 1


async def test_subscribing_brings_the_welcome_and_the_topics(viber: Running, fake: FakeViber) -> None:
    await post(
        viber,
        {
            "event": "subscribed",
            "timestamp": 1457764197627,
            "message_token": 42,
            "user": {"id": ME, "name": "A", "language": "ar", "api_version": 1},
        },
    )
    welcome, topics = fake.sent(ME)
    assert welcome["text"].startswith("مرحباً!") and topics["text"] == "اختر موضوعاً:"


async def test_unsubscribed_users_get_nothing_more(viber: Running, fake: FakeViber) -> None:
    await post(viber, message(ME, "hello"))
    await post(viber, event("unsubscribed", ME, 1))
    async with viber.database.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]


async def test_a_consultants_answer_reaches_the_viber_user_and_receipts_are_recorded(
    viber: Running, fake: FakeViber
) -> None:
    await post(viber, message(ME, "/consultant", language="ru"))
    await post(viber, message(ME, "Хозяин не возвращает залог", language="ru"))
    ticket_id = await claimed_ticket(viber, "ru")
    assert viber.app.runtime is not None
    await viber.app.runtime.desk.reply(ticket_id, "maria", "Попросите расписку. " * 500)
    await eventually(lambda: len(fake.sent(ME)) == 4)
    parts = fake.sent(ME)[2:]
    assert parts[0]["text"].startswith("Консультант:\n\nПопросите расписку.")
    assert len(parts) == 2 and all(len(p["text"]) <= 7000 for p in parts)
    async with viber.database.sessions() as session:
        [row] = (await session.scalars(select(Outbox))).all()
    assert row.status == "sent" and row.provider_id is not None
    await post(viber, event("delivered", ME, int(row.provider_id)))
    await post(viber, event("seen", ME, int(row.provider_id)))
    async with viber.database.sessions() as session:
        assert (await session.scalars(select(Outbox.receipt))).all() == ["seen"]


async def test_too_many_requests_backs_off_and_not_subscribed_stops(viber: Running, fake: FakeViber) -> None:
    await post(viber, message(ME, "/consultant"))
    ticket_id = await claimed_ticket(viber, "en")
    outbox = SqlOutbox(viber.database)
    fake.too_many = 1
    assert viber.app.runtime is not None
    await viber.app.runtime.desk.reply(ticket_id, "maria", "hello")

    async def retried() -> bool:
        return await outbox.counts() == {"pending": 1} and fake.too_many == 0

    await eventually(retried)
    assert await outbox.counts() == {"pending": 1}
    fake.unsubscribed.add(ME)
    async with viber.database.sessions.begin() as session:
        await session.execute(update(Outbox).values(next_attempt_at=utcnow()))

    async def given_up() -> bool:
        return await outbox.counts() == {"failed": 1}

    await eventually(given_up)
    assert (await SqlDesk(viber.database).list_tickets())[0].delivery_failed


def test_set_webhook_by_hand_prints_vibers_answer(tmp_path: Path) -> None:
    async def scenario() -> tuple[subprocess.CompletedProcess[str], list[tuple[str, dict[str, Any]]]]:
        fake = FakeViber()
        await fake.start()
        config = tmp_path / "bot.toml"
        config.write_text(f'[viber]\napi_base_url = "{fake.url}"\n[web]\npublic_url = "https://bot.example.org"\n')
        try:
            result = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot", "--config", str(config), "viber", "set-webhook"],
                capture_output=True,
                text=True,
                env={**os.environ, "VIBER_AUTH_TOKEN": TOKEN},
                timeout=60,
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


async def test_run_serves_viber_and_sets_its_webhook(fake: FakeViber, tmp_path: Path) -> None:
    port = free_port()
    config = run_config(
        tmp_path,
        f'[viber]\nenabled = true\napi_base_url = "{fake.url}"\n'
        f'[web]\nport = {port}\npublic_url = "https://bot.example.org"\n',
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "run",
        env={**os.environ, "VIBER_AUTH_TOKEN": TOKEN},
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: any(m == "set_webhook" for m, _ in fake.calls))
        body, headers = signed(message(ME, "where can I learn bulgarian"))
        async with httpx.AsyncClient() as client:
            assert (
                await client.post(f"http://127.0.0.1:{port}/viber", content=body, headers=headers)
            ).status_code == 200
        await eventually(lambda: bool(fake.sent(ME)))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(ME)[0]["text"].startswith(answer_of("education-bulgarian-course", "en")[:40])


@pytest.mark.parametrize(
    ("status", "blocked", "permanent"),
    [(6, True, True), (5, True, True), (12, False, False), (3, False, True), (999, False, True), ("x", False, True)],
)
async def test_a_viber_status_means_what_viber_documents(status: object, blocked: bool, permanent: bool) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": status, "status_message": "as Viber says"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        channel = ViberChannel("token", "https://viber.test/pa", "Bot", "", client, nobody_left, no_receipt)
        with pytest.raises(DeliveryError) as refused:
            await channel.send(Outbound(Address("viber", "u1"), "hello"))
    assert (refused.value.blocked, refused.value.permanent) == (blocked, permanent)
    assert ViberStatus.of(status).name in str(refused.value)


async def nobody_left(_address: Address) -> None:
    raise AssertionError("send never deactivates: the delivery policy does")


async def no_receipt(_token: str, _event: str) -> bool:
    return False


def offline_channel() -> ViberChannel:
    return ViberChannel("token", "https://viber.test/pa", "Bot", "", httpx.AsyncClient(), nobody_left, no_receipt)


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "something_new", "timestamp": 1, "message_token": 7},
        {"timestamp": 1, "message_token": 7},
        message(ME, "", type="hologram"),  # a message type viberbot does not know
        {**message(ME, "hi"), "sender": "not an object"},
        {key: value for key, value in message(ME, "hi").items() if key != "sender"},
        {key: value for key, value in event("delivered", ME, 7).items() if key != "timestamp"},
        {**message(ME, "hi"), "message": ["text"]},
    ],
)
def test_a_callback_the_bot_cannot_act_on_is_ignored_not_an_error(payload: dict[str, Any]) -> None:
    received = offline_channel().parse(json.dumps(payload))
    assert (received.lane, received.inbound, received.detail) == ("events", None, None)


def test_each_known_callback_is_read_by_its_kind() -> None:
    channel = offline_channel()
    said = channel.parse(json.dumps(message(ME, "hello", language="ru")))
    assert (said.lane, said.inbound and said.inbound.text, said.inbound and said.inbound.language_hint) == (
        ME,
        "hello",
        "ru",
    )
    pressed = channel.parse(json.dumps(message(ME, f"{PRESS}t:work")))
    assert pressed.inbound is not None and (pressed.inbound.payload, pressed.inbound.text) == ("t:work", "")
    started = channel.parse(json.dumps(conversation_started(ME, "uk")))
    assert started.inbound is not None and started.inbound.text == "/start" and channel.welcomes(started)
    assert not channel.welcomes(said)
    for name in ("delivered", "seen", "failed", "unsubscribed"):
        received = channel.parse(json.dumps(event(name, ME, 7)))
        assert (received.lane, received.inbound, received.key) == (ME, None, f"{name}:7")
    anonymous = {key: value for key, value in event("delivered", ME, 8).items() if key != "user_id"}
    receipt = channel.parse(json.dumps(anonymous))
    assert (receipt.lane, receipt.key, receipt.detail is not None) == ("events", "delivered:8", True)
