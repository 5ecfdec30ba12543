"""The registry's proof: a channel written in this file alone, added through the registry, chats with the real bot.

It has a webhook route, a text limit of its own (long answers arrive split), and the lifecycle every channel has.
Nothing outside this file names it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import Runtime, channel_plugins
from bot.channels.base import ChannelPlugin, Factory
from bot.config import Config, parse_config
from bot.intake import Intake
from bot.runner import BotApp
from bot.types import Address, Handler, Inbound, Outbound, Received, split_message
from bot.web import store_update
from tests.conftest import ROOT, answer_of
from tests.fakes.serve import eventually


class ToyChannel:
    channel = "toy"
    max_length = 120

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.closed = False

    def routes(self, intake: Intake) -> list[BaseRoute]:
        async def webhook(request: Request) -> Response:
            try:
                received = self.parse((await request.body()).decode())
            except ValueError:
                return Response(status_code=400)
            return await store_update(intake, received) or JSONResponse({"ok": True})

        return [Route("/toy", webhook, methods=["POST"])]

    def parse(self, body: str) -> Received:
        data = json.loads(body)
        user = str(data["user"])
        return Received(
            self.channel, str(data["id"]), user, body, Inbound(Address(self.channel, user), text=data["text"])
        )

    async def process(self, received: Received, handle: Handler) -> list[Outbound]:
        assert received.inbound is not None
        return await handle(received.inbound)

    async def send(self, message: Outbound) -> str | None:
        self.sent.extend((message.address.chat_id, part) for part in split_message(message.text, self.max_length))
        return None

    async def start(self, stop: asyncio.Event) -> bool:
        return True

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


def toy_plugin(channel: ToyChannel) -> ChannelPlugin:
    def configure(config: Config, env: Mapping[str, str]) -> Factory:
        def build(runtime: Runtime) -> ToyChannel:
            return channel

        return build

    return ChannelPlugin("toy", lambda config: True, configure, ToyChannel.max_length)


async def test_a_channel_added_through_the_registry_chats_with_the_bot(tmp_path: Path) -> None:
    text = (
        f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "t.db"}"\n'
        "[web]\nport = 0\n"
    )
    toy = ToyChannel()
    app = BotApp(parse_config(text, "test", tmp_path, env={}), {}, [*channel_plugins(), toy_plugin(toy)])
    stop = asyncio.Event()
    try:
        assert await app.start(stop)
        assert list(app.parts.receivers) == ["toy"]  # Telegram and Viber are registered but not enabled
        assert app.parts.server is not None
        port = app.parts.server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            update = {"id": 1, "user": "ana", "text": "when can I change my GP?"}
            response = await client.post(f"http://127.0.0.1:{port}/toy", json=update)
            assert response.status_code == 200
            await eventually(lambda: bool(toy.sent))
            answer = answer_of("health-gp-change", "en")
            await eventually(lambda: " ".join(part for _, part in toy.sent).split() == answer.split())
            assert len(toy.sent) > 1 and all(len(part) <= ToyChannel.max_length for _, part in toy.sent)
            assert {chat for chat, _ in toy.sent} == {"ana"}
            assert (await client.post(f"http://127.0.0.1:{port}/toy", content=b"not json")).status_code == 400
            assert (await client.post(f"http://127.0.0.1:{port}/telegram", json={})).status_code == 404
    finally:
        stop.set()
        await app.close()
    assert toy.closed
