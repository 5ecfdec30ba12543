"""`migrant-bot run`: every enabled channel, the outbox dispatcher and, for webhooks, the HTTP app.

SIGINT and SIGTERM stop it cleanly: no new updates are taken, the ones in flight finish, then the connections
close. Nothing is lost: an update not yet handled is fetched or re-sent by the service again, and is handled once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field

import httpx
import uvicorn
from telegram import Bot

from bot.app import Runtime, open_runtime
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel, chat_of, connect
from bot.channels.viber import CHANNEL as VIBER, ViberChannel
from bot.config import Config, ConfigError
from bot.consultant_group import ConsultantGroup
from bot.core.flood import FloodGate
from bot.dispatch import Dispatcher, Sender
from bot.lanes import Lanes
from bot.storage.cards import SqlCards
from bot.storage.updates import SqlUpdateLog
from bot.web import create_app

WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
log = logging.getLogger(__name__)


@dataclass
class _Parts:
    """What `run` started, so that it can stop all of it."""

    ready: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    senders: dict[str, Sender] = field(default_factory=dict)
    bot: Bot | None = None
    telegram: TelegramChannel | None = None
    viber: ViberChannel | None = None
    client: httpx.AsyncClient | None = None
    server: uvicorn.Server | None = None
    lanes: Lanes = field(default_factory=Lanes)


def _telegram_secrets(config: Config, env: dict[str, str]) -> tuple[str, str]:
    """The token and webhook secret, or a ConfigError naming what is missing."""
    token = config.secret("telegram", "token_env", env)
    if config.telegram.mode != "webhook":
        return token, ""
    if not config.web.public_url:
        raise ConfigError(f"{config.source}: [web] public_url: webhook mode needs the bot's public https:// address")
    secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
    if not secret:
        raise ConfigError(f"{config.source}: [telegram] mode = \"webhook\" needs the environment variable {WEBHOOK_SECRET_ENV}")
    return token, secret


def viber_channel(config: Config, runtime: Runtime, token: str, client: httpx.AsyncClient) -> ViberChannel:
    engine = runtime.engine
    assert engine is not None and engine.store is not None
    outbox = runtime.outbox
    return ViberChannel(
        token, config.viber.api_base_url, config.viber.sender_name, config.viber.sender_avatar, client,
        engine.handle, engine.store.deactivate, lambda message_id, event: outbox.receipt(VIBER, message_id, event),
    )


async def _start_telegram(config: Config, runtime: Runtime, parts: _Parts, token: str, stop: asyncio.Event) -> None:
    engine = runtime.engine
    assert engine is not None
    bot = parts.bot = connect(token, config.telegram.api_base_url)
    await bot.initialize()
    updates = SqlUpdateLog(runtime.database, "telegram")
    await updates.forget_old()
    group = None
    if config.telegram.consultant_chat_id:
        group = ConsultantGroup(
            bot, config.telegram.consultant_chat_id, runtime.desk, runtime.desk_store,
            SqlCards(runtime.database, config.telegram.consultant_chat_id), config.handoff.urgent_reminder_minutes,
        )
    assert engine.store is not None
    channel = parts.telegram = TelegramChannel(
        bot, engine.handle, updates.first_time, config.telegram.consultant_chat_id, group.handle if group else None,
        engine.store.deactivate,
    )
    menus = {lang: engine.replies.command_menu(lang) for lang in config.bot.languages}
    await channel.register_commands(menus)
    await bot.set_my_commands(menus[config.bot.default_language])
    parts.senders[channel.channel] = channel
    if group is not None:
        parts.tasks.append(asyncio.create_task(group.run(stop)))


async def poll(telegram: TelegramChannel, lanes: Lanes, stop: asyncio.Event, timeout: int = 25) -> None:
    """Long polling: each update in its chat's lane; no more are fetched while the lanes are full."""
    async for update in telegram.updates(stop, timeout):
        lanes.start(chat_of(update), telegram.process(update))
        await lanes.wait_for_room()


async def run(config: Config, env: dict[str, str] | None = None, stop: asyncio.Event | None = None) -> None:
    env = dict(os.environ) if env is None else env
    if not (config.telegram.enabled or config.viber.enabled):
        raise ConfigError(
            f"{config.source}: [telegram] enabled, [viber] enabled: no channel is enabled "
            "(set one to true, or use `migrant-bot chat`)"
        )
    telegram_token, telegram_secret = _telegram_secrets(config, env) if config.telegram.enabled else ("", "")
    viber_token = config.secret("viber", "token_env", env) if config.viber.enabled else ""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = await open_runtime(config)
    engine = runtime.engine
    assert engine is not None
    engine.flood = FloodGate(config.telegram.flood_per_minute)
    parts = _Parts()
    try:
        await _start(config, runtime, parts, stop, telegram_token, telegram_secret, viber_token)
        parts.ready = True
        log.warning("migrant-bot is running: %s", ", ".join(parts.senders))
        await stop.wait()
    finally:
        parts.ready = False
        if parts.server is not None:
            parts.server.should_exit = True
        await asyncio.gather(*parts.tasks, return_exceptions=True)
        await parts.lanes.drain()
        if parts.bot is not None:
            await parts.bot.shutdown()
        if parts.client is not None:
            await parts.client.aclose()
        await runtime.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start(
    config: Config, runtime: Runtime, parts: _Parts, stop: asyncio.Event, telegram_token: str, telegram_secret: str,
    viber_token: str,
) -> None:
    engine = runtime.engine
    assert engine is not None
    if config.telegram.enabled:
        await _start_telegram(config, runtime, parts, telegram_token, stop)
    if config.viber.enabled:
        parts.client = httpx.AsyncClient()
        parts.viber = viber_channel(config, runtime, viber_token, parts.client)
        parts.senders[parts.viber.channel] = parts.viber
    dispatcher = Dispatcher(runtime.outbox, parts.senders, config.handoff.delivery_attempts)
    parts.tasks.append(asyncio.create_task(dispatcher.run(stop)))
    telegram_webhook = config.telegram.enabled and config.telegram.mode == "webhook"
    if config.telegram.enabled and not telegram_webhook:
        assert parts.bot is not None and parts.telegram is not None
        await parts.bot.delete_webhook()
        parts.tasks.append(asyncio.create_task(poll(parts.telegram, parts.lanes, stop)))
    if not (telegram_webhook or parts.viber):
        return
    app = create_app(parts.lanes, lambda: parts.ready, parts.telegram if telegram_webhook else None, telegram_secret,
                     parts.viber)
    parts.server = uvicorn.Server(
        uvicorn.Config(app, host=config.web.host, port=config.web.port, log_level="warning", lifespan="off")
    )
    parts.tasks.append(asyncio.create_task(parts.server.serve()))
    while not parts.server.started:  # a webhook is set only once the server can answer its first call
        await asyncio.sleep(0.02)
    public = config.web.public_url.rstrip("/")
    if telegram_webhook and parts.bot is not None:
        await parts.bot.set_webhook(url=public + "/telegram", allowed_updates=ALLOWED_UPDATES, secret_token=telegram_secret)
    if parts.viber is not None and public:
        log.warning("viber set_webhook: %s", await parts.viber.set_webhook(public + "/viber"))
