"""`migrant-bot run`: every enabled channel, the intake, the outbox dispatcher and the HTTP app.

The HTTP app starts first, so that /healthz can say 503 while the chat services are still being reached: a
service that cannot be reached at start is tried again with backoff, one log line per attempt, until it answers
or the bot is stopped. SIGINT and SIGTERM stop it cleanly: no new updates are taken, the ones in its lanes
finish, then the connections close. An update taken but not finished when a process dies is in the inbox and is
taken over after its lease (see bot.intake).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import uvicorn
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.app import Runtime, open_runtime
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel, connect
from bot.channels.viber import ViberChannel
from bot.config import Config, ConfigError
from bot.consultant_group import ConsultantGroup
from bot.core.flood import FloodGate
from bot.delivery import Backoff, Sender
from bot.dispatch import Dispatcher
from bot.intake import Intake, Receiver
from bot.storage.cards import SqlCards
from bot.storage.inbox import SqlInbox
from bot.types import DeliveryError
from bot.web import create_app

WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
log = logging.getLogger(__name__)


@dataclass
class _Parts:
    """What `run` started, so that it can stop all of it."""

    ready: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    receivers: dict[str, Receiver] = field(default_factory=dict)
    bot: Bot | None = None
    telegram: TelegramChannel | None = None
    group: ConsultantGroup | None = None
    viber: ViberChannel | None = None
    client: httpx.AsyncClient | None = None
    server: uvicorn.Server | None = None


def owner_name() -> str:
    """This process's name in leases: host, pid and a random tail, so that a restart is a new owner."""
    return f"{socket.gethostname()[:12]}-{os.getpid()}-{secrets.token_hex(3)}"


def _telegram_secrets(config: Config, env: dict[str, str]) -> tuple[str, str]:
    """The token and webhook secret, or a ConfigError naming what is missing."""
    token = config.secret("telegram", "token_env", env)
    if config.telegram.mode != "webhook":
        return token, ""
    if not config.web.public_url:
        raise ConfigError(f"{config.source}: [web] public_url: webhook mode needs the bot's public https:// address")
    secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
    if not secret:
        raise ConfigError(
            f'{config.source}: [telegram] mode = "webhook" needs the environment variable {WEBHOOK_SECRET_ENV}'
        )
    return token, secret


async def persist(what: str, step: Callable[[], Awaitable[object]], stop: asyncio.Event) -> bool:
    """Run `step` until it succeeds, backing off on network trouble (one log line per attempt); False if the
    bot was stopped first."""
    backoff = Backoff(base=1.0, cap=60.0)
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await step()
            return True
        except (NetworkError, DeliveryError, httpx.HTTPError, OSError) as exc:
            wait = backoff.delay(attempt)
            log.warning("%s: cannot reach it (%s); trying again in %.0f s", what, exc, wait)
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                pass
    return False


async def poll(telegram: TelegramChannel, intake: Intake, stop: asyncio.Event, long_poll: int = 25) -> None:
    """Long polling: each batch is stored before the next getUpdates confirms it, then handled in its lanes;
    no more are fetched while the lanes are full. A batch that cannot be stored is fetched again later."""
    while not stop.is_set():
        try:
            async for batch in telegram.updates(stop, long_poll):
                await asyncio.gather(*(intake.receive(received) for received in batch))
                await intake.lanes.wait_for_room()
        except Exception:  # the database is away, say: start again from the last confirmed offset
            log.exception("telegram polling failed; fetching the updates not stored again shortly")
            try:
                await asyncio.wait_for(stop.wait(), timeout=2)
            except TimeoutError:
                pass


async def _start_telegram(config: Config, runtime: Runtime, parts: _Parts, token: str) -> None:
    bot = parts.bot = connect(token, config.telegram.api_base_url)
    if config.telegram.consultant_chat_id:
        parts.group = ConsultantGroup(
            bot,
            config.telegram.consultant_chat_id,
            runtime.desk,
            runtime.desk_store,
            SqlCards(runtime.database, config.telegram.consultant_chat_id),
            config.handoff.urgent_reminder_minutes,
        )
    parts.telegram = TelegramChannel(
        bot, config.telegram.consultant_chat_id, parts.group.handle if parts.group else None
    )
    parts.receivers[parts.telegram.channel] = parts.telegram


async def _connect_telegram(config: Config, runtime: Runtime, parts: _Parts, secret: str, stop: asyncio.Event) -> bool:
    bot, channel = parts.bot, parts.telegram
    assert bot is not None and channel is not None and runtime.engine is not None
    menus = {lang: runtime.engine.replies.command_menu(lang) for lang in config.bot.languages}

    async def setup() -> None:
        try:
            await bot.initialize()
        except InvalidToken as exc:
            raise ConfigError(
                f"{config.source}: [telegram] token_env: the Bot API refused the token in ${config.telegram.token_env}"
            ) from exc
        await channel.register_commands(menus)
        await bot.set_my_commands(menus[config.bot.default_language])
        if config.telegram.mode == "webhook":
            public = config.web.public_url.rstrip("/")
            await bot.set_webhook(url=public + "/telegram", allowed_updates=ALLOWED_UPDATES, secret_token=secret)
        else:
            await bot.delete_webhook()

    return await persist("Telegram Bot API", setup, stop)


class BotApp:
    """Everything `migrant-bot run` runs, built from the config: `start` brings it up, `close` takes it down."""

    def __init__(self, config: Config, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        if not (config.telegram.enabled or config.viber.enabled):
            raise ConfigError(
                f"{config.source}: [telegram] enabled, [viber] enabled: no channel is enabled "
                "(set one to true, or use `migrant-bot chat`)"
            )
        self.config = config
        self._telegram_token, self._telegram_secret = (
            _telegram_secrets(config, env) if config.telegram.enabled else ("", "")
        )
        self._viber_token = config.secret("viber", "token_env", env) if config.viber.enabled else ""
        for secret in (self._telegram_token, self._telegram_secret, self._viber_token):
            logs.add_secret(secret)
        self.parts = _Parts()
        self.runtime: Runtime | None = None
        self.intake: Intake | None = None

    async def start(self, stop: asyncio.Event) -> bool:
        """Open the database, serve HTTP, reach the chat services; False if stopped before they answered."""
        self.runtime = await open_runtime(self.config, owner=owner_name())
        # What start-up built (the libraries, the knowledge base) lives as long as the process: keep the
        # collector off it, or each full collection stalls every conversation (about 70 ms on this machine).
        gc.collect()
        gc.freeze()
        self.intake = await _start(
            self.config,
            self.runtime,
            self.parts,
            stop,
            self._telegram_token,
            self._telegram_secret,
            self._viber_token,
        )
        self.parts.ready = self.intake is not None
        return self.parts.ready

    async def close(self) -> None:
        """Stop taking updates, finish the ones taken, close every connection (`stop` must be set first)."""
        parts = self.parts
        parts.ready = False
        if parts.server is not None:
            parts.server.should_exit = True
        await asyncio.gather(*parts.tasks, return_exceptions=True)
        if self.intake is not None:
            await self.intake.lanes.drain()
        if parts.bot is not None:
            await parts.bot.shutdown()
        if parts.client is not None:
            await parts.client.aclose()
        if self.runtime is not None:
            await self.runtime.close()


async def run(config: Config, env: dict[str, str] | None = None, stop: asyncio.Event | None = None) -> None:
    app = BotApp(config, env)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if await app.start(stop):
            log.warning("migrant-bot is running: %s", ", ".join(app.parts.receivers))
            await stop.wait()
    finally:
        stop.set()
        await app.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start(
    config: Config,
    runtime: Runtime,
    parts: _Parts,
    stop: asyncio.Event,
    telegram_token: str,
    telegram_secret: str,
    viber_token: str,
) -> Intake | None:
    """Start everything; None when the bot was stopped before the chat services could be reached."""
    engine = runtime.engine
    assert engine is not None and engine.store is not None
    if config.telegram.enabled:
        await _start_telegram(config, runtime, parts, telegram_token)
    if config.viber.enabled:
        parts.client = httpx.AsyncClient()
        outbox = runtime.outbox
        parts.viber = ViberChannel(
            viber_token,
            config.viber.api_base_url,
            config.viber.sender_name,
            config.viber.sender_avatar,
            parts.client,
            engine.deactivate,
            lambda token, event: outbox.receipt("viber", token, event),
        )
        parts.receivers[parts.viber.channel] = parts.viber
    inbox = SqlInbox(runtime.database, runtime.outbox.owner)
    intake = Intake(inbox, runtime.outbox, engine, parts.receivers, flood=FloodGate(config.telegram.flood_per_minute))
    app = create_app(
        intake,
        lambda: parts.ready,
        parts.telegram if config.telegram.mode == "webhook" else None,
        telegram_secret,
        parts.viber,
    )
    listening = socket.socket(socket.AF_INET6 if ":" in config.web.host else socket.AF_INET)
    try:  # bound here, not by uvicorn, so that a taken port is one line of ours, not a server's traceback
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((config.web.host, config.web.port))
    except OSError as exc:
        listening.close()
        raise ConfigError(
            f"{config.source}: [web] host, port: cannot serve on {config.web.host}:{config.web.port} ({exc.strerror})"
        ) from exc
    parts.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None))
    parts.tasks.append(asyncio.create_task(parts.server.serve(sockets=[listening])))
    # a webhook is set only once the server can answer its first call; uvicorn offers a flag, not an event
    while not parts.server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    if parts.telegram is not None and not await _connect_telegram(config, runtime, parts, telegram_secret, stop):
        return None
    if parts.viber is not None and config.web.public_url:
        viber = parts.viber
        url = config.web.public_url.rstrip("/") + "/viber"
        if not await persist("Viber API", lambda: viber.set_webhook(url), stop):
            return None
    senders: dict[str, Sender] = dict(parts.receivers)
    dispatcher = Dispatcher(runtime.outbox, senders, config.handoff.delivery_attempts)
    parts.tasks.append(asyncio.create_task(dispatcher.run(stop)))
    parts.tasks.append(asyncio.create_task(intake.run(stop)))
    if parts.group is not None:
        parts.tasks.append(asyncio.create_task(parts.group.run(stop)))
    if parts.telegram is not None and config.telegram.mode != "webhook":
        parts.tasks.append(asyncio.create_task(poll(parts.telegram, intake, stop)))
    return intake
