"""The real bot in a test: `migrant-bot run`'s BotApp in this process, against the fake chat APIs over real HTTP,
on a database of the test's own. Tests talk to it as the services would: updates queued for long polling or posted
to its webhooks, and read what it sent from the fakes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.config import parse_config
from bot.runner import BotApp
from bot.storage.database import Database
from bot.storage.models import InboxItem
from tests.fakes import telegram_api, viber_api
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.viber_api import FakeViber

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "s3cret-hook"
ENV = {
    "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "VIBER_AUTH_TOKEN": viber_api.TOKEN,
}


def config_text(
    database_url: str,
    telegram: FakeTelegram | None = None,
    mode: str = "polling",
    viber: FakeViber | None = None,
    extra: str = "",
    group: int = 0,
    public_url: str = "https://bot.example.org",
    telegram_pace: int = 30,
    bot_keys: str = "",
) -> str:
    """A bot.toml for the fake APIs; `bot_keys` are more lines of its [bot] section, `extra` more sections."""
    text = f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "{database_url}"\n{bot_keys}'
    text += f'[web]\nport = 0\npublic_url = "{public_url}"\n'
    if telegram is not None:
        text += (
            f'[telegram]\nenabled = true\nmode = "{mode}"\napi_base_url = "{telegram.url}"\n'
            f"consultant_chat_id = {group}\nmessages_per_second = {telegram_pace}\n"
        )
    if viber is not None:
        text += f'[viber]\nenabled = true\napi_base_url = "{viber.url}"\n'
    return text + extra


@dataclass
class Running:
    app: BotApp
    stop: asyncio.Event
    url: str
    telegram: FakeTelegram | None
    viber: FakeViber | None

    @property
    def database(self) -> Database:
        assert self.app.runtime is not None
        return self.app.runtime.database

    async def handled(self, channel: str, key: str, seconds: float = 15.0) -> None:
        """Wait until the update with `key` is stored and done (its replies sent or queued)."""

        async def done() -> bool:
            async with self.database.sessions() as session:
                status = await session.scalar(
                    select(InboxItem.status).where(InboxItem.channel == channel, InboxItem.key == key)
                )
            return status == "done"

        await eventually(done, seconds)
        assert await done(), f"{channel} update {key} was not handled"

    async def telegram_update(self, update: dict[str, Any], wait: bool = True) -> None:
        """Deliver an update as the mode in use does (queued for getUpdates, or posted), and wait for it."""
        assert self.telegram is not None
        if self.app.config.telegram.mode == "webhook":
            response = await self.post_telegram(update)
            assert response.status_code == 200, response.text
        else:
            self.telegram.updates.append(update)
        if wait:
            await self.handled("telegram", str(update["update_id"]))

    async def settled(self, seconds: float = 30.0) -> None:
        """Wait until every update given to the bot was taken and nothing is left to do: none waiting for
        getUpdates, none pending in the inbox, no lane busy. (An update the flood gate drops leaves no trace.)"""
        intake = self.app.intake
        assert intake is not None

        async def idle() -> bool:
            if self.telegram is not None and self.app.config.telegram.mode != "webhook" and self.telegram.updates:
                return False
            assert self.app.runtime is not None
            async with self.database.sessions() as session:
                waiting = await session.scalar(select(func.count()).where(InboxItem.status == "pending"))
            return not waiting and intake.lanes.pending == 0

        await eventually(idle, seconds)
        assert await idle(), "the bot did not settle"

    async def post_telegram(
        self,
        update: object,
        secret: str = WEBHOOK_SECRET,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"{self.url}/telegram",
                content=json.dumps(update).encode() if content is None else content,
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": secret,
                    "content-type": "application/json",
                    **(headers or {}),
                },
            )

    async def post_viber(
        self, callback: dict[str, Any] | None = None, content: bytes | None = None, signature: str | None = None
    ) -> httpx.Response:
        body = json.dumps(callback).encode() if content is None else content
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"{self.url}/viber",
                content=body,
                headers={
                    "X-Viber-Content-Signature": viber_api.signature_of(body, viber_api.TOKEN)
                    if signature is None
                    else signature,
                },
            )

    async def viber_message(self, callback: dict[str, Any]) -> httpx.Response:
        response = await self.post_viber(callback)
        assert response.status_code == 200, response.text
        await self.handled("viber", f"{callback['event']}:{callback['message_token']}")
        return response


@asynccontextmanager
async def running(text: str, env: dict[str, str] | None = None, folder: Path | None = None) -> AsyncIterator[Running]:
    """Start the bot on config `text`; stop it cleanly at the end, as SIGTERM would."""
    config = parse_config(text, "test bot.toml", folder or ROOT, env={})
    app = BotApp(config, {**ENV, **(env or {})})
    stop = asyncio.Event()
    try:
        assert await app.start(stop), "the bot did not start"
        server = app.parts.server
        assert server is not None
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Running(app, stop, f"http://127.0.0.1:{port}", None, None)
    finally:
        stop.set()
        await app.close()


@asynccontextmanager
async def bot_on(
    database_url: str,
    telegram: FakeTelegram | None = None,
    mode: str = "polling",
    viber: FakeViber | None = None,
    extra: str = "",
    group: int = 0,
    bot_keys: str = "",
) -> AsyncIterator[Running]:
    async with running(config_text(database_url, telegram, mode, viber, extra, group, bot_keys=bot_keys)) as bot:
        bot.telegram, bot.viber = telegram, viber
        yield bot


async def serving(port: int, seconds: float) -> bool:
    """Wait until a bot process on `port` answers /healthz (at most `seconds`); whether it does."""
    async with httpx.AsyncClient() as client:

        async def healthy() -> bool:
            try:
                return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, seconds)
        return await healthy()


@dataclass
class BotProcess:
    """One `migrant-bot run` process, against the fake Bot API at `api`; `start` again after `kill`."""

    folder: Path
    database_url: str
    api: str
    mode: str
    port: int
    process: asyncio.subprocess.Process | None = None
    extra: str = ""  # more config sections (another channel's)
    knowledge: Path = ROOT / "knowledge"
    telegram_pace: int = 30  # [telegram] messages_per_second

    def config(self) -> Path:
        path = self.folder / f"bot-{self.port}.toml"
        path.write_text(
            f'[bot]\nknowledge_dir = "{self.knowledge}"\ndatabase_url = "{self.database_url}"\n'
            f'[telegram]\nenabled = true\nmode = "{self.mode}"\napi_base_url = "{self.api}"\n'
            f"messages_per_second = {self.telegram_pace}\n"
            f'[web]\nport = {self.port}\npublic_url = "https://bot.example.org"\n' + self.extra,
            encoding="utf-8",
        )
        return path

    async def start(self) -> None:
        env = {**os.environ, **ENV}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(self.config()),
            "run",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.folder / f"bot-{self.port}.log").open("ab"),  # what went wrong, if the bot dies
        )
        if not await serving(self.port, 60):
            log = (self.folder / f"bot-{self.port}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"`migrant-bot run` did not start:\n{log}")

    async def kill(self) -> None:
        """kill -9, and wait until it is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()
