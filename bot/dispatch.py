"""Delivers the outbox, one dispatcher per process, to whichever channel each message belongs to.

Retries back off exponentially (or as the service asks, e.g. Telegram's retry_after); after the last attempt a
message is marked failed and the consultant is told in the ticket. A user who blocked the bot is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.storage.outbox import OutboxItem, SqlOutbox
from bot.types import Address, DeliveryError, Outbound, split_message

log = logging.getLogger(__name__)


class Sender(Protocol):
    channel: str
    max_length: int

    async def send(self, message: Outbound) -> str | None:
        """Deliver one message; return the service's id for it when it gives one (for delivery receipts)."""
        ...


class Dispatcher:
    def __init__(
        self,
        outbox: SqlOutbox,
        senders: dict[str, Sender],
        max_attempts: int = 5,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
    ) -> None:
        self._outbox = outbox
        self._senders = senders
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay

    async def _deliver(self, sender: Sender, item: OutboxItem, blocked: set[Address]) -> bool:
        if item.address in blocked:
            await self._outbox.failed(item, "the user blocked the bot", blocked=False)
            return False
        message = item.outbound()
        parts = split_message(message.text, sender.max_length)
        provider_id: str | None = None
        try:
            for number, part in enumerate(parts):
                last = number == len(parts) - 1
                provider_id = await sender.send(
                    Outbound(message.address, part, message.buttons if last else (), message.language)
                )
        except DeliveryError as exc:
            if exc.permanent or item.attempts >= self._max_attempts:
                log.warning("outbox %s to %s failed for good: %s", item.id, item.address.channel, exc)
                await self._outbox.failed(item, str(exc), exc.blocked)
                if exc.blocked:
                    blocked.add(item.address)
            else:
                delay = exc.retry_after or min(self._max_delay, self._base_delay * 2 ** (item.attempts - 1))
                await self._outbox.retry(item, str(exc), delay)
            return False
        await self._outbox.sent(item, provider_id)
        return True

    async def deliver_once(self, channel: str, chat_id: str | None = None, limit: int = 20) -> int:
        """Send what is due on one channel (optionally to one chat); returns how many arrived."""
        sender = self._senders[channel]
        delivered = 0
        blocked: set[Address] = set()
        for item in await self._outbox.claim(channel, limit=limit, chat_id=chat_id):
            delivered += await self._deliver(sender, item, blocked)
        return delivered

    async def run(self, stop: asyncio.Event, interval: float = 1.0, chat_id: str | None = None) -> None:
        while not stop.is_set():
            for channel in self._senders:
                try:
                    while await self.deliver_once(channel, chat_id) > 0:
                        pass
                except Exception:  # a dispatcher must outlive one bad round; the rows stay leased, then retry
                    log.exception("outbox round on %s failed", channel)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
