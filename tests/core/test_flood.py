"""The flood gate: a burst at once, then one message a turn, and past the rate one notice, then silence."""

from __future__ import annotations

from bot.core.flood import Admission, FloodGate, Verdict
from bot.types import Address

ANNA, BORIS = Address("telegram", "1"), Address("telegram", "2")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_read_at_once_and_the_rest_take_turns_a_gap_apart() -> None:
    clock = Clock()
    gate = FloodGate(per_minute=20, burst=3, clock=clock)  # a turn every 3 s
    waits = [gate.check(ANNA) for _ in range(6)]
    assert waits == [Admission(Verdict.PASS, w) for w in (0.0, 0.0, 0.0, 3.0, 6.0, 9.0)]
    assert gate.check(BORIS) == Admission(Verdict.PASS)  # another person's turns are his own
    clock.now += 4.0
    assert gate.check(ANNA) == Admission(Verdict.PASS, 8.0)  # behind her last turn (13 s from the start)
    clock.now += 60.0
    assert [gate.check(ANNA).wait for _ in range(4)] == [0.0, 0.0, 0.0, 3.0]  # calm again: a new burst


def test_past_the_rate_one_notice_then_silence_and_neither_takes_a_turn() -> None:
    clock = Clock()
    gate = FloodGate(per_minute=4, burst=1, clock=clock)  # a turn every 15 s
    assert [gate.check(ANNA) for _ in range(4)] == [Admission(Verdict.PASS, w) for w in (0.0, 15.0, 30.0, 45.0)]
    assert gate.check(ANNA) == Admission(Verdict.WARN)
    assert gate.check(ANNA) == Admission(Verdict.DROP)
    clock.now += 61.0  # the minute has passed, and her last turn (45 s) too: read at once, the next a gap later
    assert gate.check(ANNA) == Admission(Verdict.PASS, 0.0)
    assert gate.check(ANNA) == Admission(Verdict.PASS, 15.0)


def test_a_burst_of_one_is_no_burst() -> None:
    gate = FloodGate(per_minute=60, burst=1, clock=Clock())
    assert [gate.check(ANNA).wait for _ in range(3)] == [0.0, 1.0, 2.0]
