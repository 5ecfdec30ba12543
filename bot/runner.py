"""`migrant-bot run`: every enabled channel, the outbox dispatcher and, for webhooks, the HTTP app.

SIGINT and SIGTERM stop it cleanly: no new updates are taken, the ones in flight finish, then the connections
close. Nothing is lost: an update not yet handled is fetched or re-sent by Telegram again, and is handled once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass

import uvicorn
from telegram import Bot, Update

from bot.app import open_runtime
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.config import Config, ConfigError
from bot.consultant_group import ConsultantGroup
from bot.core.flood import FloodGate
from bot.dispatch import Dispatcher
from bot.storage.cards import SqlCards
from bot.storage.updates import SqlUpdateLog
from bot.web import BackgroundWork, create_app

WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
log = logging.getLogger(__name__)


@dataclass
class _Readiness:
    ready: bool = False


def _check(config: Config, env: dict[str, str]) -> tuple[str, str]:
    """The token and webhook secret, or a ConfigError naming what is missing."""
    if not config.telegram.enabled:
        raise ConfigError(
            f"{config.source}: [telegram] enabled: no channel is enabled (set it to true, or use `migrant-bot chat`)"
        )
    token = config.secret("telegram", "token_env", env)
    if config.telegram.mode != "webhook":
        return token, ""
    if not config.web.public_url:
        raise ConfigError(f"{config.source}: [web] public_url: webhook mode needs the bot's public https:// address")
    secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
    if not secret:
        raise ConfigError(f"{config.source}: [telegram] mode = \"webhook\" needs the environment variable {WEBHOOK_SECRET_ENV}")
    return token, secret


async def run(config: Config, env: dict[str, str] | None = None, stop: asyncio.Event | None = None) -> None:
    env = dict(os.environ) if env is None else env
    token, secret = _check(config, env)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = await open_runtime(config)
    engine = runtime.engine
    assert engine is not None
    engine.flood = FloodGate(config.telegram.flood_per_minute)
    api = config.telegram.api_base_url.rstrip("/")
    bot = Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
    updates = SqlUpdateLog(runtime.database, "telegram")
    group = None
    if config.telegram.consultant_chat_id:
        group = ConsultantGroup(
            bot, config.telegram.consultant_chat_id, runtime.desk, runtime.desk_store,
            SqlCards(runtime.database, config.telegram.consultant_chat_id), config.handoff.urgent_reminder_minutes,
        )
    channel = TelegramChannel(
        bot, engine.handle, updates.first_time, config.telegram.consultant_chat_id, group.handle if group else None
    )
    readiness = _Readiness()
    work = BackgroundWork()
    tasks: list[asyncio.Task[None]] = []
    server: uvicorn.Server | None = None
    try:
        await bot.initialize()
        await updates.forget_old()
        menus = {lang: engine.replies.command_menu(lang) for lang in config.bot.languages}
        await channel.register_commands(menus)
        await bot.set_my_commands([(c, d) for c, d in menus[config.bot.default_language]])
        dispatcher = Dispatcher(runtime.outbox, {channel.channel: channel}, config.handoff.delivery_attempts)
        tasks.append(asyncio.create_task(dispatcher.run(stop)))
        if group is not None:
            tasks.append(asyncio.create_task(group.run(stop)))
        if config.telegram.mode == "polling":
            await bot.delete_webhook()
            tasks.append(asyncio.create_task(channel.poll(stop)))
        else:
            async def handle(data: dict[str, object]) -> None:
                update = Update.de_json(data, bot)
                if update is not None:
                    await channel.process(update)

            app = create_app(handle, secret, lambda: readiness.ready, work)
            server = uvicorn.Server(
                uvicorn.Config(app, host=config.web.host, port=config.web.port, log_level="warning", lifespan="off")
            )
            tasks.append(asyncio.create_task(server.serve()))
            await bot.set_webhook(
                url=config.web.public_url.rstrip("/") + "/telegram", allowed_updates=ALLOWED_UPDATES, secret_token=secret
            )
        readiness.ready = True
        log.warning("migrant-bot is running: telegram %s", config.telegram.mode)
        await stop.wait()
    finally:
        readiness.ready = False
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await work.drain()
        await bot.shutdown()
        await runtime.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
