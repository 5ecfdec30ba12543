"""The conversation with the consultants' desk behind it: the engine on a real database."""

from __future__ import annotations

import pytest

from bot.app import build_engine
from bot.config import Config
from bot.core.engine import Engine
from bot.core.handoff import ConsultantInfo, Desk, TicketInfo
from bot.core.tickets import DeskError
from bot.i18n import I18n
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.users import SqlUserStore
from bot.types import Address, Inbound, Outbound
from tests.conftest import answer_of

ME = Address("test", "7")


@pytest.fixture
async def chat(config: Config, database: Database) -> Engine:
    desk_store = SqlDesk(database)
    await desk_store.add_consultant(ConsultantInfo("maria", ("en", "ru")))
    return build_engine(config, SqlUserStore(database), Desk(desk_store, I18n(config.bot.languages), config.handoff))


async def say(chat: Engine, text: str = "", payload: str | None = None) -> list[Outbound]:
    return await chat.handle(Inbound(ME, text=text, payload=payload))


def store_of(chat: Engine) -> SqlDesk:
    assert chat.desk is not None and isinstance(chat.desk.store, SqlDesk)
    return chat.desk.store


async def tickets(chat: Engine, status: str | None = None) -> list[TicketInfo]:
    return await store_of(chat).list_tickets(status)


async def test_an_emergency_gets_112_first_then_an_urgent_ticket(chat: Engine) -> None:
    first, second = await say(chat, "he is going to kill me")
    assert "112" in first.text.split("\n")[0]
    assert "A consultant will answer you here" in second.text
    [ticket] = await tickets(chat)
    assert (ticket.reason, ticket.priority, ticket.topic) == ("high_risk", "urgent", "violence")


async def test_consultant_command_opens_a_ticket_and_the_next_message_joins_it(chat: Engine) -> None:
    [ack] = await say(chat, "/consultant")
    assert "Please write your question here" in ack.text
    [joined] = await say(chat, "do I need health insurance?")  # would be an FAQ answer without the ticket
    assert joined.text == "Added to your question. A consultant will read it."
    [ticket] = await tickets(chat)
    assert ticket.reason == "asked_human"
    _, lines = await store_of(chat).show(ticket.id)
    assert [line.text for line in lines] == ["do I need health insurance?"]


async def test_safety_still_runs_first_while_a_ticket_is_open(chat: Engine) -> None:
    await say(chat, "/consultant")
    replies = await say(chat, "he has a knife")
    assert "112" in replies[0].text
    [ticket] = await tickets(chat)
    assert ticket.priority == "urgent"


async def test_asking_for_a_person_in_words_opens_a_ticket_with_the_earlier_question(chat: Engine) -> None:
    await say(chat, "can my cat get a passport")
    [ack] = await say(chat, "I want to talk to a person")
    assert "Please write your question" not in ack.text
    [ticket] = await tickets(chat)
    _, lines = await store_of(chat).show(ticket.id)
    assert [line.text for line in lines] == ["can my cat get a passport"]


@pytest.mark.parametrize(
    ("payload", "reason"), [("h", "asked_human"), ("h:l", "low_confidence"), ("n", "low_confidence")]
)
async def test_consultant_buttons_open_tickets_with_their_reason(chat: Engine, payload: str, reason: str) -> None:
    await say(chat, "hello")
    await say(chat, payload=payload)
    [ticket] = await tickets(chat)
    assert ticket.reason == reason


async def test_cancel_withdraws_and_the_faq_answers_again(chat: Engine) -> None:
    await say(chat, "/consultant")
    [withdrawn] = await say(chat, "/cancel")
    assert "withdrawn" in withdrawn.text
    [answer] = await say(chat, "is emergency care free if i have no insurance")
    assert answer.text.startswith(answer_of("health-emergency-care", "en")[:40])


async def test_thumbs_down_after_a_closed_ticket_opens_a_new_one(chat: Engine) -> None:
    await say(chat, "/consultant")
    [ticket] = await tickets(chat)
    desk = chat.desk
    assert desk is not None
    await store_of(chat).claim(ticket.id, "maria")
    await desk.close(ticket.id, "maria")
    [thanks] = await say(chat, payload=f"f:+:{ticket.id}")
    assert thanks.text == "Thank you for telling us!"
    await say(chat, payload=f"f:-:{ticket.id}")
    [reopened] = await tickets(chat)
    assert reopened.reason == "negative_feedback" and reopened.id != ticket.id


async def test_a_thank_you_after_closing_does_not_reopen_the_ticket(chat: Engine) -> None:
    await say(chat, "/consultant")
    [ticket] = await tickets(chat)
    await store_of(chat).claim(ticket.id, "maria")
    assert chat.desk is not None
    await chat.desk.close(ticket.id, "maria")
    [reply] = await say(chat, "thank you!")
    assert reply.text.startswith("You are welcome")
    assert await tickets(chat) == []


async def test_the_emergency_reply_offers_no_consultant_when_an_urgent_ticket_is_open(chat: Engine) -> None:
    first, ack = await say(chat, "he is going to kill me")
    assert first.buttons == ()  # the ticket exists already: pressing "Ask a consultant" would only repeat it
    assert "The consultant will read what you wrote:\n«he is going to kill me»" in ack.text


async def test_the_question_from_just_before_is_shown_to_the_person_before_it_goes_to_the_consultant(
    chat: Engine,
) -> None:
    await say(chat, "can my cat get a passport")
    [ack] = await say(chat, "/consultant")
    assert "The consultant will read what you wrote:\n«can my cat get a passport»" in ack.text
    assert "Please write your question here" not in ack.text


async def test_an_urgent_ticket_withdrawn_stays_in_the_queue_until_a_consultant_closes_it(chat: Engine) -> None:
    await say(chat, "he is going to kill me")
    [withdrawn] = await say(chat, "/cancel")
    assert "withdrawn" in withdrawn.text
    [ticket] = await tickets(chat)
    assert ticket.status == "withdrawn"
    assert chat.desk is not None
    with pytest.raises(DeskError, match="withdrawn by the person"):
        await chat.desk.store.claim(ticket.id, "maria")
    await chat.desk.close(ticket.id, "maria")
    assert await tickets(chat) == []
    [answer] = await say(chat, "is emergency care free if i have no insurance")  # back with the FAQ
    assert answer.text.startswith(answer_of("health-emergency-care", "en")[:40])


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("ok", "Good. Anything else?"),
        ("okay", "Good. Anything else?"),
        ("yes", "Please write your question"),
        ("no", "All right."),
        ("thanks", "You are welcome"),
    ],
)
async def test_short_answers_get_fitting_replies(chat: Engine, text: str, start: str) -> None:
    [reply] = await say(chat, text)
    assert reply.text.startswith(start)
