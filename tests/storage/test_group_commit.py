"""Group commit: concurrent requests share a write, each still gets its own result or its own error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.storage.group_commit import GroupCommit, SharedCommit
from tests.fakes.serve import eventually


class Writes:
    """A write that doubles numbers, refuses negative ones, and remembers the batches it was given."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, batch: list[int]) -> list[int]:
        self.batches.append(list(batch))
        await asyncio.sleep(0)  # a real transaction yields to the event loop
        if any(n < 0 for n in batch):
            raise ValueError(f"negative in {batch}")
        return [n * 2 for n in batch]


async def test_requests_in_flight_together_share_one_write_and_get_their_own_results() -> None:
    writes = Writes()
    commit = GroupCommit(writes)
    results = await asyncio.gather(*(commit.submit(n) for n in range(50)))
    assert results == [n * 2 for n in range(50)]
    assert writes.batches == [list(range(50))]


async def test_a_request_arriving_during_a_write_goes_in_the_next_one() -> None:
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def held(batch: list[int]) -> list[int]:
        batches.append(list(batch))
        await gate.wait()
        return batch

    commit = GroupCommit(held)
    first = asyncio.ensure_future(commit.submit(1))
    await eventually(lambda: batches == [[1]])
    second = asyncio.ensure_future(commit.submit(2))
    await asyncio.sleep(0.01)
    gate.set()
    assert (await first, await second) == (1, 2)
    assert batches == [[1], [2]]


async def test_a_batch_is_never_larger_than_its_limit() -> None:
    writes = Writes()
    commit = GroupCommit(writes, max_batch=8)
    await asyncio.gather(*(commit.submit(n) for n in range(20)))
    assert [len(batch) for batch in writes.batches] == [8, 8, 4]


async def test_one_bad_request_fails_alone_and_the_others_are_written() -> None:
    writes = Writes()
    commit = GroupCommit(writes)
    results = await asyncio.gather(*(commit.submit(n) for n in (1, -1, 3)), return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError)
    assert writes.batches == [[1, -1, 3], [1], [-1], [3]]


async def test_a_write_that_returns_the_wrong_number_of_results_fails_its_callers() -> None:
    async def short(batch: list[int]) -> list[int]:
        return batch[:-1]

    with pytest.raises(RuntimeError, match="gave 0 results"):
        await GroupCommit(short).submit(1)


class Connections:
    """A stand-in for engine.begin(): counts the transactions it opens."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> Connections:
        return self

    async def __aenter__(self) -> Connections:
        self.opened += 1
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


async def test_kinds_of_write_in_flight_together_share_one_transaction_in_their_steps_order() -> None:
    transactions = Connections()
    shared = SharedCommit(transactions)  # type: ignore[arg-type]  # a stand-in for engine.begin
    order: list[str] = []

    def step(name: str, factor: int) -> Callable[[object, list[int]], Awaitable[list[int]]]:
        async def write(_connection: object, batch: list[int]) -> list[int]:
            order.append(name)
            return [n * factor for n in batch]

        return write

    later = shared.step(2, step("later", 10))
    first = shared.step(1, step("first", 2))
    results = await asyncio.gather(later(1), first(1), later(2), first(3))
    assert results == [10, 2, 20, 6]
    assert order == ["first", "later"] and transactions.opened == 1
