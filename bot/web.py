"""The HTTP app: the channels' webhook routes and a health check, served by uvicorn from `migrant-bot run`.

It knows no channel by name: each channel gives its routes (bot.channels.base). Every webhook checks its
signature in constant time (403 when wrong) and stores the update before it answers 200 (`store_update`), so an
update a service counts as delivered is never lost; a body that holds no update gets 400, and a body over
BODY_LIMIT gets 413 before it is read whole, on every route. What an authentic webhook sends never earns a 5xx,
which would make the service send it again and again: only a bot that cannot store updates right now (its
database away, too much waiting) answers 503, so that the service tries later. Updates are taken as soon as the
app serves, before the chat services are reached: what cannot be sent yet goes through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.intake import Intake
from bot.types import Received

log = logging.getLogger(__name__)

BODY_LIMIT = 1_000_000  # bytes; Telegram's and Viber's callbacks are a few kilobytes
_TOO_LARGE = Response("request body too large\n", status_code=413)
_COME_BACK = Response(status_code=503, headers={"Retry-After": "5"})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413: at once when Content-Length says so, else as soon as
    the bytes read pass the limit, so a huge body is never held in memory."""

    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await _TOO_LARGE(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _TOO_LARGE(scope, receive, send)


async def store_update(intake: Intake, received: Received) -> Response | None:
    """Store an update for its lane before the webhook answers; the response to give when that cannot be done now
    (the service keeps the update and sends it again later)."""
    if intake.busy:
        return _COME_BACK
    try:
        await intake.receive(received)
    except Exception:  # the database is away
        log.exception("%s: an update could not be stored; asked the service to send it again", received.channel)
        return _COME_BACK
    return None


def create_app(ready: Callable[[], bool], routes: list[BaseRoute]) -> Starlette:
    """The channels' webhook routes and /healthz (503 until `ready`), behind the body limit."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}) if ready() else JSONResponse({"status": "starting"}, status_code=503)

    return Starlette(
        routes=[*routes, Route("/healthz", healthz, methods=["GET"])],
        middleware=[Middleware(BodyLimit)],
    )
