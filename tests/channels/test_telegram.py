"""The Telegram channel: the real app (tests/harness.py) against a fake Bot API over real HTTP, in both modes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.core.handoff import ConsultantInfo
from bot.storage.desk import SqlDesk
from bot.storage.models import User
from tests.conftest import ROOT, answer_of, apart_from_notices, run_config
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import TOKEN, FakeTelegram, callback_update, message_update
from tests.harness import Running, bot_on, serving

CHAT = 555


@pytest.fixture
def fake(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram  # the shared fixture (tests/conftest.py), under the name these tests use


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tg.db'}"


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Running]:
    """Every test that takes this runs twice: with updates fetched by long polling, and posted to the webhook."""
    async with bot_on(sqlite_url(tmp_path), fake, request.param) as running:
        yield running


def keyboard(sent: dict[str, object]) -> list[str]:
    markup = sent["reply_markup"]
    assert isinstance(markup, dict)
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


async def test_a_question_gets_its_answer_as_escaped_html_with_buttons(bot: Running, fake: FakeTelegram) -> None:
    await bot.telegram_update(message_update(CHAT, "скорая помощь бесплатная без страховки?", language="ru"))
    [sent] = fake.sent(CHAT)
    assert sent["parse_mode"] == "HTML"
    assert sent["text"].startswith(answer_of("health-emergency-care", "ru")[:40])
    assert "f:+:e:health-emergency-care" in keyboard(sent) and "h" in keyboard(sent)


async def test_start_greets_in_the_language_of_the_telegram_client(bot: Running, fake: FakeTelegram) -> None:
    await bot.telegram_update(message_update(CHAT, "/start", language="uk"))
    welcome, topics = fake.sent(CHAT)
    assert welcome["text"].startswith("Вітаю!")
    markup = welcome["reply_markup"]
    labels = [b["text"] for row in markup["inline_keyboard"] for b in row]
    assert labels == ["Български", "English", "Русский", "Українська", "العربية", "فارسی"]
    assert topics["text"] == "Оберіть тему:"


async def test_every_callback_is_answered_even_a_garbled_one(bot: Running, fake: FakeTelegram) -> None:
    await bot.telegram_update(message_update(CHAT, "hello"))
    await bot.telegram_update(callback_update(CHAT, "t:health"))
    await bot.telegram_update(callback_update(CHAT, "\u0000nonsense"))
    assert len(fake.called("answerCallbackQuery")) == 2
    _, first, second = fake.sent(CHAT)
    assert first["text"].startswith("Health and health insurance")
    assert second["text"] == "That button is no longer valid. Here are the topics."


async def test_media_gets_a_text_only_reply_or_joins_an_open_ticket(bot: Running, fake: FakeTelegram) -> None:
    photo = {
        "photo": [
            {"file_id": "small", "file_unique_id": "s", "width": 1, "height": 1},
            {"file_id": "big", "file_unique_id": "b", "width": 9, "height": 9},
        ]
    }
    await bot.telegram_update(message_update(CHAT, language="en", **photo))
    assert fake.sent(CHAT)[-1]["text"].startswith("I can only read text messages")
    await bot.telegram_update(message_update(CHAT, "/consultant"))
    await bot.telegram_update(message_update(CHAT, language="en", caption="my residence card", **photo))
    assert fake.sent(CHAT)[-1]["text"] == "Added to your question. A consultant will read it."
    [ticket] = await SqlDesk(bot.database).list_tickets()
    _, lines = await SqlDesk(bot.database).show(ticket.id)
    assert lines[-1].text == "[photo big] my residence card"


async def test_groups_get_silence(bot: Running, fake: FakeTelegram) -> None:
    await bot.telegram_update(message_update(-100, "hello", chat_type="supergroup"))
    await bot.telegram_update(message_update(-100, "/start", chat_type="group"))
    assert fake.sent() == []


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_repeated_update_is_handled_once_even_after_a_restart(
    mode: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    update = message_update(CHAT, "hello", update_id=777_001)
    async with bot_on(sqlite_url(tmp_path), fake, mode) as bot:
        await bot.telegram_update(update)
        if mode == "webhook":  # long polling never hands out an update twice in one run; a restart does
            assert (await bot.post_telegram(update)).status_code == 200
    fake.updates.append(update)  # as if the offset had never been confirmed
    async with bot_on(sqlite_url(tmp_path), fake, mode) as after_restart:
        if mode == "webhook":
            assert (await after_restart.post_telegram(update)).status_code == 200
        later = message_update(CHAT, "bye")
        await after_restart.telegram_update(later)
    assert [m["text"][:6] for m in fake.sent(CHAT)] == ["Hello!", "Take c"]


async def test_a_429_is_waited_out_and_the_reply_still_arrives(bot: Running, fake: FakeTelegram) -> None:
    fake.too_many["sendMessage"] = 1
    await bot.telegram_update(message_update(CHAT, "hello"))
    refused, accepted = fake.called("sendMessage")
    assert refused == accepted and fake.sent(CHAT) == [accepted]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_flood_control_sends_one_notice_then_silence_without_slowing_others(
    mode: str, fake: FakeTelegram, tmp_path: Path
) -> None:
    async with bot_on(sqlite_url(tmp_path), fake, mode, extra="flood_per_minute = 5\n") as bot:
        for _ in range(9):
            await bot.telegram_update(message_update(CHAT, "hello"), wait=False)
        await bot.telegram_update(message_update(CHAT, "he is going to kill me"))  # danger always gets through
        await bot.telegram_update(message_update(CHAT + 1, "hello"))
        await bot.settled()
    texts = [m["text"] for m in fake.sent(CHAT)]
    notices, answers = apart_from_notices(texts)
    assert len(notices) == 1  # at once, not behind the greetings
    assert len(answers) == 7 and "112" in answers[5]  # five greetings, then the 112 and its ticket notice
    assert len(fake.sent(CHAT + 1)) == 1


async def test_a_consultants_answer_reaches_the_telegram_user_in_their_language(
    bot: Running, fake: FakeTelegram
) -> None:
    await bot.telegram_update(message_update(CHAT, "/consultant", language="ru"))
    await bot.telegram_update(message_update(CHAT, "Хозяин квартиры не возвращает залог", language="ru"))
    store = SqlDesk(bot.database)
    await store.add_consultant(ConsultantInfo("maria", ("ru",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    assert bot.app.runtime is not None
    await bot.app.runtime.desk.reply(ticket.id, "maria", "Попросите расписку <и> договор. " * 300)
    await eventually(lambda: len(fake.sent(CHAT)) > 3)
    parts = fake.sent(CHAT)[2:]
    assert parts[0]["text"].startswith("Консультант:\n\nПопросите расписку &lt;и&gt; договор.")
    assert len(parts) > 1 and all(len(p["text"]) <= 4096 for p in parts)


async def test_a_user_who_blocked_the_bot_is_marked_inactive_by_the_outbox(bot: Running, fake: FakeTelegram) -> None:
    await bot.telegram_update(message_update(CHAT, "/consultant"))
    store = SqlDesk(bot.database)
    await store.add_consultant(ConsultantInfo("maria", ("en",)))
    [ticket] = await store.list_tickets()
    await store.claim(ticket.id, "maria")
    fake.blocked.add(CHAT)
    assert bot.app.runtime is not None
    await bot.app.runtime.desk.reply(ticket.id, "maria", "hello")

    async def flagged() -> bool:
        return (await store.list_tickets())[0].delivery_failed

    await eventually(flagged)
    assert await bot.app.runtime.outbox.counts() == {"failed": 1}
    async with bot.database.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]


async def test_a_user_who_blocked_the_bot_is_inactive_after_an_immediate_reply_fails(
    bot: Running, fake: FakeTelegram
) -> None:
    await bot.telegram_update(message_update(CHAT, "hello"))
    fake.blocked.add(CHAT)
    await bot.telegram_update(message_update(CHAT, "hello again"))
    async with bot.database.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]
    assert len(fake.called("sendMessage")) == 2  # the refused one was not retried


async def test_while_one_users_reply_waits_out_a_429_the_others_are_answered(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async with bot_on(sqlite_url(tmp_path), fake) as bot:
        fake.too_many_for[CHAT] = 1
        first, second = message_update(CHAT, "hello"), message_update(CHAT + 1, "hello")
        fake.updates += [first, second]
        await bot.handled("telegram", str(first["update_id"]))
    assert [int(m["chat_id"]) for m in fake.sent()] == [CHAT + 1, CHAT]


async def test_the_webhook_checks_its_secret_and_refuses_what_is_no_update(fake: FakeTelegram, tmp_path: Path) -> None:
    async with bot_on(sqlite_url(tmp_path), fake, "webhook") as bot:
        update = message_update(CHAT, "hello")
        assert (await bot.post_telegram(update, secret="")).status_code == 403
        assert (await bot.post_telegram(update, secret="guess")).status_code == 403
        assert (await bot.post_telegram(None, content=b"{not json")).status_code == 400
        assert (await bot.post_telegram({"message": "no"})).status_code == 400
        await bot.telegram_update(update)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{bot.url}/healthz")).status_code == 200
    assert len(fake.sent(CHAT)) == 1


EXPECTED_FIRST_LINE = {
    "/start": "Здравейте!",
    "/help": "Напишете въпроса си",
    "/topics": "Изберете тема:",
    "/language": "Изберете език:",
    "/consultant": "Консултант ще ви отговори тук",
    "/cancel": "Нямате отворен въпрос към консултант.",
    "/privacy": "Какво пазим:",
    "/forget": "Готово: всичко, което пазехме за вас, е изтрито.",
}


@pytest.mark.parametrize("command", sorted(EXPECTED_FIRST_LINE))
async def test_every_command_answers_in_the_users_language(bot: Running, fake: FakeTelegram, command: str) -> None:
    await bot.telegram_update(message_update(CHAT, command, language="bg"))
    first = fake.sent(CHAT)[0]["text"]
    assert first.startswith(EXPECTED_FIRST_LINE[command]), first


def test_run_without_the_token_names_the_variable(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\n[telegram]\nenabled = true\n')
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.stderr


async def test_run_polls_answers_and_stops_on_sigterm(fake: FakeTelegram, tmp_path: Path) -> None:
    config = run_config(tmp_path, f'[telegram]\nenabled = true\napi_base_url = "{fake.url}"\n[web]\nport = 0\n')
    fake.updates.append(message_update(CHAT, "where can I learn bulgarian"))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "--debug",
        "run",
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
        stderr=asyncio.subprocess.PIPE,
    )
    await eventually(lambda: bool(fake.sent(CHAT)), 30)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(CHAT)[0]["text"].startswith(answer_of("education-bulgarian-course", "en")[:40])
    languages = {c.get("language_code") for c in fake.called("setMyCommands")}
    assert languages >= {"bg", "en", "ru", "uk", "ar", "fa"}
    log = stderr.decode()
    assert "/bot[redacted]/getUpdates" in log  # python-telegram-bot's own debug lines, with the token taken out
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


async def test_run_in_webhook_mode_registers_the_webhook_and_serves_it(fake: FakeTelegram, tmp_path: Path) -> None:
    from tests.conftest import free_port

    port = free_port()
    config = run_config(
        tmp_path,
        f'[telegram]\nenabled = true\nmode = "webhook"\napi_base_url = "{fake.url}"\n'
        f'[web]\nport = {port}\npublic_url = "https://bot.example.org"\n',
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "hook-secret"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await serving(port, 30)
        async with httpx.AsyncClient() as client:
            [hook] = fake.called("setWebhook")
            assert hook["url"] == "https://bot.example.org/telegram" and hook["secret_token"] == "hook-secret"
            assert set(hook["allowed_updates"]) == {"message", "callback_query"}
            response = await client.post(
                f"http://127.0.0.1:{port}/telegram",
                json=message_update(CHAT, "hello"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"},
            )
            assert response.status_code == 200
        await eventually(lambda: bool(fake.sent(CHAT)))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(CHAT)[0]["text"].startswith("Hello!")
    assert "hook-secret" not in stderr.decode()
