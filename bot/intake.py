"""Receiving: every chat service's updates take one road from the wire to the engine and back.

    parse -> flood gate (the crisis check runs on every text) -> inbox, durably -> acknowledged to the service
          -> the chat's lane -> the channel and the engine -> replies by the delivery policy, else the outbox
          -> inbox done

An update is acknowledged (the webhook's 200, the polling offset moving past it) only once it is stored, and marked
done only once its replies are sent or queued, so a process that dies loses nothing: its pending updates are
taken over when its lease runs out, by the restarted process or another one, urgent ones first. Replies may repeat
only for the updates that were in flight at the crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

from bot.core.flood import Admission, FloodGate
from bot.core.flood import Verdict as Flood
from bot.delivery import Backoff, Sender, Verdict, send_now
from bot.lanes import Lanes
from bot.storage.inbox import LEASE, Arrival, Pending, SqlInbox
from bot.storage.outbox import SqlOutbox
from bot.types import Address, Handler, Inbound, Outbound, Received

log = logging.getLogger(__name__)

REPLY_WITHIN = 8.0  # seconds an immediate reply is retried in its lane before the outbox takes it over
BACKLOG = 2000  # updates waiting in lanes beyond which webhooks answer 503 (the service tries again later)


class Receiver(Sender, Protocol):
    """What a channel gives the intake."""

    def parse(self, body: str) -> Received:
        """The update in a body the service sent; ValueError when the body holds none."""
        ...

    async def process(self, received: Received, handle: Handler) -> list[Outbound]:
        """Do what the update asks (the engine does the conversation); return the replies to send."""
        ...


class Conversation(Protocol):
    """The engine's faces the intake uses."""

    async def handle(self, inbound: Inbound) -> list[Outbound]: ...

    async def flooded(self, inbound: Inbound) -> list[Outbound]: ...

    def is_emergency(self, text: str) -> bool: ...

    async def deactivate(self, address: Address) -> None: ...


class Intake:
    def __init__(
        self,
        inbox: SqlInbox,
        outbox: SqlOutbox,
        conversation: Conversation,
        receivers: dict[str, Receiver],
        lanes: Lanes | None = None,
        flood: FloodGate | None = None,
        reply_within: float = REPLY_WITHIN,
        backoff: Backoff = Backoff(),
        backlog: int = BACKLOG,
    ) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._conversation = conversation
        self.receivers = receivers
        self.lanes = lanes or Lanes()
        self._flood = flood
        self._within = reply_within
        self._backoff = backoff
        self._backlog = backlog
        self._in_flight: set[int] = set()
        self._turns: dict[str, asyncio.Event] = {}  # the lanes whose next message waits its turn
        self._hurried: Counter[str] = Counter()  # per lane, the emergencies stored and not yet read
        self._stopping = False

    @property
    def busy(self) -> bool:
        """Too much is waiting: webhooks should ask the service to come back later."""
        return self.lanes.pending >= self._backlog

    # -- receiving ------------------------------------------------------------------------------------------

    def _gate(self, received: Received) -> tuple[bool, Admission]:
        """Is it urgent, and may it pass the flood gate (now, or at its turn)? A message the crisis check catches
        always passes at once."""
        inbound = received.inbound
        if inbound is None:
            return False, Admission(Flood.PASS)
        urgent = bool(inbound.text) and self._conversation.is_emergency(inbound.text)
        if urgent:
            return True, Admission(Flood.PASS)
        return False, self._flood.check(inbound.address) if self._flood is not None else Admission(Flood.PASS)

    async def receive(self, received: Received) -> None:
        """Store the update, then handle it in its lane; returns once it is stored, so that the caller may
        acknowledge it. An update the flood gate drops (the crisis check found nothing in it) is not stored:
        it is read by nobody, and costs as little as it can."""
        urgent, admission = self._gate(received)
        if admission.verdict is Flood.DROP:
            return
        item_id = await self._inbox.store(Arrival(received.channel, received.key, received.lane, received.body, urgent))
        if item_id is None:
            return  # a repeat: handled already, or being handled
        if urgent:  # the messages waiting their turn ahead of it in its lane go now
            self._hurried[received.lane] += 1
            if received.lane in self._turns:
                self._turns[received.lane].set()
        if admission.verdict is Flood.WARN:  # the notice goes at once, not behind the messages waiting their turn
            self._start(item_id, received, lane=f"{received.lane}:notice", flooded=True)
        else:
            self._start(item_id, received, turn=asyncio.get_running_loop().time() + admission.wait, urgent=urgent)

    async def answer(self, received: Received) -> list[Outbound]:
        """Store and handle an update at once, returning its replies instead of sending them (Viber's
        conversation_started, whose welcome travels in the HTTP response)."""
        item_id = await self._inbox.store(Arrival(received.channel, received.key, received.lane, received.body))
        if item_id is None:
            return []
        try:
            return await self.receivers[received.channel].process(received, self._conversation.handle)
        finally:
            await self._inbox.done(item_id)

    def _start(
        self,
        item_id: int,
        received: Received,
        lane: str | None = None,
        flooded: bool = False,
        turn: float = 0.0,
        urgent: bool = False,
    ) -> asyncio.Task[None]:
        """`turn`: the event loop's time before which the update is not read (the past, or 0: at once)."""
        self._in_flight.add(item_id)
        return self.lanes.start(lane or received.lane, self._handle(item_id, received, flooded, turn, urgent))

    def hurry(self) -> None:
        """Stopping: nothing waits for its turn any more (what was stored is read before the bot ends)."""
        self._stopping = True
        for event in self._turns.values():
            event.set()

    async def _wait_turn(self, lane: str, turn: float) -> None:
        """Wait for a message's turn after a burst; cut short by an emergency behind it or by stopping. One
        message of a lane waits at a time: the lane keeps them in order."""
        wait = turn - asyncio.get_running_loop().time()
        if wait <= 0 or self._hurried[lane] > 0 or self._stopping:
            return
        event = self._turns[lane] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout=wait)
        except TimeoutError:
            pass
        finally:
            del self._turns[lane]

    async def _handle(self, item_id: int, received: Received, flooded: bool, turn: float, urgent: bool) -> None:
        receiver = self.receivers[received.channel]
        await self._wait_turn(received.lane, turn)
        if urgent:  # read: once every emergency of the lane is, the messages after them take their turns again
            self._hurried[received.lane] -= 1
            if self._hurried[received.lane] <= 0:
                del self._hurried[received.lane]
        try:
            if flooded and received.inbound is not None:
                replies = await self._conversation.flooded(received.inbound)
            else:
                replies = await receiver.process(received, self._conversation.handle)
            await self._reply(receiver, replies, received.key)
        except Exception:  # a bug must cost one update, never a loop of retries after every restart
            log.exception("%s: handling update %s failed", received.channel, received.key)
        await self._inbox.done(item_id)
        self._in_flight.discard(item_id)

    async def _reply(self, sender: Sender, replies: list[Outbound], key: str) -> None:
        for number, reply in enumerate(replies):
            result = await send_now(sender, reply, self._within, self._backoff)
            if result.verdict is Verdict.BLOCKED:
                await self._conversation.deactivate(reply.address)
                return
            if result.verdict is Verdict.REFUSED:
                log.warning("%s refused a reply, dropped: %s", sender.channel, result.error)
            elif result.verdict is Verdict.LATER:
                for later, rest in enumerate(replies[number:], number):
                    await self._outbox.add(rest, f"reply:{sender.channel}:{key}:{later}")
                log.warning(
                    "%s: a reply could not be sent yet (%s); the outbox goes on trying", sender.channel, result.error
                )
                return

    # -- resuming -------------------------------------------------------------------------------------------

    async def take_over(self) -> int:
        """Handle the pending updates whose process died (this one before a restart, or another): each chat's in
        arrival order; the chats with an emergency first, and the others only once those are handled. Returns
        how many were taken."""
        pending = [p for p in await self._inbox.take_over() if p.id not in self._in_flight]
        lanes: dict[str, list[Pending]] = {}
        for item in pending:
            lanes.setdefault(item.lane, []).append(item)
        urgent = [lane for lane, items in lanes.items() if any(p.urgent for p in items)]
        if pending:
            log.warning(
                "taking over %d pending update(s), %d of them in chats with an emergency",
                len(pending),
                sum(len(lanes[lane]) for lane in urgent),
            )
        first = [task for lane in urgent for task in await self._resume(lanes.pop(lane))]
        if first:
            await asyncio.wait(first)
        for items in lanes.values():
            await self._resume(items)
        return len(pending)

    async def _resume(self, items: list[Pending]) -> list[asyncio.Task[None]]:
        tasks = []
        for item in items:
            receiver = self.receivers.get(item.channel)
            try:
                if receiver is None:
                    raise ValueError(f"no channel named {item.channel!r} is running")
                received = receiver.parse(item.body)
            except ValueError as exc:
                log.error("pending update %s cannot be resumed (%s): dropped", item.id, exc)
                await self._inbox.done(item.id)
                continue
            tasks.append(self._start(item.id, received))
        return tasks

    async def run(self, stop: asyncio.Event) -> None:
        """While the bot runs: renew this process's leases, take over what dead processes left, forget old keys."""
        beat = LEASE.total_seconds() / 3
        rounds = 0
        while not stop.is_set():
            try:
                await self._inbox.renew()
                await self.take_over()
                if rounds % 600 == 0:
                    await self._inbox.forget_old()
            except Exception:  # the database may be away for a moment; the next beat tries again
                log.exception("inbox upkeep failed")
            rounds += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=beat)
            except TimeoutError:
                pass
