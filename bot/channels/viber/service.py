"""The Viber channel as `migrant-bot run` drives it: its settings and token, its webhook route (with the welcome
Viber lets a bot answer `conversation_started` with), setting the webhook at start, and its HTTP client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import logs
from bot.channels.base import ChannelPlugin, Factory
from bot.channels.viber.adapter import CHANNEL, ViberChannel
from bot.config import Config
from bot.delivery import keep_trying
from bot.web import store_update

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.intake import Intake

ROUTE = "/viber"
log = logging.getLogger(__name__)


class ViberService(ViberChannel):
    """The adapter (parsing, sending) with its webhook route and its own HTTP client."""

    def __init__(self, config: Config, runtime: Runtime, token: str) -> None:
        assert runtime.engine is not None
        self._public_url = config.web.public_url
        self._http = httpx.AsyncClient()
        outbox = runtime.outbox
        super().__init__(
            token,
            config.viber.api_base_url,
            config.viber.sender_name,
            config.viber.sender_avatar,
            self._http,
            runtime.engine.deactivate,
            lambda message_token, event: outbox.receipt(CHANNEL, message_token, event),
        )

    def routes(self, intake: Intake) -> list[BaseRoute]:
        async def viber_webhook(request: Request) -> Response:
            body = await request.body()
            if not self.authentic(body, request.headers.get("x-viber-content-signature", "")):
                return Response(status_code=403)
            try:
                received = self.parse(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                log.info("viber webhook: %s", exc)
                return Response(status_code=400)
            if received.detail is None:  # an event this bot does not know
                return JSONResponse({"status": 0})
            if self.welcomes(received):  # the welcome is the response body
                try:
                    welcome = self.welcome_body(await intake.answer(received))
                except Exception:
                    log.exception("viber conversation_started failed")
                    welcome = None
                return JSONResponse(welcome) if welcome else JSONResponse({"status": 0})
            return await store_update(intake, received) or JSONResponse({"status": 0})

        return [Route(ROUTE, viber_webhook, methods=["POST"])]

    async def start(self, stop: asyncio.Event) -> bool:
        """Point Viber at the webhook when the bot has a public address (else `migrant-bot viber set-webhook`)."""
        if not self._public_url:
            return True
        url = self._public_url.rstrip("/") + ROUTE
        return await keep_trying("Viber API", lambda: self.set_webhook(url), stop, (httpx.HTTPError,))

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        return None  # Viber only calls the webhook

    async def close(self) -> None:
        await self._http.aclose()


def configure(config: Config, env: Mapping[str, str]) -> Factory:
    token = config.secret("viber", "token_env", dict(env))
    logs.add_secret(token)
    return lambda runtime: ViberService(config, runtime, token)


PLUGIN = ChannelPlugin("viber", lambda config: config.viber.enabled, configure, ViberChannel.max_length)
