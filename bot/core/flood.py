"""Per-user flood control: a burst at once, the rest in turn, and past a rate one polite notice, then silence.

A person may send a few messages at once ("hi", "I need", "a doctor"); those are read at once. More than `burst`
in quick succession take their turns, one every 60/`per_minute` seconds (the generic cell rate algorithm), so one
runaway client costs the shared parts (the encoder, the database) no more than a calm user does, while a fast
typist loses nothing. Past `per_minute` in the last minute: one notice, then silence until they calm down. The
crisis check runs before this gate, and a message it catches never waits (see bot.intake).

In memory and per process on purpose: it protects the bot and the consultants without a database round trip on
every message.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.types import Address

WINDOW_SECONDS = 60.0
BURST = 5  # messages in a row read at once ([bot] flood_burst)


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"  # the first message over the limit: tell the user once
    DROP = "drop"


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    wait: float = 0.0  # seconds before a passing message is read: its turn after a burst


class FloodGate:
    def __init__(self, per_minute: int, burst: int = BURST, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._gap = WINDOW_SECONDS / per_minute
        self._tolerance = (burst - 1) * self._gap
        self._clock = clock
        self._recent: dict[Address, deque[float]] = {}
        self._turns: dict[Address, float] = {}  # when each user's next message would be read with no wait
        self._warned: set[Address] = set()

    def check(self, address: Address) -> Admission:
        now = self._clock()
        recent = self._recent.setdefault(address, deque())
        while recent and now - recent[0] > WINDOW_SECONDS:
            recent.popleft()
        recent.append(now)
        if len(recent) > self._limit:
            if address in self._warned:
                return Admission(Verdict.DROP)
            self._warned.add(address)
            return Admission(Verdict.WARN)
        self._warned.discard(address)
        if len(self._recent) > 10_000:  # forget idle users now and then, so memory stays flat
            self._recent = {a: q for a, q in self._recent.items() if q and now - q[-1] <= WINDOW_SECONDS}
            self._turns = {a: t for a, t in self._turns.items() if t > now}
        turn = self._turns.get(address, now)
        self._turns[address] = max(turn, now) + self._gap
        return Admission(Verdict.PASS, max(0.0, turn - self._tolerance - now))
