"""One delivery policy for everything the bot sends: the reply to what a person just wrote and the outbox alike.

A failed send is judged by its meaning (a DeliveryError from the channel): the person blocked the bot, so they
become inactive and nothing is retried; the service refused the message itself (a 400), so it is logged and
dropped; anything else (network, timeout, 5xx, a rate limit) passes, so it is retried with exponential backoff and
jitter, or after the service's `retry_after`. An immediate reply is retried in place only for a short while, so
that a person's lane is not held up for long; then it is handed to the outbox, which goes on trying.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.types import DeliveryError, Outbound

log = logging.getLogger(__name__)


class Sender(Protocol):
    channel: str

    async def send(self, message: Outbound) -> str | None:
        """Deliver one message, split to the channel's limit; return the service's id for it, if it gives one."""
        ...


class Verdict(enum.Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot or left: make them inactive, send nothing more
    REFUSED = "refused"  # the service will never take this message: log it, drop it
    LATER = "later"  # not sent yet, worth another try


def judge(error: DeliveryError) -> Verdict:
    if error.blocked:
        return Verdict.BLOCKED
    return Verdict.REFUSED if error.permanent else Verdict.LATER


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of base * 2**(n-1), at most `cap`;
    a service's retry_after is obeyed, plus a little jitter so that many senders do not retry in step."""

    base: float = 0.5
    cap: float = 900.0

    def delay(self, attempt: int, retry_after: float | None = None, rand: Callable[[], float] = random.random) -> float:
        if retry_after is not None:
            return retry_after + rand() * min(1.0, retry_after / 10 + 0.1)
        full = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        return full / 2 + rand() * full / 2


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    provider_id: str | None = None
    error: DeliveryError | None = None


async def send_now(sender: Sender, message: Outbound, within: float, backoff: Backoff = Backoff()) -> Result:
    """Send, retrying what may pass for at most `within` seconds; LATER means: hand it to the outbox."""
    deadline = time.monotonic() + within
    attempt = 0
    while True:
        attempt += 1
        try:
            return Result(Verdict.SENT, await sender.send(message))
        except DeliveryError as error:
            verdict = judge(error)
            if verdict is not Verdict.LATER:
                return Result(verdict, error=error)
            wait = backoff.delay(attempt, error.retry_after)
            if time.monotonic() + wait > deadline:
                return Result(Verdict.LATER, error=error)
            log.info("%s: send failed (%s), trying again in %.1f s", sender.channel, error, wait)
            await asyncio.sleep(wait)


async def keep_trying(
    what: str, step: Callable[[], Awaitable[object]], stop: asyncio.Event, errors: tuple[type[Exception], ...]
) -> bool:
    """Run `step` until it succeeds, backing off on `errors` (a service away: one log line per attempt); False if
    the bot was stopped first. How a channel reaches its service at start."""
    backoff = Backoff(base=1.0, cap=60.0)
    retryable: tuple[type[Exception], ...] = (DeliveryError, OSError, *errors)
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await step()
            return True
        except retryable as exc:
            wait = backoff.delay(attempt)
            log.warning("%s: cannot reach it (%s); trying again in %.0f s", what, exc, wait)
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                pass
    return False
