"""The HTTP app: chat services' webhooks and a health check, served by uvicorn from `migrant-bot run`.

Both webhooks check their signature in constant time (403 when wrong) and store the update before they answer
200, so an update Telegram or Viber counts as delivered is never lost; a body that holds no update gets 400 and a
body over BODY_LIMIT gets 413 before it is read whole, on every route. What an authentic webhook sends never
earns a 5xx, which would make the service send it again and again: only a bot that cannot store updates right now
(its database away, too much waiting) answers 503, so that the service tries later. Updates are taken as soon as
the app serves, before the chat services are reached: what cannot be sent yet goes through the outbox.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from viberbot.api.viber_requests import ViberConversationStartedRequest

from bot.channels.telegram import TelegramChannel
from bot.channels.viber import ViberChannel
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


def create_app(
    intake: Intake,
    ready: Callable[[], bool],
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    viber: ViberChannel | None = None,
) -> Starlette:
    async def store(received: Received) -> Response | None:
        """Store an update for its lane; a response when that cannot be done now."""
        if intake.busy:
            return _COME_BACK
        try:
            await intake.receive(received)
        except Exception:  # the database is away: the service keeps the update and sends it again later
            log.exception("%s: an update could not be stored; asked the service to send it again", received.channel)
            return _COME_BACK
        return None

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if telegram is None or not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return Response(status_code=403)
        try:
            received = telegram.parse((await request.body()).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:  # not JSON, or JSON that is not an update
            log.info("telegram webhook: %s", exc)
            return Response(status_code=400)
        return await store(received) or JSONResponse({"ok": True})

    async def viber_webhook(request: Request) -> Response:
        body = await request.body()
        if viber is None or not viber.authentic(body, request.headers.get("x-viber-content-signature", "")):
            return Response(status_code=403)
        try:
            received = viber.parse(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            log.info("viber webhook: %s", exc)
            return Response(status_code=400)
        if received.detail is None:  # an event this bot does not know
            return JSONResponse({"status": 0})
        if isinstance(received.detail, ViberConversationStartedRequest):  # the welcome must be the response body
            try:
                welcome = viber.welcome_body(await intake.answer(received))
            except Exception:
                log.exception("viber conversation_started failed")
                welcome = None
            return JSONResponse(welcome) if welcome else JSONResponse({"status": 0})
        return await store(received) or JSONResponse({"status": 0})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}) if ready() else JSONResponse({"status": "starting"}, status_code=503)

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/viber", viber_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[Middleware(BodyLimit)],
    )
