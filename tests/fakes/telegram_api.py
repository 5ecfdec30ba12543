"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 (port 0) that records every call.

Enough of the API for the bot: getMe, sendMessage, answerCallbackQuery, setMyCommands, setWebhook,
deleteWebhook, getUpdates, editMessageText, deleteMessage. Tests queue updates for getUpdates, block chats (403),
make calls fail with 429 (per method or per chat) or enforce Telegram's rate limits with 429s, slow every call
down to see how many the bot makes at once,
play an outage (502 for every call until a moment), or make chats' sendMessage hang.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serve import Served, serve

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Migrant Help", "username": "migrant_help_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)  # when it arrived, for latency measurements
    result: Any = None  # what the fake answered, such as the message it "sent"


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    too_many: dict[str, int] = field(default_factory=dict)  # method -> how many 429s to answer first
    too_many_for: dict[int, int] = field(default_factory=dict)  # chat -> how many 429s its sendMessage gets first
    delay: float = 0.0  # seconds every call takes...
    delay_spread: float = 0.0  # ...plus up to this many more, at random
    in_flight: int = 0
    most_in_flight: int = 0
    forum: bool = False  # whether getChat says the group is a forum
    outage_until: float = 0.0  # time.monotonic() before which every call answers 502 Bad Gateway
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file id -> (file_path, content) for getFile
    hanging: set[int] = field(default_factory=set)  # chats whose sendMessage hangs for `hang_seconds`
    hang_seconds: float = 20.0
    deleted: list[int] = field(default_factory=list)  # message ids deleteMessage was asked to delete
    limits: bool = False  # enforce Telegram's limits: 30 sendMessage a second in all, 1 a second per chat
    limited: int = 0  # how many 429s the limits answered
    _recent: deque[float] = field(default_factory=deque)  # when the accepted sendMessage calls of the last second came
    _chat_last: dict[int, float] = field(default_factory=dict)
    _let_go: asyncio.Event = field(default_factory=asyncio.Event)
    _thread_id: int = 100
    url: str = ""
    _message_id: int = 0
    _served: Served | None = None
    _stopping: bool = False

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """What was sent (to `chat_id`), counting only the messages the fake accepted."""
        return [
            c.params
            for c in self.calls
            if c.method == "sendMessage"
            and c.result is not None
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def _params(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            return json.loads(body or b"{}")
        params: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode()):  # python-telegram-bot posts form-encoded fields
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _endpoint(self, request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        if token != TOKEN:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        try:
            params = await self._params(request)
        except ClientDisconnect:  # the bot was killed mid-call (the fault benchmarks do that)
            return JSONResponse({"ok": False}, status_code=499)
        call = Call(method, params)
        self.calls.append(call)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay or self.delay_spread:
                await asyncio.sleep(self.delay + random.random() * self.delay_spread)
            if time.monotonic() < self.outage_until:
                return JSONResponse({"ok": False, "error_code": 502, "description": "Bad Gateway"}, status_code=502)
            if method == "sendMessage" and int(params.get("chat_id") or 0) in self.hanging:
                try:  # hang until the test lets go, or hang_seconds pass
                    await asyncio.wait_for(self._let_go.wait(), self.hang_seconds)
                except TimeoutError:
                    pass
            return await self._answer(call)
        finally:
            self.in_flight -= 1

    def _over_limits(self, chat: int) -> bool:
        """Telegram's limits, as a sliding second: True (answer 429) when this sendMessage would break one."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= 30 or now - self._chat_last.get(chat, -10.0) < 1.0:
            self.limited += 1
            return True
        self._recent.append(now)
        self._chat_last[chat] = now
        return False

    async def _answer(self, call: Call) -> JSONResponse:
        method, params = call.method, call.params
        chat = int(params.get("chat_id") or 0) if method == "sendMessage" else 0
        over = method == "sendMessage" and self.limits and chat not in self.blocked and self._over_limits(chat)
        if over or self.too_many.get(method, 0) > 0 or self.too_many_for.get(chat, 0) > 0:
            if over:
                pass
            elif self.too_many.get(method, 0) > 0:
                self.too_many[method] -= 1
            else:
                self.too_many_for[chat] -= 1
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status_code=429,
            )
        if chat in self.blocked:
            return JSONResponse(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                status_code=403,
            )
        call.result = await self._result(method, params)
        return JSONResponse({"ok": True, "result": call.result})

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method.startswith("send"):
            self._message_id += 1
            chat_id = int(params["chat_id"])
            return {
                "message_id": self._message_id,
                "date": 1700000000,
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
            }
        if method == "getChat":
            return {
                "id": int(params["chat_id"]),
                "type": "supergroup",
                "title": "Consultants",
                "is_forum": self.forum,
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        if method == "createForumTopic":
            self._thread_id += 1
            return {"message_thread_id": self._thread_id, "name": params.get("name", ""), "icon_color": 7322096}
        if method == "deleteMessage":
            self.deleted.append(int(params["message_id"]))
            return True
        if method == "editMessageText":
            return {
                "message_id": int(params["message_id"]),
                "date": 1700000000,
                "text": params.get("text", ""),
                "chat": {"id": int(params["chat_id"]), "type": "supergroup"},
                "from": BOT_USER,
            }
        if method == "getFile":
            path, content = self.files[str(params["file_id"])]  # an unknown id: a 500, as a test would want to see
            return {"file_id": params["file_id"], "file_unique_id": "u", "file_size": len(content), "file_path": path}
        if method == "getUpdates":
            # as Telegram does: an offset confirms the updates before it, which are then gone; the others stay
            # until confirmed, so an update fetched by a process that died is fetched again. A long poll of up to
            # a second, cut short by updates or by stopping.
            offset = int(params.get("offset") or 0)
            self.updates[:] = [u for u in self.updates if u["update_id"] >= offset]
            deadline = time.monotonic() + 1
            while not (ready := [u for u in self.updates if u["update_id"] >= offset][:100]):
                if self._stopping or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.002)
            return ready
        return True

    async def start(self, port: int = 0) -> None:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["POST", "GET"]),
                Route("/file/bot{token}/{path:path}", self._file),
            ]
        )
        self._served = await serve(app, port)
        self.url = self._served.url

    async def _file(self, request: Request) -> Response:
        """A file's download, as getFile's file_path names it; only with the right token."""
        path = request.path_params["path"]
        found = [content for name, content in self.files.values() if name == path]
        if request.path_params["token"] != TOKEN or not found:
            return Response(status_code=404)
        return Response(found[0], media_type="application/octet-stream")

    def let_go(self) -> None:
        """End every hanging call now."""
        self.hanging.clear()
        self._let_go.set()

    async def stop(self) -> None:
        self.let_go()
        self._stopping = True
        if self._served is not None:
            await self._served.stop()


_update_id = 1000


def message_update(
    chat_id: int,
    text: str = "",
    language: str = "en",
    chat_type: str = "private",
    update_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    global _update_id
    _update_id += 1
    message = {
        "message_id": _update_id,
        "date": 1700000000,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": language},
        **extra,
    }
    if text:
        message["text"] = text
    return {"update_id": update_id or _update_id, "message": message}


def callback_update(chat_id: int, data: str, language: str = "en") -> dict[str, Any]:
    global _update_id
    _update_id += 1
    return {
        "update_id": _update_id,
        "callback_query": {
            "id": f"cb{_update_id}",
            "chat_instance": "x",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": language},
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": chat_id, "type": "private"},
                "text": "menu",
            },
        },
    }
