"""Group commit: requests that arrive while a transaction is being written wait and go together in the next one.

Under load many messages are in flight at once; writing each in its own transaction spends most of the time on
per-transaction and per-statement overhead. Here one transaction serves every request that queued up meanwhile,
so a batch's cost is shared and no request waits for a timer: when the bot is idle a batch is one request.
Every caller still gets its own result only after its transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

Request = TypeVar("Request")
Result = TypeVar("Result")
Step = Callable[[AsyncConnection, list[Any]], Awaitable[Sequence[Any]]]  # one kind of write, for a batch of them
log = logging.getLogger(__name__)

# the order of the steps in a shared transaction: an update is stored, its person arrives and their turns are
# recorded, then updates are marked done; the outbox's leases renewed before a send, and its messages sent
INBOX_STEP, USERS_STEP, DONE_STEP, HOLD_STEP, SENT_STEP = 1, 2, 3, 4, 5


class GroupCommit(Generic[Request, Result]):
    def __init__(self, write: Callable[[list[Request]], Awaitable[Sequence[Result]]], max_batch: int = 200) -> None:
        """`write` runs one transaction for a batch and returns one result per request, in order."""
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[Request, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # one turn of the event loop: requests already on their way join this batch
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            await self._settle(batch)

    async def _settle(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([request for request, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} writes gave {len(results)} results")
        except asyncio.CancelledError:  # shutting down: nobody may wait for ever
            for _, future in batch + self._waiting:
                future.cancel()
            raise
        except Exception as exc:
            if len(batch) > 1:  # one bad request must not fail the others: write them one by one
                log.warning(
                    "a batch of %d writes failed (%s); retrying them one by one", len(batch), type(exc).__name__
                )
                for single in batch:
                    await self._settle([single])
                return
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the caller may have been cancelled meanwhile
                future.set_result(result)


class SharedCommit:
    """One group commit for several kinds of write: each kind is a step with its own batch function, and a
    batch runs every step that has requests, in the steps' order, in one transaction.

    Every message causes several small writes (its arrival in the inbox, the person's state, its turn, the
    update done); in separate transactions they cost more than the rows they write, and on SQLite they would
    queue for its one connection. Shared, a busy moment costs one transaction."""

    def __init__(self, begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]], max_batch: int = 200) -> None:
        self._begin = begin
        self._steps: list[tuple[int, Step]] = []
        self._commit: GroupCommit[tuple[Step, object], object] = GroupCommit(self._write, max_batch)

    def step(self, order: int, write: Step) -> Callable[[object], Awaitable[object]]:
        """Register a kind of write; returns the function that submits one request of that kind."""
        self._steps.append((order, write))
        self._steps.sort(key=lambda pair: pair[0])
        return lambda request: self._commit.submit((write, request))

    async def _write(self, batch: list[tuple[Step, object]]) -> list[object]:
        results: list[object] = [None] * len(batch)
        async with self._begin() as connection:
            for _, step in self._steps:
                positions = [i for i, (kind, _) in enumerate(batch) if kind is step]
                if not positions:
                    continue
                written = await step(connection, [batch[i][1] for i in positions])
                if len(written) != len(positions):
                    raise RuntimeError(f"a step given {len(positions)} writes gave {len(written)} results")
                for position, result in zip(positions, written, strict=True):
                    results[position] = result
        return results
