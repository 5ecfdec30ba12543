"""Updates are handled concurrently, but one at a time and in arrival order within each chat.

A chat service delivers the updates of many people at once; handling them one after another would let one
person's slow reply (a 429 waited out, a long transaction) hold up everybody, and handling all of them freely
would let a person's second message overtake their first ("/language", then a question). So each chat gets a
lane: its updates wait for the one before them, and at most `limit` run at any moment across all chats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 256


class Lanes:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._last: dict[str, asyncio.Task[None]] = {}  # the newest task of each chat with work in flight
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, chat: str, work: Coroutine[object, object, None]) -> asyncio.Task[None]:
        """Run `work` after the chat's earlier work; return at once, with the task that will run it."""
        task = asyncio.create_task(self._run(self._last.get(chat), work))
        self._last[chat] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(chat, done))
        return task

    async def _run(self, before: asyncio.Task[None] | None, work: Coroutine[object, object, None]) -> None:
        if before is not None:
            await asyncio.wait([before])  # its failure is its own; this one runs regardless
        async with self._slots:
            try:
                await work
            except Exception:
                log.exception("handling an update failed")

    def _finished(self, chat: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(chat) is task:
            del self._last[chat]

    @property
    def pending(self) -> int:
        """Updates taken and not finished: running, or waiting for their chat's earlier ones or for a slot."""
        return len(self._tasks)

    async def wait_for_room(self) -> None:
        """Wait until fewer than `limit` updates are pending: polling takes no more than can be handled."""
        while len(self._tasks) >= self._limit:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Wait for every update taken so far, including those that arrive while waiting."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
