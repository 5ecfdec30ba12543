"""Subscribing and receiving a broadcast end to end: the bot runs against the fake Telegram and Viber APIs, people
subscribe with the buttons, a broadcast reaches each of them once, and a Viber user who left is counted blocked;
and in the console chat, which a second `migrant-bot chat` shows the broadcast in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from bot.announce import message_for
from bot.channels.viber.adapter import PRESS
from bot.storage.broadcasts import Audience, SqlBroadcasts
from tests.cli_helpers import cli
from tests.conftest import run_cli_args
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram, callback_update, message_update
from tests.fakes.viber_api import FakeViber, message
from tests.harness import Running, bot_on

CHAT = 4242
FRIDAY = "An info session on health insurance in Sofia on Friday."


async def viber_says(bot: Running, user: str, text: str) -> None:
    response: httpx.Response = await bot.viber_message(message(user, text))
    assert response.status_code == 200


async def test_people_subscribe_with_buttons_and_a_broadcast_reaches_each_once(tmp_path: Path) -> None:
    telegram, viber = FakeTelegram(), FakeViber()
    await telegram.start()
    await viber.start()
    try:
        async with bot_on(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", telegram=telegram, viber=viber) as bot:
            await bot.telegram_update(message_update(CHAT, "/subscribe"))
            data = [
                b["callback_data"] for row in telegram.sent(CHAT)[-1]["reply_markup"]["inline_keyboard"] for b in row
            ]
            assert "sc:sofia" in data and "sc:*" in data
            await bot.telegram_update(callback_update(CHAT, "sc:*"))
            await bot.telegram_update(callback_update(CHAT, "sb:*:*"))
            assert telegram.sent(CHAT)[-1]["text"].startswith("Done: I will send you announcements of info sessions")
            for user in ("vu1", "gone"):
                await viber_says(bot, user, "/subscribe")
                await viber_says(bot, user, f"{PRESS}sc:sofia")
                await viber_says(bot, user, f"{PRESS}sb:sofia:health")
            assert viber.sent("vu1")[-1]["text"].startswith("Done: I will send you announcements")
            viber.unsubscribed.add("gone")  # left Viber's chat since
            broadcasts = SqlBroadcasts(bot.database)
            new = await broadcasts.create("Friday", {"en": FRIDAY}, Audience(cities=("sofia",), topics=("health",)))
            info = await broadcasts.get(new)
            assert info is not None
            assert await broadcasts.start(new, "en", lambda r: message_for(info, r, "en", False)) == 3

            async def finished() -> bool:
                return (await broadcasts.progress(new)).left == 0

            await eventually(finished, 30)
            progress = await broadcasts.progress(new)
            assert (progress.sent, progress.failed, progress.blocked) == (2, 1, 1)
    finally:
        await telegram.stop()
        await viber.stop()
    assert [m["text"] for m in telegram.sent(CHAT)].count(FRIDAY) == 1
    assert [m["text"] for m in viber.sent("vu1")].count(FRIDAY) == 1
    assert not [m for m in viber.sent("gone") if m["text"] == FRIDAY]


def test_the_console_chat_subscribes_and_shows_the_broadcast_in_its_next_session(
    bot_toml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def chat(script: str) -> str:
        done = subprocess.run(
            run_cli_args(bot_toml, "chat", "--user", "lena", "--lang", "ru"),
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=bot_toml.parent,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    subscribed = chat("/subscribe\n1\n1\n")  # Sofia, then all topics
    assert "/unsubscribe" in subscribed.splitlines()[-2]
    file = tmp_path / "friday.yaml"
    file.write_text("name: Friday\ntext: {ru: Встреча в пятницу в Софии.}\naudience: {cities: [sofia]}\n")
    config = ("--config", str(bot_toml))
    assert cli(capsys, *config, "broadcast", "create", str(file))[0] == 0
    assert cli(capsys, *config, "broadcast", "send", "1", "--no-wait")[0] == 0
    assert chat("").strip() == "Встреча в пятницу в Софии."
    assert chat("").strip() == ""  # delivered once
