"""Lanes: many chats at once, one update at a time and in order within a chat."""

from __future__ import annotations

import asyncio

import pytest

from bot.lanes import Lanes
from tests.fakes.serve import eventually


async def test_a_slow_update_holds_up_its_own_chat_but_no_other() -> None:
    lanes = Lanes()
    done: list[str] = []
    release = asyncio.Event()

    async def slow(name: str) -> None:
        await release.wait()
        done.append(name)

    async def quick(name: str) -> None:
        done.append(name)

    lanes.start("anna", slow("anna 1"))
    lanes.start("anna", quick("anna 2"))
    lanes.start("omar", quick("omar 1"))
    await eventually(lambda: done == ["omar 1"])
    release.set()
    await lanes.drain()
    assert done == ["omar 1", "anna 1", "anna 2"]


async def test_no_more_than_the_limit_run_at_once() -> None:
    lanes = Lanes(limit=3)
    running = 0
    most = 0

    async def work() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    for chat in range(10):
        lanes.start(str(chat), work())
    await lanes.drain()
    assert most == 3


async def test_a_failing_update_is_logged_and_its_chat_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    lanes = Lanes()
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        done.append("next")

    lanes.start("anna", broken())
    lanes.start("anna", fine())
    await lanes.drain()
    assert done == ["next"]
    assert "handling an update failed" in caplog.text


async def test_wait_for_room_returns_once_fewer_than_the_limit_are_pending() -> None:
    lanes = Lanes(limit=2)
    release = asyncio.Event()

    async def held() -> None:
        await release.wait()

    lanes.start("a", held())
    lanes.start("b", held())
    waiting = asyncio.ensure_future(lanes.wait_for_room())
    await asyncio.sleep(0.02)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(waiting, 1)
    await lanes.drain()


async def test_drain_waits_for_work_started_while_draining() -> None:
    lanes = Lanes()
    done: list[str] = []

    async def first() -> None:
        await asyncio.sleep(0.01)
        lanes.start("b", second())
        done.append("first")

    async def second() -> None:
        await asyncio.sleep(0.01)
        done.append("second")

    lanes.start("a", first())
    await lanes.drain()
    assert done == ["first", "second"]
