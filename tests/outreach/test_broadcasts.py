"""Broadcasts on the database (SQLite and PostgreSQL): the audience, one outbox row per recipient, never twice,
cancel, the conversation ahead of the broadcast, a blocked user; and the reminders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.engine import Engine
from bot.core.outreach import Interest, Recipient
from bot.dispatch import Dispatcher
from bot.reminders import Reminders
from bot.storage.broadcasts import Audience, BroadcastStateError, BroadcastStatus, SqlBroadcasts
from bot.storage.database import Database
from bot.storage.models import Outbox
from bot.storage.outbox import SqlOutbox
from bot.storage.outreach import SqlOutreach
from bot.storage.users import SqlUserStore
from bot.types import Address, DeliveryError, Outbound
from tests.outreach.helpers import NOW, announcing, event_yaml, events_folder


class Recorder:
    """A channel that records what it sends; chats in `blocked` have blocked the bot."""

    channel = "console"

    def __init__(self, blocked: set[str] | None = None) -> None:
        self.sent: list[Outbound] = []
        self.blocked = blocked or set()

    async def send(self, message: Outbound) -> str | None:
        if message.address.chat_id in self.blocked:
            raise DeliveryError("Forbidden: bot was blocked by the user", blocked=True)
        self.sent.append(message)
        return None


def text_for(texts: dict[str, str]) -> Callable[[Recipient], Outbound | None]:
    """The message start() queues for a recipient: their language's text, or none."""

    def message(recipient: Recipient) -> Outbound | None:
        language = recipient.language
        return Outbound(recipient.address, texts[language], (), language, bulk=True) if language in texts else None

    return message


async def people(database: Database, *who: tuple[str, str, Interest | None]) -> None:
    users, outreach = SqlUserStore(database), SqlOutreach(database)
    for chat, language, interest in who:
        address = Address("console", chat)
        await users.touch(address)
        await users.set_language(address, language, chosen=True)
        if interest is not None:
            await outreach.subscribe(address, interest)


async def test_the_audience_is_the_subscribers_its_filters_admit(database: Database) -> None:
    await people(
        database,
        ("sofia-health", "en", Interest("sofia", ("health",))),
        ("any-all", "ru", Interest(None, ())),
        ("plovdiv-work", "en", Interest("plovdiv", ("work",))),
        ("not-subscribed", "en", None),
    )
    broadcasts = SqlBroadcasts(database)

    async def chats(audience: Audience) -> list[str]:
        return [r.address.chat_id for r in await broadcasts.recipients(audience, "en")]

    assert await chats(Audience()) == ["sofia-health", "any-all", "plovdiv-work"]
    assert await chats(Audience(cities=("sofia",), topics=("health",))) == ["sofia-health", "any-all"]
    assert await chats(Audience(languages=("en",), topics=("work",))) == ["plovdiv-work"]
    assert await chats(Audience(channels=("telegram",))) == []
    await SqlUserStore(database).deactivate(Address("console", "any-all"))
    assert await chats(Audience()) == ["sofia-health", "plovdiv-work"]


async def test_a_broadcast_is_queued_once_delivered_once_and_cannot_be_sent_again(database: Database) -> None:
    await people(database, *((f"p{n}", "en" if n % 2 else "ru", Interest(None, ())) for n in range(6)))
    broadcasts = SqlBroadcasts(database)
    texts = {"en": "A session on Friday.", "ru": "Встреча в пятницу."}
    new = await broadcasts.create("Friday", texts, Audience())
    assert await broadcasts.start(new, "en", text_for(texts)) == 6
    with pytest.raises(BroadcastStateError, match="is sending"):
        await broadcasts.start(new, "en", text_for(texts))
    channel = Recorder()
    dispatcher = Dispatcher(SqlOutbox(database, "one"), {"console": channel})
    while await dispatcher.deliver_once("console") > 0:
        pass
    assert sorted(m.address.chat_id for m in channel.sent) == [f"p{n}" for n in range(6)]
    assert {m.text for m in channel.sent if m.language == "ru"} == {"Встреча в пятницу."}
    assert all(m.bulk for m in channel.sent)
    progress = await broadcasts.progress(new)
    assert (progress.total, progress.sent, progress.left) == (6, 6, 0)
    info = await broadcasts.get(new)
    assert info is not None and info.status is BroadcastStatus.SENT
    with pytest.raises(BroadcastStateError, match="is sent"):
        await broadcasts.start(new, "en", text_for(texts))
    with pytest.raises(BroadcastStateError, match="nothing to cancel"):
        await broadcasts.cancel(new)


async def test_cancel_withdraws_what_is_not_yet_sent_and_a_cancelled_broadcast_is_not_resent(
    database: Database,
) -> None:
    await people(database, *((f"p{n}", "en", Interest(None, ())) for n in range(5)))
    broadcasts = SqlBroadcasts(database)
    texts = {"en": "Hello."}
    new = await broadcasts.create("Hello", texts, Audience())
    await broadcasts.start(new, "en", text_for(texts))
    channel = Recorder()
    await Dispatcher(SqlOutbox(database, "one"), {"console": channel}).deliver_once("console", limit=2)
    assert await broadcasts.cancel(new) == 3
    while await Dispatcher(SqlOutbox(database, "one"), {"console": channel}).deliver_once("console") > 0:
        pass
    assert len(channel.sent) == 2
    progress = await broadcasts.progress(new)
    assert (progress.sent, progress.cancelled, progress.left) == (2, 3, 0)
    with pytest.raises(BroadcastStateError, match="is cancelled"):
        await broadcasts.start(new, "en", text_for(texts))


async def test_the_conversation_goes_before_the_broadcast_and_a_blocked_user_is_counted(database: Database) -> None:
    await people(database, *((f"p{n}", "en", Interest(None, ())) for n in range(4)))
    broadcasts = SqlBroadcasts(database)
    texts = {"en": "Announcement."}
    new = await broadcasts.create("A", texts, Audience())
    await broadcasts.start(new, "en", text_for(texts))
    outbox = SqlOutbox(database, "one")
    await outbox.add(Outbound(Address("console", "p3"), "Consultant: your answer"), "reply-1")
    channel = Recorder(blocked={"p1"})
    dispatcher = Dispatcher(outbox, {"console": channel})
    await dispatcher.deliver_once("console", limit=1)
    assert [m.text for m in channel.sent] == ["Consultant: your answer"]
    while await dispatcher.deliver_once("console") > 0:
        pass
    progress = await broadcasts.progress(new)
    assert (progress.sent, progress.failed, progress.blocked) == (3, 1, 1)
    assert [r.address.chat_id for r in await broadcasts.recipients(Audience(), "en")] == ["p0", "p2", "p3"]


async def test_an_events_registrants_are_its_audience(engine: Engine, database: Database, tmp_path: Path) -> None:
    await people(database, ("coming", "en", None), ("reminded", "ru", None), ("neither", "en", Interest(None, ())))
    outreach = SqlOutreach(database)
    await outreach.attend(Address("console", "coming"), "session", None)
    await outreach.remind(Address("console", "reminded"), "session")
    found = await SqlBroadcasts(database).recipients(Audience(event="session"), "en")
    assert [(r.address.chat_id, r.language) for r in found] == [("coming", "en"), ("reminded", "ru")]


async def test_reminders_go_the_day_before_and_two_hours_before_once_each(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    start = NOW + dt.timedelta(hours=20)
    folder = events_folder(
        tmp_path / "kb", event_yaml("session", start), event_yaml("later", NOW + dt.timedelta(days=4))
    )
    await people(database, ("anna", "ru", None), ("boris", "en", None))
    outreach = SqlOutreach(database)
    for chat in ("anna", "boris"):
        await outreach.remind(Address("console", chat), "session")
        await outreach.remind(Address("console", chat), "later")
    await outreach.attend(Address("console", "boris"), "session", None)
    await outreach.cancel(Address("console", "boris"), "session")  # boris gave it up: no reminder
    outbox = SqlOutbox(database, "one")

    def reminders_at(now: dt.datetime) -> Reminders:
        chat = announcing(engine, folder, SqlUserStore(database), outreach, now=now)
        return Reminders(chat, outreach, outbox, "en")

    assert await reminders_at(NOW).once() == 1
    assert await reminders_at(NOW + dt.timedelta(minutes=1)).once() == 0  # the next minute: queued already
    assert await reminders_at(start - dt.timedelta(hours=1, minutes=50)).once() == 1
    assert await reminders_at(start + dt.timedelta(minutes=5)).once() == 0  # it has begun
    async with database.sessions() as session:
        rows = (await session.execute(select(Outbox.key, Outbox.text, Outbox.chat_id).order_by(Outbox.id))).all()
    assert [(key, chat) for key, _, chat in rows] == [("r:session:day:1", "anna"), ("r:session:2h:1", "anna")]
    assert rows[0][1].startswith("Напоминание: «session title ru» — завтра, ")
    assert "через два часа" in rows[1][1]


async def test_two_people_taking_the_last_place_at_once_get_one_place(database: Database) -> None:
    await people(database, *((f"p{n}", "en", None) for n in range(8)))
    outreach = SqlOutreach(database)
    taps = [outreach.attend(Address("console", f"p{n}"), "small", 3) for n in range(8)]
    bookings = await asyncio.gather(*taps)
    assert sorted(b.value for b in bookings) == ["booked"] * 3 + ["full"] * 5
    assert await outreach.taken("small") == 3
