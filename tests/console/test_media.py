"""Attachments in a ticket, opened by a consultant: fetched through the channel from the fake Telegram and Viber
APIs at that moment, shown inline only as a type a browser renders without running anything, each opening
audited; an expired link or no running channel is a clear page, not a traceback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.channels.telegram.adapter import TelegramChannel, connect
from bot.channels.viber.adapter import ViberChannel
from bot.config import Config
from bot.core.handoff import Desk
from bot.i18n import I18n
from bot.reload import Reloader
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.staff import Role, SqlStaff
from bot.types import Address, MediaSource
from bot.web import create_app
from bot.webconsole import auth
from bot.webconsole.app import build_console, routes
from tests.console.helpers import login
from tests.fakes import telegram_api, viber_api
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.fakes.viber_api import FakeViber
from tests.harness import config_text, running

JPEG = b"\xff\xd8\xff\xe0 a passport photo"
PNG = b"\x89PNG\r\n\x1a\n a residence card"


async def _nothing(*_: object) -> bool:
    return False


@asynccontextmanager
async def console_with(
    config: Config, database: Database, media: dict[str, MediaSource]
) -> AsyncIterator[tuple[httpx.AsyncClient, Desk, SqlStaff]]:
    """The console over ASGI with these channels fetching attachments, and maria logged in."""
    desk = Desk(SqlDesk(database), I18n(config.bot.languages, config.translations_path), config.handoff)
    console = await build_console(config, database, desk, Reloader(config), media)
    await console.staff.set_staff("maria", Role.CONSULTANT, auth.hash_password("maria-pass-123"), ("en",))
    transport = httpx.ASGITransport(app=create_app(lambda: True, routes(console)))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await login(http, "maria", "maria-pass-123")
        yield http, desk, console.staff


async def ticket_with(desk: Desk, address: Address, *lines: str) -> int:
    await desk.open(address, "en", "asked_human", None, list(lines))
    return max(t.id for t in await desk.tickets() if t.channel == address.channel)


def sources(page: str) -> list[str]:
    """The attachments' addresses on a ticket's page, in order (a photo links to itself)."""
    return list(dict.fromkeys(re.findall(r'(?:src|href)="(/console/tickets/\d+/media/\d+)"', page)))


async def test_a_consultant_sees_what_the_person_sent_fetched_from_the_service(
    config: Config, database: Database, fake_telegram: FakeTelegram, fake_viber: FakeViber
) -> None:
    telegram, viber = fake_telegram, fake_viber
    telegram.files["ph-1"] = ("photos/file_7.jpg", JPEG)
    viber.media["card.png"] = ("image/png", PNG)
    viber.media["page.html"] = ("text/html", b"<script>alert(1)</script>")
    async with httpx.AsyncClient() as client, connect(telegram_api.TOKEN, telegram.url) as bot:
        channels: dict[str, MediaSource] = {
            "telegram": TelegramChannel(bot),
            "viber": ViberChannel(viber_api.TOKEN, viber.url, "Help", "", client, _nothing, _nothing),
        }
        async with console_with(config, database, channels) as (http, desk, staff):
            on_telegram = await ticket_with(desk, Address("telegram", "501"), "[photo ph-1] my card", "[voice gone-id]")
            page = (await http.get(f"/console/tickets/{on_telegram}")).text
            photo, voice = sources(page)
            assert '<img class="attachment"' in page and "<audio" in page and "my card" in page
            assert "ph-1" not in page  # the file id stays on the server
            shown = await http.get(photo)
            assert shown.status_code == 200 and shown.content == JPEG
            assert shown.headers["content-type"] == "image/jpeg" and shown.headers["content-disposition"] == "inline"
            assert "sandbox" in shown.headers["content-security-policy"]
            gone = await http.get(voice)  # Telegram does not know the id (any more)
            assert gone.status_code == 502 and "The voice cannot be opened" in gone.text
            assert (await http.get(f"/console/tickets/{on_telegram}/media/9")).status_code == 404

            link, html, expired = (viber.media_url(n) for n in ("card.png", "page.html", "old.jpg"))
            on_viber = await ticket_with(
                desk, Address("viber", "vu-1"), f"[picture {link}]", f"[file {html}]", f"[picture {expired}]"
            )
            card, document, old = sources((await http.get(f"/console/tickets/{on_viber}")).text)
            got = await http.get(card)
            assert got.content == PNG and got.headers["content-type"] == "image/png"
            download = await http.get(document)  # HTML from a person is never rendered on the console's origin
            assert download.headers["content-type"] == "application/octet-stream"
            assert download.headers["content-disposition"].startswith("attachment;")
            assert "Viber answered 404" in (await http.get(old)).text
        opened = [e for e in await staff.audit_log() if e.action == "attachment open"]
        assert [(e.actor, e.detail) for e in opened] == [("maria", "file"), ("maria", "picture"), ("maria", "photo")]


async def test_without_a_running_channel_an_attachment_is_named_and_says_when_it_opens(
    config: Config, database: Database
) -> None:
    async with console_with(config, database, {}) as (http, desk, _):
        ticket = await ticket_with(desk, Address("telegram", "502"), "[photo ph-2] my card", "[location 42.69,23.32]")
        page = (await http.get(f"/console/tickets/{ticket}")).text
        assert "[photo]" in page and "(opens while the bot runs its telegram)" in page and "<img" not in page
        assert "[location 42.69,23.32]" in page
        refused = await http.get(f"/console/tickets/{ticket}/media/0")
        assert refused.status_code == 404 and "Attachments open only while the bot runs its telegram." in refused.text
        assert (await http.get(f"/console/tickets/{ticket}/media/1")).status_code == 404  # a location is text


async def test_a_photo_sent_to_the_running_bot_opens_in_its_console(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram = fake_telegram
    telegram.files["ph-9"] = ("photos/file_9.jpg", JPEG)
    # no public URL (it polls): the console's cookies are then not Secure, and this test's client sends them
    text = config_text(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", telegram, public_url="")
    async with running(text) as bot:
        bot.telegram = telegram
        await SqlStaff(bot.database).set_staff("maria", Role.CONSULTANT, auth.hash_password("maria-pass-123"), ("en",))
        for update in (
            message_update(601, "/consultant"),
            message_update(601, "my residence card was refused, here it is"),
            message_update(
                601,
                caption="the card",
                photo=[{"file_id": "ph-9", "file_unique_id": "u9", "width": 9, "height": 9}],
            ),
        ):
            await bot.telegram_update(update)
        async with httpx.AsyncClient(base_url=bot.url) as http:
            await login(http, "maria", "maria-pass-123")
            ticket = re.findall(r"/console/tickets/(\d+)", (await http.get("/console/queue")).text)[0]
            page = (await http.get(f"/console/tickets/{ticket}")).text
            [photo] = sources(page)
            assert "the card" in page
            assert (await http.get(photo)).content == JPEG
