"""Reminders of the events people asked about: the day before and two hours before, through the outbox.

Every minute the bot looks at the announced events; for one whose reminder is due it queues a message to each
person who pressed "Remind me", under the key `r:<event>:<which>:<user>`, so that a restart, a second process or
the next minute's look cannot send it twice. A bot that was down when the day-before reminder was due sends it
when it comes back, unless the two-hours one is due by then.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.engine import Engine
from bot.core.event_chat import due_reminder
from bot.storage.outbox import SqlOutbox
from bot.storage.outreach import SqlOutreach
from bot.types import Outbound

log = logging.getLogger(__name__)
REMINDER_PRIORITY = 5  # after the conversations' messages, before broadcasts


class Reminders:
    def __init__(self, engine: Engine, outreach: SqlOutreach, outbox: SqlOutbox, default_language: str) -> None:
        self._engine = engine
        self._outreach = outreach
        self._outbox = outbox
        self._default = default_language

    async def once(self) -> int:
        """Queue what is due now; how many reminders were new."""
        engine = self._engine
        if engine.events is None:
            return 0
        replies = engine.events.replies
        now = engine.clock()
        queued = 0
        for event in replies.knowledge.upcoming(now):
            which = due_reminder(event, now)
            if which is None:
                continue
            for person in await self._outreach.reminded(event.id, self._default):
                message = replies.reminder(person.language, event, which)
                text = engine.render_text(person.language, message)
                outbound = Outbound(person.address, text, message.buttons, person.language, bulk=True)
                key = f"r:{event.id}:{which.value}:{person.user_id}"
                queued += await self._outbox.add(outbound, key, REMINDER_PRIORITY)
        if queued:
            log.info("queued %d event reminder(s)", queued)
        return queued

    async def run(self, stop: asyncio.Event, interval: float = 60.0) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # the next minute tries again; the keys keep it from sending twice
                log.exception("event reminders failed this round")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
