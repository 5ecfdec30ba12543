"""The HTTP app: chat services' webhooks and a health check, served by uvicorn from `migrant-bot run`.

Both webhooks check their signature in constant time (403 when wrong), answer 400 to a body that is not JSON, and
answer at once, handling the update in the background; Viber's conversation_started is the exception, as its
welcome must travel in the response body.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from viberbot.api.viber_requests import ViberConversationStartedRequest

from bot.channels.telegram import TelegramChannel, chat_of, update_of
from bot.channels.viber import ViberChannel, user_of
from bot.lanes import Lanes

log = logging.getLogger(__name__)


def create_app(
    lanes: Lanes,
    ready: Callable[[], bool],
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    viber: ViberChannel | None = None,
) -> Starlette:
    """Webhooks hand each update to `lanes`, to be handled in the background after its chat's earlier ones."""

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if telegram is None or not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return Response(status_code=403)
        try:
            update = update_of(json.loads(await request.body()), telegram.bot)
        except ValueError:  # not JSON, or JSON that is not an update
            return Response(status_code=400)
        lanes.start(chat_of(update), telegram.process(update))  # answer at once; Telegram retries slow webhooks
        return JSONResponse({"ok": True})

    async def viber_webhook(request: Request) -> Response:
        body = await request.body()
        if viber is None or not viber.authentic(body, request.headers.get("x-viber-content-signature", "")):
            return Response(status_code=403)
        try:
            parsed = viber.parse(body)
        except (ValueError, UnicodeDecodeError):
            return Response(status_code=400)
        if isinstance(parsed, ViberConversationStartedRequest):  # the welcome must be the response body
            result = await viber.welcome(parsed)
            return JSONResponse(result.body) if result.body else Response(status_code=result.status)
        if parsed is not None:
            lanes.start(user_of(parsed), viber.process(parsed))
        return JSONResponse({"status": 0})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}) if ready() else JSONResponse({"status": "starting"}, status_code=503)

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/viber", viber_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
