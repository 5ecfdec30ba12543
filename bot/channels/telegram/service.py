"""The Telegram channel as `migrant-bot run` drives it: its settings and secrets, its webhook route or its polling
loop, the consultants' group, and reaching the Bot API at start."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.channels.base import ChannelPlugin, Factory
from bot.channels.telegram.adapter import ALLOWED_UPDATES, TelegramChannel, connect
from bot.channels.telegram.consultant_group import ConsultantGroup
from bot.config import Config, ConfigError
from bot.delivery import keep_trying
from bot.storage.cards import SqlCards
from bot.web import store_update

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.intake import Intake

WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
ROUTE = "/telegram"
log = logging.getLogger(__name__)


class TelegramService(TelegramChannel):
    """The adapter (parsing, sending) with its lifecycle: webhook or long polling, and the consultants' group."""

    def __init__(self, config: Config, runtime: Runtime, bot: Bot, secret: str) -> None:
        self._config = config
        self._engine = runtime.engine
        self._secret = secret
        settings = config.telegram
        self.group = (
            ConsultantGroup(
                bot,
                settings.consultant_chat_id,
                runtime.desk,
                runtime.desk_store,
                SqlCards(runtime.database, settings.consultant_chat_id),
                config.handoff.urgent_reminder_minutes,
            )
            if settings.consultant_chat_id
            else None
        )
        super().__init__(
            bot, settings.consultant_chat_id, self.group.handle if self.group else None, settings.messages_per_second
        )

    @property
    def webhook(self) -> bool:
        return self._config.telegram.mode == "webhook"

    def routes(self, intake: Intake) -> list[BaseRoute]:
        if not self.webhook:
            return []

        async def telegram_webhook(request: Request) -> Response:
            given = request.headers.get("x-telegram-bot-api-secret-token", "")
            if not hmac.compare_digest(given.encode(), self._secret.encode()):
                return Response(status_code=403)
            try:
                received = self.parse((await request.body()).decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:  # not JSON, or JSON that is not an update
                log.info("telegram webhook: %s", exc)
                return Response(status_code=400)
            return await store_update(intake, received) or JSONResponse({"ok": True})

        return [Route(ROUTE, telegram_webhook, methods=["POST"])]

    async def start(self, stop: asyncio.Event) -> bool:
        config, bot = self._config, self.bot
        assert self._engine is not None
        menus = {lang: self._engine.replies.command_menu(lang) for lang in config.bot.languages}

        async def setup() -> None:
            try:
                await bot.initialize()
            except InvalidToken as exc:
                raise ConfigError(
                    f"{config.source}: [telegram] token_env: the Bot API refused the token in "
                    f"${config.telegram.token_env}"
                ) from exc
            await self.register_commands(menus)
            await bot.set_my_commands(menus[config.bot.default_language])
            if self.webhook:
                url = config.web.public_url.rstrip("/") + ROUTE
                await bot.set_webhook(url=url, allowed_updates=ALLOWED_UPDATES, secret_token=self._secret)
            else:
                await bot.delete_webhook()

        return await keep_trying("Telegram Bot API", setup, stop, (NetworkError, httpx.HTTPError))

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        loops = [self.group.run(stop)] if self.group is not None else []
        if not self.webhook:
            loops.append(self._poll(intake, stop))
        await asyncio.gather(*loops)

    async def _poll(self, intake: Intake, stop: asyncio.Event, long_poll: int = 25) -> None:
        """Long polling: each batch is stored before the next getUpdates confirms it, then handled in its lanes;
        no more are fetched while the lanes are full. A batch that cannot be stored is fetched again later."""
        while not stop.is_set():
            try:
                async for batch in self.updates(stop, long_poll):
                    await asyncio.gather(*(intake.receive(received) for received in batch))
                    await intake.lanes.wait_for_room()
            except Exception:  # the database is away, say: start again from the last confirmed offset
                log.exception("telegram polling failed; fetching the updates not stored again shortly")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=2)
                except TimeoutError:
                    pass

    async def close(self) -> None:
        await self.bot.shutdown()


def configure(config: Config, env: Mapping[str, str]) -> Factory:
    """The token, and in webhook mode the public address and the webhook secret, or a ConfigError naming what is
    missing."""
    token = config.secret("telegram", "token_env", dict(env))
    secret = ""
    if config.telegram.mode == "webhook":
        if not config.web.public_url:
            raise ConfigError(
                f"{config.source}: [web] public_url: webhook mode needs the bot's public https:// address"
            )
        secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
        if not secret:
            raise ConfigError(
                f'{config.source}: [telegram] mode = "webhook" needs the environment variable {WEBHOOK_SECRET_ENV}'
            )
    for value in (token, secret):
        logs.add_secret(value)
    return lambda runtime: TelegramService(config, runtime, connect(token, config.telegram.api_base_url), secret)


PLUGIN = ChannelPlugin("telegram", lambda config: config.telegram.enabled, configure, TelegramChannel.max_length)
