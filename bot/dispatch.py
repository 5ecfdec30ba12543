"""Delivers the outbox, one dispatcher per process, to whichever channel each message belongs to.

The delivery policy is bot.delivery's, the one immediate replies follow: what may pass later is retried with
backoff (or as the service asks), up to `max_attempts`, then marked failed and the consultant told in the ticket;
a person who blocked the bot is not retried; a message the service refuses is not retried either. The chats of
a batch are served at once, each chat's messages in order, so one slow chat does not hold up the others.
"""

from __future__ import annotations

import asyncio
import logging

from bot.delivery import Backoff, Sender, Verdict, judge
from bot.storage.outbox import OutboxItem, SqlOutbox
from bot.types import Address, DeliveryError

log = logging.getLogger(__name__)
# messages taken per round: at Telegram's pace a round of 60 lasts about two seconds, so the pause between rounds
# costs little of the rate; a conversation's message queued meanwhile waits at most that long (it goes first)
ROUND = 60


class Dispatcher:
    def __init__(
        self,
        outbox: SqlOutbox,
        senders: dict[str, Sender],
        max_attempts: int = 5,
        backoff: Backoff = Backoff(base=2.0),
    ) -> None:
        self._outbox = outbox
        self._senders = senders
        self._max_attempts = max_attempts
        self._backoff = backoff

    async def _deliver(self, sender: Sender, item: OutboxItem) -> Verdict:
        if not await self._outbox.hold(item):  # its lease ran out: another process may be sending it now
            log.warning("outbox %s: lease lost before sending; left to whoever holds it", item.id)
            return Verdict.LATER
        try:
            provider_id = await sender.send(item.outbound())
        except DeliveryError as exc:
            verdict = judge(exc)
            if verdict is Verdict.LATER and item.attempts < self._max_attempts:
                await self._outbox.retry(item, str(exc), self._backoff.delay(item.attempts, exc.retry_after))
            else:
                log.warning("outbox %s to %s failed for good: %s", item.id, item.address.channel, exc)
                await self._outbox.failed(item, str(exc), verdict is Verdict.BLOCKED)
            return verdict
        await self._outbox.sent(item, provider_id)
        return Verdict.SENT

    async def _deliver_chat(self, sender: Sender, items: list[OutboxItem]) -> int:
        delivered = 0
        for number, item in enumerate(items):
            verdict = await self._deliver(sender, item)
            delivered += verdict is Verdict.SENT
            if verdict is Verdict.BLOCKED:
                for rest in items[number + 1 :]:
                    await self._outbox.failed(rest, "the user blocked the bot", blocked=False)
                break
        return delivered

    async def deliver_once(self, channel: str, chat_id: str | None = None, limit: int = 20) -> int:
        """Send what is due on one channel (optionally to one chat); returns how many arrived."""
        sender = self._senders[channel]
        chats: dict[Address, list[OutboxItem]] = {}
        for item in await self._outbox.claim(channel, limit=limit, chat_id=chat_id):
            chats.setdefault(item.address, []).append(item)
        return sum(await asyncio.gather(*(self._deliver_chat(sender, items) for items in chats.values())))

    async def run(self, stop: asyncio.Event, interval: float = 1.0, chat_id: str | None = None) -> None:
        """One loop per channel, side by side: a long broadcast on one service does not hold up another."""
        await asyncio.gather(*(self._run_channel(channel, stop, interval, chat_id) for channel in self._senders))

    async def _run_channel(self, channel: str, stop: asyncio.Event, interval: float, chat_id: str | None) -> None:
        while not stop.is_set():
            try:
                while await self.deliver_once(channel, chat_id, ROUND) > 0 and not stop.is_set():
                    pass
            except Exception:  # a dispatcher must outlive one bad round; the rows stay leased, then retry
                log.exception("outbox round on %s failed", channel)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
