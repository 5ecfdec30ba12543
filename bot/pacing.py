"""The pace a chat service allows, shared by everything one channel sends.

Telegram takes about 30 messages a second in all and one a second per chat. Every message sent moves the next
free moment on by one gap (virtual scheduling, as a GCRA does): a bulk message (a broadcast, a reminder) waits for
that moment and for its chat's; a conversation's message never waits, but moves the moment on all the same, so
that the bulk behind it slows down and the total stays within the limit. The conversation comes first, the
broadcast fills what is left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pace:
    def __init__(
        self, per_second: float, chat_interval: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._gap = 1.0 / per_second
        self._chat_interval = chat_interval
        self._clock = clock
        self._next = 0.0
        self._chats: dict[str, float] = {}  # a chat's earliest next bulk moment

    def _try(self, chat: str, bulk: bool) -> float:
        """Take the moment now if this message may go: 0.0; else how long a bulk message should wait before
        asking again (a conversation's message always goes). Bulk waits are not reserved ahead, so that a
        conversation's message arriving meanwhile moves the bulk back rather than squeezing in beside it."""
        now = self._clock()
        if bulk:
            wait = max(self._next, self._chats.get(chat, 0.0)) - now
            if wait > 0:
                return wait
        # a waiter woken a little late keeps its place (up to half a gap): lateness must not add up into a slower pace
        self._next = max(self._next, now - self._gap / 2) + self._gap
        if self._chat_interval:
            self._chats[chat] = now + self._chat_interval
            if len(self._chats) > 4096:  # forget the chats whose interval has passed
                self._chats = {c: t for c, t in self._chats.items() if t > now}
        return 0.0

    async def wait(self, chat: str, bulk: bool) -> None:
        """Return when this message may go: at once for a conversation's, at its turn for a bulk message."""
        # a wait computed from the pace, then a look again: no event to wait for, the clock is the signal
        while (delay := self._try(chat, bulk)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)
