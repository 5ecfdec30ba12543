"""The HTTP app: chat services' webhooks and a health check, served by uvicorn from `migrant-bot run`.

Both webhooks check their signature in constant time (403 when wrong), answer 400 to a body that is not JSON, and
answer at once, handling the update in the background; Viber's conversation_started is the exception, as its
welcome must travel in the response body.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from viberbot.api.viber_requests import ViberConversationStartedRequest

from bot.channels.viber import ViberChannel

log = logging.getLogger(__name__)

UpdateHandler = Callable[[dict[str, object]], Awaitable[None]]


class BackgroundWork:
    """Tasks started by webhook requests, so a shutdown can wait for the updates in flight."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def create_app(
    telegram: UpdateHandler | None,
    telegram_secret: str,
    ready: Callable[[], bool],
    work: BackgroundWork,
    viber: ViberChannel | None = None,
) -> Starlette:
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if telegram is None or not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return Response(status_code=400)
        if not isinstance(data, dict):
            return Response(status_code=400)
        work.start(telegram(data))  # answer at once; Telegram retries slow webhooks
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
            work.start(viber.process(parsed))
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
