"""Per-user flood control: past a rate, one polite notice, then silence until the user calms down.

In memory and per process on purpose: it protects the bot and the consultants from one runaway client without
slowing anybody else, and it needs no database round trip on every message.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

from bot.types import Address

WINDOW_SECONDS = 60.0


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"


class FloodGate:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._clock = clock
        self._recent: dict[Address, deque[float]] = {}
        self._warned: set[Address] = set()

    def check(self, address: Address) -> Verdict:
        now = self._clock()
        recent = self._recent.setdefault(address, deque())
        while recent and now - recent[0] > WINDOW_SECONDS:
            recent.popleft()
        recent.append(now)
        if len(recent) <= self._limit:
            self._warned.discard(address)
            if len(self._recent) > 10_000:  # forget idle users now and then, so memory stays flat
                self._recent = {a: q for a, q in self._recent.items() if q and now - q[-1] <= WINDOW_SECONDS}
            return Verdict.PASS
        if address in self._warned:
            return Verdict.DROP
        self._warned.add(address)
        return Verdict.WARN
