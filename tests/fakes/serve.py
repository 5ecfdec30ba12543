"""Serve an ASGI app on 127.0.0.1 at a free port, for fakes, tests and benchmarks; wait for what it should do."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


@dataclass
class Served:
    server: uvicorn.Server
    task: asyncio.Task[None]
    url: str  # http://127.0.0.1:PORT

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def serve(app: ASGIApp, port: int = 0) -> Served:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    return Served(server, task, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}")


async def eventually(check: Callable[[], bool | Awaitable[bool]], seconds: float = 10.0) -> None:
    """Wait until `check()` is true or `seconds` pass; the assertions that follow say what was expected."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.05)
