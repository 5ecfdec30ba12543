"""A fake Viber REST API: a real HTTP server on 127.0.0.1 (port 0) that records every call.

send_message answers with Viber's statuses: 0 and a message_token, 6 for a receiver who unsubscribed, 12 when
told to play "too many requests"; set_webhook and the rest answer 0; during a played outage every call gets HTTP
500. Callback bodies follow Viber's documentation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.viber.adapter import signature_of
from tests.fakes.serve import Served, serve

TOKEN = "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"  # the token of viberbot's own signature test


@dataclass
class FakeViber:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unsubscribed: set[str] = field(default_factory=set)
    too_many: int = 0
    outage_until: float = 0.0  # time.monotonic() before which every call answers HTTP 500
    accepted: list[dict[str, Any]] = field(default_factory=list)  # the send_message calls answered with status 0
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (content type, bytes) at media_url
    url: str = ""
    _token: int = 5000000000000000000
    _served: Served | None = None

    def sent(self, receiver: str | None = None) -> list[dict[str, Any]]:
        """What was sent (to `receiver`), counting only the messages the fake accepted."""
        return [p for p in self.accepted if receiver is None or p["receiver"] == receiver]

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.headers.get("x-viber-auth-token") != TOKEN:
            return JSONResponse({"status": 2, "status_message": "invalidAuthToken"})
        params = json.loads(await request.body())
        self.calls.append((method, params))
        if time.monotonic() < self.outage_until:
            return JSONResponse({"error": "internal"}, status_code=500)
        if method != "send_message":
            return JSONResponse({"status": 0, "status_message": "ok", "event_types": params.get("event_types", [])})
        if params["receiver"] in self.unsubscribed:
            return JSONResponse({"status": 6, "status_message": "notSubscribed"})
        if self.too_many > 0:
            self.too_many -= 1
            return JSONResponse({"status": 12, "status_message": "tooManyRequests"})
        self._token += 1
        self.accepted.append(params)
        return JSONResponse(
            {"status": 0, "status_message": "ok", "message_token": self._token, "chat_hostname": "SN-CHAT-01_"}
        )

    def media_url(self, name: str) -> str:
        """Where a file a user sent lies, as the link in a callback ("media")."""
        assert self._served is not None
        return f"{self._served.url}/media/{name}"

    async def _media(self, request: Request) -> Response:
        found = self.media.get(request.path_params["name"])
        return Response(found[1], media_type=found[0]) if found else Response(status_code=404)

    async def start(self) -> None:
        routes = [Route("/pa/{method}", self._endpoint, methods=["POST"]), Route("/media/{name}", self._media)]
        self._served = await serve(Starlette(routes=routes))
        self.url = self._served.url + "/pa"

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.stop()


_token = 4912661846655238145


def _next() -> int:
    global _token
    _token += 1
    return _token


def user(user_id: str, language: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "name": "John McClane",
        "avatar": "http://avatar.example.com",
        "language": language,
        "country": "UK",
        "api_version": 1,
    }


def message(
    user_id: str, text: str = "", language: str = "en", token: int | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = (
        {"type": "text", "text": text} if not fields else {**fields, **({"text": text} if text else {})}
    )
    return {
        "event": "message",
        "timestamp": 1457764197627,
        "message_token": token or _next(),
        "sender": user(user_id, language),
        "message": body,
    }


def conversation_started(user_id: str, language: str = "en") -> dict[str, Any]:
    return {
        "event": "conversation_started",
        "timestamp": 1457764197627,
        "message_token": _next(),
        "type": "open",
        "context": "",
        "user": user(user_id, language),
        "subscribed": False,
    }


def event(name: str, user_id: str, token: int) -> dict[str, Any]:
    return {
        "event": name,
        "timestamp": 1457764197627,
        "message_token": token,
        "user_id": user_id,
        **({"desc": "failure description"} if name == "failed" else {}),
    }


def signed(payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"X-Viber-Content-Signature": signature_of(body, TOKEN), "Content-Type": "application/json"}
