"""The HTTP app: chat services' webhooks and a health check, served by uvicorn from `migrant-bot run`."""

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

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}) if ready() else JSONResponse({"status": "starting"}, status_code=503)

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
