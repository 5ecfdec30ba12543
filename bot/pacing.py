"""The pace a chat service allows, shared by everything one channel sends.

Telegram takes about 30 messages a second in all and one a second per chat. Each message reserves the next free
moment (virtual scheduling, as a GCRA does): a bulk message (a broadcast, a reminder) waits for its moment and for
its chat's; a conversation's message never waits, but takes its moment all the same, so that the bulk behind it
slows down and the total stays within the limit. The conversation comes first, the broadcast fills what is left.
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

    def _reserve(self, chat: str, bulk: bool) -> float:
        """Take the next moment for a message to `chat`; how long to wait for it (never, unless `bulk`)."""
        now = self._clock()
        moment = max(self._next, now)
        if bulk:
            moment = max(moment, self._chats.get(chat, 0.0))
        else:
            moment = now
        self._next = max(self._next, moment) + self._gap
        if self._chat_interval:
            self._chats[chat] = moment + self._chat_interval
            if len(self._chats) > 4096:  # forget the chats whose interval has passed
                self._chats = {c: t for c, t in self._chats.items() if t > now}
        return moment - now

    async def wait(self, chat: str, bulk: bool) -> None:
        """Wait for this message's moment: none for a conversation's, its turn for a bulk message."""
        delay = self._reserve(chat, bulk)
        if delay > 0:
            await asyncio.sleep(delay)
