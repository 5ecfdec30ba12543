from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select, update

from bot.config import HandoffSection
from bot.core.handoff import ConsultantInfo, Desk
from bot.delivery import Backoff
from bot.dispatch import Dispatcher
from bot.i18n import I18n
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Outbox, User, utcnow
from bot.storage.outbox import SqlOutbox
from bot.types import Address, DeliveryError, Outbound, split_message
from tests.conftest import LANGUAGES


class FakeSender:
    channel = "fake"

    def __init__(self, max_length: int = 4096, fail: list[DeliveryError] | None = None) -> None:
        self.max_length = max_length
        self.sent: list[Outbound] = []
        self._fail = list(fail or [])

    async def send(self, message: Outbound) -> None:
        if self._fail:
            raise self._fail.pop(0)
        self.sent.append(message)


async def ticket_with_reply(database: Database, text: str = "the answer", user: str = "u1") -> tuple[Desk, int]:
    store = SqlDesk(database)
    if not await store.consultants():
        await store.add_consultant(ConsultantInfo("maria", ("en",)))
    desk = Desk(store, I18n(LANGUAGES), HandoffSection())
    await desk.open(Address("fake", user), "en", "asked_human", None, ["question"])
    ticket = next(t for t in await store.list_tickets() if t.status == "waiting")
    await store.claim(ticket.id, "maria")
    await desk.reply(ticket.id, "maria", text)
    return desk, ticket.id


async def test_a_reply_is_delivered_once_and_marked_sent(database: Database) -> None:
    await ticket_with_reply(database)
    sender = FakeSender()
    dispatcher = Dispatcher(SqlOutbox(database), {"fake": sender})
    assert await dispatcher.deliver_once("fake") == 1
    assert await dispatcher.deliver_once("fake") == 0
    assert [m.text for m in sender.sent] == ["Consultant:\n\nthe answer"]
    assert sender.sent[0].address == Address("fake", "u1")
    assert await SqlOutbox(database).counts() == {"sent": 1}


async def test_a_failing_send_backs_off_then_fails_and_the_consultant_is_told(database: Database) -> None:
    desk, ticket_id = await ticket_with_reply(database)
    outbox = SqlOutbox(database)
    sender = FakeSender(fail=[DeliveryError("timeout") for _ in range(3)])
    dispatcher = Dispatcher(outbox, {"fake": sender}, max_attempts=3, backoff=Backoff(base=30))
    assert await dispatcher.deliver_once("fake") == 0
    assert await dispatcher.deliver_once("fake") == 0  # not due yet: backing off
    for _ in range(2):
        async with database.sessions.begin() as session:  # let time pass
            await session.execute(update(Outbox).values(next_attempt_at=utcnow()))
        await dispatcher.deliver_once("fake")
    assert await outbox.counts() == {"failed": 1}
    [ticket] = await desk.store.list_tickets()
    assert ticket.delivery_failed
    _, lines = await desk.store.show(ticket_id)
    assert lines[-1].text == "delivery to the user failed: timeout"


async def test_a_user_who_blocked_the_bot_becomes_inactive_without_retries(database: Database) -> None:
    desk, ticket_id = await ticket_with_reply(database)
    await desk.close(ticket_id, "maria")
    sender = FakeSender(fail=[DeliveryError("blocked", blocked=True)])
    await Dispatcher(SqlOutbox(database), {"fake": sender}).deliver_once("fake")
    assert sender.sent == []
    assert await SqlOutbox(database).counts() == {"failed": 3}
    async with database.sessions() as session:
        assert (await session.scalars(select(User.active))).all() == [False]


async def test_a_retry_after_from_the_service_is_respected(database: Database) -> None:
    await ticket_with_reply(database)
    dispatcher = Dispatcher(SqlOutbox(database), {"fake": FakeSender(fail=[DeliveryError("429", retry_after=120)])})
    await dispatcher.deliver_once("fake")
    async with database.sessions() as session:
        row = (await session.scalars(select(Outbox))).one()
    assert row.status == "pending" and row.last_error == "429"
    assert 115 < (row.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds() <= 121


async def test_a_message_left_sending_by_a_dead_process_is_sent_again(database: Database) -> None:
    await ticket_with_reply(database)
    outbox = SqlOutbox(database)
    [leased] = await outbox.claim("fake")
    assert await outbox.claim("fake") == []  # leased to the first process
    async with database.sessions.begin() as session:
        await session.execute(update(Outbox).values(lease_until=utcnow()))
    [again] = await outbox.claim("fake")
    assert again.key == leased.key and again.attempts == 2


async def test_delivery_can_be_limited_to_one_chat(database: Database) -> None:
    await ticket_with_reply(database, user="u1")
    await ticket_with_reply(database, user="u2")
    sender = FakeSender()
    await Dispatcher(SqlOutbox(database), {"fake": sender}).deliver_once("fake", chat_id="u2")
    assert [m.address.chat_id for m in sender.sent] == ["u2"]


async def test_a_claim_takes_no_more_than_its_limit(database: Database) -> None:
    for n in range(30):
        await ticket_with_reply(database, f"answer {n}", user=f"u{n}")
    first, second = SqlOutbox(database, "one"), SqlOutbox(database, "two")
    taken = await first.claim("fake", limit=7)
    assert len(taken) == 7
    rest = await second.claim("fake", limit=100)
    assert len(rest) == 23 and not {i.id for i in taken} & {i.id for i in rest}


async def test_a_sender_whose_lease_ran_out_does_not_send(database: Database) -> None:
    await ticket_with_reply(database)
    slow, fast = SqlOutbox(database, "slow"), SqlOutbox(database, "fast")
    [mine] = await slow.claim("fake")
    async with database.sessions.begin() as session:  # the slow process took longer than its lease
        await session.execute(update(Outbox).values(lease_until=utcnow()))
    [theirs] = await fast.claim("fake")
    assert theirs.id == mine.id
    assert not await slow.hold(mine)
    assert await fast.hold(theirs)
    sender = FakeSender()
    assert await Dispatcher(slow, {"fake": sender}).deliver_once("fake") == 0 and sender.sent == []


async def test_two_dispatchers_never_deliver_one_message_twice(database_url: str, database: Database) -> None:
    for n in range(40):
        await ticket_with_reply(database, f"answer {n}", user=f"u{n}")
    other = Database(database_url)
    senders = [FakeSender(), FakeSender()]
    try:
        dispatchers = [
            Dispatcher(SqlOutbox(db, name), {"fake": s})
            for db, s, name in zip((database, other), senders, ("one", "two"), strict=True)
        ]

        async def drain(dispatcher: Dispatcher) -> None:
            while await dispatcher.deliver_once("fake", limit=3):  # noqa: ASYNC110 (yield to the other, no wait)
                await asyncio.sleep(0)

        await asyncio.gather(*(drain(d) for d in dispatchers))
    finally:
        await other.close()
    delivered = Counter(m.text for s in senders for m in s.sent)
    assert len(delivered) == 40 and set(delivered.values()) == {1}


@pytest.mark.parametrize("limit", [5, 4096])
async def test_split_never_loses_text(limit: int) -> None:
    text = "Один. Два три! " * 40 + "\n\n" + "x" * 50
    parts = split_message(text, limit)
    assert all(len(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
