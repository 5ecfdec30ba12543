"""The pace a chat service allows, shared by everything one channel sends.

Telegram takes about 30 messages a second in all and one a second per chat. Bulk messages (a broadcast, a
reminder) are spaced evenly and never fill the last second beyond the limit less a reserve: one place, and as
many more as people chatting were sent a second lately. A conversation's message never waits: it takes a
reserved place, and it counts in the last second all the same, so that the bulk behind it slows down and the
total stays within the limit. The conversation comes first, the broadcast fills what is left.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

REPLY_WINDOW = 2.0  # seconds over which the conversations' recent rate is measured


class Pace:
    def __init__(
        self,
        per_second: int,
        chat_interval: float = 0.0,
        reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`per_second`: the service's limit for all messages; `reserve`: how many of them, in any second, bulk
        messages leave free at least (for jitter); more while people are chatting: as many as they were sent a
        second lately, so that their replies, which never wait, find room."""
        self._limit = per_second
        self._reserve = reserve
        self._gap = 1.0 / (per_second - reserve)
        self._chat_interval = chat_interval
        self._clock = clock
        self._next = 0.0
        self._sent: deque[float] = deque()  # when the messages of the last second went
        self._replies: deque[float] = deque()  # when the conversations' messages of the last REPLY_WINDOW went
        self._chats: dict[str, float] = {}  # a chat's earliest next bulk moment

    def _try(self, chat: str, bulk: bool) -> float:
        """Take the moment now if this message may go: 0.0; else how long a bulk message should wait before
        asking again (a conversation's message always goes). Bulk waits are not reserved ahead, so that a
        conversation's message arriving meanwhile takes its place in the last second rather than a 31st."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        while self._replies and self._replies[0] <= now - REPLY_WINDOW:
            self._replies.popleft()
        if bulk:
            wait = max(self._next, self._chats.get(chat, 0.0)) - now
            room = self._limit - self._reserve - math.ceil(len(self._replies) / REPLY_WINDOW)
            room = max(room, self._limit // 2)  # a chatty minute slows a broadcast down, never to a stop
            if len(self._sent) >= room:  # the last second is full: wait until enough of it has passed
                wait = max(wait, self._sent[len(self._sent) - room] + 1.0 - now)
            if wait > 0:
                return wait
            # a waiter woken a little late keeps its place (up to half a gap): lateness must not slow the pace
            self._next = max(self._next, now - self._gap / 2) + self._gap
        else:
            self._replies.append(now)
        self._sent.append(now)
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
