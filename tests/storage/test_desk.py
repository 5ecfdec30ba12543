from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.config import HandoffSection
from bot.core.handoff import ConsultantInfo, Desk
from bot.core.state import Turn
from bot.core.tickets import DeskError
from bot.i18n import I18n
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Outbox, TicketMessage
from bot.storage.outbox import SqlOutbox
from bot.storage.users import SqlUserStore
from bot.types import Address
from tests.conftest import LANGUAGES

ME = Address("console", "u1")
MONDAY_NOON = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # 12:00 in Sofia


@pytest.fixture
async def desk(database: Database) -> Desk:
    store = SqlDesk(database)
    await store.add_consultant(ConsultantInfo("maria", ("bg", "ru", "en"), 1001, "Maria"))
    await store.add_consultant(ConsultantInfo("ivan", ("en",)))
    return Desk(store, I18n(LANGUAGES), HandoffSection(), now=lambda: MONDAY_NOON)


async def outbox_texts(database: Database) -> list[str]:
    async with database.sessions() as session:
        return list((await session.scalars(select(Outbox.text).order_by(Outbox.id))).all())


async def test_a_ticket_gets_a_stable_pseudonym_and_collects_messages(desk: Desk) -> None:
    ack = await desk.open(ME, "en", "asked_human", "work", ["my boss does not pay"])
    [ticket] = await desk.store.list_tickets()
    assert ticket.pseudonym.startswith("K-") and len(ticket.pseudonym) == 6
    assert ticket.pseudonym in ack.text and "112" in ack.text
    assert (ticket.status, ticket.reason, ticket.priority, ticket.topic) == ("waiting", "asked_human", "normal", "work")
    await desk.open(ME, "en", "high_risk", None, ["he took my passport"], urgent=True)
    [again] = await desk.store.list_tickets()
    assert again.id == ticket.id and again.priority == "urgent" and again.pseudonym == ticket.pseudonym
    _, lines = await desk.store.show(ticket.id)
    assert [line.text for line in lines] == ["my boss does not pay", "he took my passport"]


async def test_the_acknowledgement_tells_office_hours_in_the_users_language(database: Database) -> None:
    store = SqlDesk(database)
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    desk = Desk(store, I18n(LANGUAGES), HandoffSection(), now=lambda: saturday)
    ack = await desk.open(ME, "ru", "asked_human", None, [])
    assert "пн, 30 ноября, 09:00" in ack.text  # Babel's Russian for the next opening, after a colon
    assert "Пожалуйста, напишите" in ack.text  # no question yet: the user is asked for one


async def test_the_question_asked_just_before_goes_into_the_ticket(desk: Desk, database: Database) -> None:
    desk = Desk(desk.store, I18n(LANGUAGES), HandoffSection())  # the real clock: the question is an hour fresh
    users = SqlUserStore(database)
    await users.touch(ME)
    await users.record_turn(ME, Turn("handoff", None, "en", question="can my cat get a passport"))
    await desk.open(ME, "en", "low_confidence", None, [])
    [ticket] = await desk.store.list_tickets()
    _, lines = await desk.store.show(ticket.id)
    assert [line.text for line in lines] == ["can my cat get a passport"]


async def test_claim_reply_close_reach_the_user_through_the_outbox(desk: Desk, database: Database) -> None:
    await desk.open(ME, "uk", "asked_human", None, ["де мій депозит"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")
    await desk.reply(ticket.id, "maria", "Попросіть письмову розписку.")
    assert (await desk.store.list_tickets())[0].status == "answered"
    await desk.close(ticket.id, "maria")
    texts = await outbox_texts(database)
    assert texts[0] == "Maria, консультант:\n\nПопросіть письмову розписку."
    assert texts[1].startswith(f"Ваше запитання {ticket.pseudonym} закрито")
    assert texts[2] == "Це допомогло? 👍 👎"
    assert await desk.store.list_tickets() == []
    assert [t.status for t in await desk.store.list_tickets(status="closed")] == ["closed"]


async def test_without_a_display_name_the_user_sees_no_consultant_name(desk: Desk, database: Database) -> None:
    await desk.open(ME, "en", "asked_human", None, ["hi"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "ivan")
    await desk.reply(ticket.id, "ivan", "Hello")
    assert await outbox_texts(database) == ["Consultant:\n\nHello"]


Action = Callable[[Desk, int], Awaitable[object]]  # a desk call that a consultant gets wrong


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda d, t: d.store.claim(999, "maria"), "ticket 999 does not exist"),
        (lambda d, t: d.store.claim(t, "nobody"), "no consultant named 'nobody'"),
        (lambda d, t: d.reply(t, "maria", "x"), "is not claimed"),
        (lambda d, t: d.close(t, "ivan"), "is not claimed"),
        (lambda d, t: d.store.release(t, "maria"), "is not claimed"),
        (lambda d, t: d.reply(t, "maria", "   "), "empty"),
    ],
)
async def test_consultant_mistakes_are_refused_with_a_reason(desk: Desk, action: Action, message: str) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    with pytest.raises(DeskError, match=message):
        await action(desk, ticket.id)


async def test_only_the_holder_may_act_and_closed_tickets_are_final(desk: Desk) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")
    with pytest.raises(DeskError, match="already held by maria"):
        await desk.store.claim(ticket.id, "ivan")
    with pytest.raises(DeskError, match="held by maria"):
        await desk.reply(ticket.id, "ivan", "x")
    await desk.close(ticket.id, "maria")
    for attempt in (
        desk.store.claim(ticket.id, "ivan"),
        desk.reply(ticket.id, "maria", "x"),
        desk.close(ticket.id, "maria"),
    ):
        with pytest.raises(DeskError, match="is closed"):
            await attempt


async def test_two_consultants_claiming_at_once_exactly_one_wins(database_url: str, desk: Desk) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    other = Database(database_url)  # a second process's connection pool
    try:
        results = await asyncio.gather(
            desk.store.claim(ticket.id, "maria"), SqlDesk(other).claim(ticket.id, "ivan"), return_exceptions=True
        )
    finally:
        await other.close()
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, DeskError)]
    assert len(wins) == 1 and len(losses) == 1
    assert f"already held by {wins[0].consultant}" in str(losses[0])


async def test_the_users_new_messages_move_the_ticket(desk: Desk) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")
    await desk.reply(ticket.id, "maria", "answer")
    current = await desk.current(ME)
    assert current is not None
    await desk.join(current, "one more thing", "en")
    assert (await desk.store.list_tickets())[0].status == "claimed"
    await desk.close(ticket.id, "maria")
    closed = await desk.current(ME)
    assert closed is not None and closed.status == "closed"  # within reopen_days
    ack = await desk.join(closed, "it did not work", "en")
    [reopened] = await desk.store.list_tickets()
    assert reopened.id == ticket.id and reopened.status == "waiting" and reopened.consultant is None
    assert ticket.pseudonym in ack.text


async def test_cancel_withdraws_and_a_withdrawn_ticket_does_not_reopen(desk: Desk) -> None:
    assert "no open question" in (await desk.cancel(ME, "en")).text
    await desk.open(ME, "en", "asked_human", None, ["q"])
    message = await desk.cancel(ME, "en")
    assert "withdrawn" in message.text
    assert await desk.current(ME) is None


async def test_removing_a_consultant_returns_their_tickets_to_the_queue(desk: Desk) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "ivan")
    assert await desk.store.remove_consultant("ivan") == 1
    [back] = await desk.store.list_tickets()
    assert (back.status, back.consultant) == ("waiting", None)
    assert [c.name for c in await desk.store.consultants()] == ["maria"]
    with pytest.raises(DeskError, match="exists already"):
        await desk.store.add_consultant(ConsultantInfo("maria", ("en",)))


async def test_forget_erases_the_users_words_and_anonymises_the_ticket(desk: Desk, database: Database) -> None:
    await desk.open(ME, "en", "asked_human", None, ["my name is Ahmed, +359 88 123"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")
    await desk.reply(ticket.id, "maria", "noted")
    await SqlUserStore(database).forget(ME)
    info, lines = await desk.store.show(ticket.id)
    assert info.pseudonym == ticket.pseudonym
    assert [line.author for line in lines] == ["consultant"]
    assert await outbox_texts(database) == []
    with pytest.raises(DeskError, match="erased their data"):
        await desk.reply(ticket.id, "maria", "hello?")


async def test_closed_tickets_are_purged_after_retention(desk: Desk, database: Database) -> None:
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")
    await desk.close(ticket.id, "maria")
    await database.purge(90, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=91))
    async with database.sessions() as session:
        assert (await session.scalars(select(TicketMessage))).all() == []
    with pytest.raises(DeskError, match="does not exist"):
        await desk.store.show(ticket.id)


async def test_a_list_can_be_filtered_and_flags_overdue_tickets(desk: Desk) -> None:
    await desk.open(ME, "ru", "asked_human", None, ["q"])
    await desk.open(Address("console", "u2"), "en", "high_risk", None, ["help"], urgent=True)
    tickets = await desk.store.list_tickets()
    assert [t.priority for t in tickets] == ["urgent", "normal"]
    assert [t.language for t in await desk.store.list_tickets(language="ru")] == ["ru"]
    late = Desk(
        desk.store,
        I18n(LANGUAGES),
        HandoffSection(answer_within_hours=1),
        now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
    )
    assert all(late.overdue(t) for t in tickets)
    assert not any(desk.overdue(t) for t in tickets)


async def test_outbox_rows_stay_after_a_failed_transaction(desk: Desk, database: Database) -> None:
    """A reply that fails half-way writes neither the message nor its outbox row."""
    await desk.open(ME, "en", "asked_human", None, ["q"])
    [ticket] = await desk.store.list_tickets()
    await desk.store.claim(ticket.id, "maria")

    def broken(*_: object) -> list[object]:
        raise RuntimeError("composition failed")

    with pytest.raises(RuntimeError):
        await desk.store.reply(ticket.id, "maria", "text", broken)
    _, lines = await desk.store.show(ticket.id)
    assert [line.author for line in lines] == ["user"]
    assert await SqlOutbox(database).counts() == {}


async def test_waiting_tickets_in_a_consultants_languages_come_first(desk: Desk) -> None:
    await desk.open(Address("console", "a"), "ar", "asked_human", None, ["q"])
    await desk.open(Address("console", "b"), "ru", "asked_human", None, ["q"])
    await desk.open(Address("console", "c"), "fa", "high_risk", None, ["q"], urgent=True)
    ids = {t.language: t.id for t in await desk.store.list_tickets()}
    assert await desk.store.waiting_ids(("ru",)) == [ids["fa"], ids["ru"], ids["ar"]]  # urgent first, then routing
    assert await desk.store.waiting_ids(()) == [ids["fa"], ids["ar"], ids["ru"]]
