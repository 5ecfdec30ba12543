"""The pace a chat service allows, shared by everything one channel sends.

Telegram takes about 30 messages a second in all and one a second per chat. Bulk messages (a broadcast, a
reminder) are spaced evenly and never fill the last second beyond the limit less a reserve (the places a
conversation's messages find free). A conversation's message goes at once while the last second holds fewer than
the limit, and counts in it all the same, so that the bulk behind it slows down and the total stays within the
limit; in the rare second that is full it waits for the oldest message to leave the second (a few milliseconds),
which a 429 would turn into a second or more. The conversation comes first, the broadcast fills what is left.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Pace:
    def __init__(
        self,
        per_second: int,
        chat_interval: float = 0.0,
        reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`per_second`: the service's limit for all messages; `reserve`: how many of them, in any second, bulk
        messages leave free for the conversations; `chat_interval`: the least time between two bulk messages to
        one chat."""
        self._limit = per_second
        self._bulk_room = per_second - reserve
        self._gap = 1.0 / self._bulk_room
        self._chat_interval = chat_interval
        self._clock = clock
        self._next = 0.0
        self._sent: deque[float] = deque()  # when the messages of the last second went
        self._chats: dict[str, float] = {}  # a chat's earliest next bulk moment

    def _until_room(self, room: int, now: float) -> float:
        """How long until the last second holds fewer than `room` messages (0.0: it does now)."""
        if len(self._sent) < room:
            return 0.0
        return self._sent[len(self._sent) - room] + 1.0 - now

    def _try(self, chat: str, bulk: bool) -> float:
        """Take the moment now if this message may go: 0.0; else how long to wait before asking again. Bulk
        waits are not reserved ahead, so that a conversation's message arriving meanwhile takes its place in the
        last second rather than a 31st."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        if bulk:
            wait = max(self._next - now, self._chats.get(chat, 0.0) - now, self._until_room(self._bulk_room, now))
            if wait > 0:
                return wait
            # a waiter woken a little late keeps its place (up to half a gap): lateness must not slow the pace
            self._next = max(self._next, now - self._gap / 2) + self._gap
        elif (wait := self._until_room(self._limit, now)) > 0:
            return wait
        self._sent.append(now)
        if self._chat_interval:
            self._chats[chat] = now + self._chat_interval
            if len(self._chats) > 4096:  # forget the chats whose interval has passed
                self._chats = {c: t for c, t in self._chats.items() if t > now}
        return 0.0

    async def wait(self, chat: str, bulk: bool) -> None:
        """Return when this message may go: at its turn for a bulk message, at once (or within milliseconds in
        a full second) for a conversation's."""
        # a wait computed from the pace, then a look again: no event to wait for, the clock is the signal
        while (delay := self._try(chat, bulk)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)
