"""/events, an event's buttons, /subscribe, /unsubscribe, /forget and /privacy, on the database (SQLite and
PostgreSQL), with the engine's clock stopped at a known local time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.dates import format_date

from bot.core.engine import Engine
from bot.core.outreach import Interest
from bot.core.payloads import EventAct, EventButton, EventList, SubscribeCity, SubscribeTopic, unpack
from bot.i18n import I18n
from bot.storage.database import Database
from bot.storage.outreach import SqlOutreach
from bot.storage.users import SqlUserStore
from bot.types import Address, Inbound, Outbound
from tests.outreach.helpers import NOW, announcing, event_yaml, events_folder

ANNA = Address("console", "anna")
BORIS = Address("console", "boris")
SOON = NOW + dt.timedelta(days=3)


async def say(engine: Engine, who: Address, text: str = "", payload: str | None = None) -> Outbound:
    replies = await engine.handle(Inbound(who, text=text, payload=payload))
    assert len(replies) == 1, replies
    return replies[0]


def labels(reply: Outbound) -> list[str]:
    return [b.label for b in reply.buttons]


def press(reply: Outbound, label: str) -> str:
    return next(b.payload for b in reply.buttons if b.label == label)


def _engine(engine: Engine, database: Database, tmp_path: Path, *events: str) -> Engine:
    folder = events_folder(tmp_path / "kb", *events)
    return announcing(engine, folder, SqlUserStore(database), SqlOutreach(database))


async def test_events_lists_what_is_upcoming_in_the_persons_language_their_city_first(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(
        engine,
        database,
        tmp_path,
        event_yaml("sofia-soon", SOON),
        event_yaml("plovdiv-later", SOON + dt.timedelta(days=5), city="plovdiv"),
        event_yaml("burgas-over", NOW - dt.timedelta(hours=5), city="burgas", hours=2),
    )
    await chat.choose_language(ANNA, "ru")
    listing = await say(chat, ANNA, "/events")
    assert labels(listing) == ["sofia-soon title ru", "plovdiv-later title ru"]  # the ended one is gone
    assert format_date(SOON.date(), "full", locale="ru") in listing.text
    await SqlOutreach(database).subscribe(ANNA, Interest("plovdiv", ()))
    assert labels(await say(chat, ANNA, "/events")) == ["plovdiv-later title ru", "sofia-soon title ru"]
    await chat.choose_language(BORIS, "bg")  # no Bulgarian text: the default language's
    assert labels(await say(chat, BORIS, "/events"))[0] == "sofia-soon title en"


async def test_no_event_announced_says_so_and_points_to_subscribe(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(engine, database, tmp_path)
    await chat.choose_language(ANNA, "en")
    reply = await say(chat, ANNA, "/events")
    assert reply.text == "No info sessions are announced at the moment. With /subscribe you hear of new ones."
    assert reply.buttons == ()


async def test_ill_come_stops_at_the_capacity_and_cancel_frees_the_place(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(engine, database, tmp_path, event_yaml("small", SOON, capacity=1))
    for who in (ANNA, BORIS):
        await chat.choose_language(who, "en")
    shown = await say(chat, ANNA, payload=EventButton(EventAct.SHOW, "small").pack())
    assert "Places left: 1" in shown.text and labels(shown) == ["I'll come", "Remind me", "All info sessions"]
    booked = await say(chat, ANNA, payload=press(shown, "I'll come"))
    assert booked.text.startswith("Your place is booked.") and "No places left." in booked.text
    assert labels(booked) == ["Remind me", "Cancel", "All info sessions"]
    again = await say(chat, ANNA, payload=EventButton(EventAct.ATTEND, "small").pack())
    assert again.text.startswith("You have a place already.")
    full = await say(chat, BORIS, payload=EventButton(EventAct.ATTEND, "small").pack())
    assert full.text.startswith("Sorry, all places are taken.")
    assert await SqlOutreach(database).taken("small") == 1
    cancelled = await say(chat, ANNA, payload=press(booked, "Cancel"))
    assert cancelled.text.startswith("Cancelled: no place and no reminders for this event.")
    assert "Places left: 1" in cancelled.text
    assert (await say(chat, BORIS, payload=EventButton(EventAct.ATTEND, "small").pack())).text.startswith(
        "Your place is booked."
    )


async def test_remind_me_is_remembered_and_cancel_drops_it(engine: Engine, database: Database, tmp_path: Path) -> None:
    chat = _engine(engine, database, tmp_path, event_yaml("session", SOON))
    await chat.choose_language(ANNA, "en")
    reminded = await say(chat, ANNA, payload=EventButton(EventAct.REMIND, "session").pack())
    assert reminded.text.startswith("I will remind you the day before and two hours before.")
    assert labels(reminded) == ["I'll come", "Cancel", "All info sessions"]
    outreach = SqlOutreach(database)
    assert [r.address for r in await outreach.reminded("session", "en")] == [ANNA]
    await say(chat, ANNA, payload=press(reminded, "Cancel"))
    assert await outreach.reminded("session", "en") == []


async def test_subscribe_asks_a_city_then_a_topic_and_says_how_to_stop(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(engine, database, tmp_path)
    await chat.choose_language(ANNA, "en")
    cities = await say(chat, ANNA, "/subscribe")
    assert labels(cities)[-1] == "Any city" and "Plovdiv" in labels(cities)
    topics = await say(chat, ANNA, payload=press(cities, "Plovdiv"))
    assert labels(topics)[0] == "All topics" and "Health and health insurance" in labels(topics)
    done = await say(chat, ANNA, payload=press(topics, "Health and health insurance"))
    assert done.text == (
        "Done: I will send you announcements of info sessions in Plovdiv on Health and health insurance, and "
        "nothing else. To stop them at any time, send /unsubscribe.\nTo hear of another topic too, choose it below."
    )
    outreach = SqlOutreach(database)
    assert await outreach.interest(ANNA) == Interest("plovdiv", ("health",))
    assert "Health and health insurance" not in labels(done) and "Work" in labels(done)
    more = await say(chat, ANNA, payload=press(done, "Work"))
    assert more.text.startswith(
        "Done: I will send you announcements of info sessions in Plovdiv on Health and health insurance, Work, "
        "and nothing else."
    )
    assert more.text.endswith("To hear of another topic too, choose it below.")
    assert await outreach.interest(ANNA) == Interest("plovdiv", ("health", "work"))
    assert "Work" not in labels(more)
    await say(chat, ANNA, payload=SubscribeTopic("sofia", "work", also=True).pack())  # an old screen, another city
    assert await outreach.interest(ANNA) == Interest("sofia", ("work",))
    assert unpack("sa:*:*") is None  # "all topics" is never added, it replaces
    await say(chat, ANNA, payload=SubscribeTopic(None, None).pack())
    assert await outreach.interest(ANNA) == Interest(None, ())
    stopped = await say(chat, ANNA, "/unsubscribe")
    assert stopped.text == "Stopped: no more announcements and no reminders. /subscribe starts them again."
    assert await outreach.interest(ANNA) is None
    assert (await say(chat, ANNA, "/unsubscribe")).text.startswith("You had no announcements and no reminders")


async def test_subscribe_offers_the_cities_the_upcoming_events_use(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(
        engine,
        database,
        tmp_path,
        event_yaml("in-varna", SOON, city="varna"),
        event_yaml("in-sofia", SOON, city="sofia"),
        event_yaml("was-in-burgas", NOW - dt.timedelta(hours=5), city="burgas"),
    )
    await chat.choose_language(ANNA, "en")
    assert labels(await say(chat, ANNA, "/subscribe")) == ["Sofia", "Varna", "Any city"]


async def test_unsubscribe_also_stops_every_reminder(engine: Engine, database: Database, tmp_path: Path) -> None:
    chat = _engine(engine, database, tmp_path, event_yaml("session", SOON))
    await chat.choose_language(ANNA, "en")
    await say(chat, ANNA, payload=EventButton(EventAct.REMIND, "session").pack())
    await say(chat, ANNA, "/unsubscribe")
    assert await SqlOutreach(database).reminded("session", "en") == []


async def test_stale_or_forged_event_buttons_change_nothing(engine: Engine, database: Database, tmp_path: Path) -> None:
    chat = _engine(engine, database, tmp_path, event_yaml("over", NOW - dt.timedelta(hours=3), hours=1))
    await chat.choose_language(ANNA, "en")
    stale = "That button is no longer valid. Here are the topics."
    for payload in (
        EventButton(EventAct.ATTEND, "over").pack(),
        EventButton(EventAct.REMIND, "no-such-event").pack(),
        SubscribeCity("atlantis").pack(),
        SubscribeTopic("sofia", "no-such-topic").pack(),
        "ea:",
    ):
        assert (await say(chat, ANNA, payload=payload)).text == stale, payload
    assert await SqlOutreach(database).taken("over") == 0
    assert await SqlOutreach(database).interest(ANNA) is None


async def test_forget_erases_subscriptions_and_registrations_and_an_old_button_brings_nobody_back(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(engine, database, tmp_path, event_yaml("session", SOON, capacity=5))
    await chat.choose_language(ANNA, "en")
    await say(chat, ANNA, payload=SubscribeTopic("sofia", None).pack())
    await say(chat, ANNA, payload=EventButton(EventAct.ATTEND, "session").pack())
    await say(chat, ANNA, payload=EventButton(EventAct.REMIND, "session").pack())
    await say(chat, ANNA, "/forget")
    outreach = SqlOutreach(database)
    assert await outreach.interest(ANNA) is None
    assert await outreach.taken("session") == 0 and await outreach.reminded("session", "en") == []
    await chat.handle(Inbound(ANNA, payload=EventButton(EventAct.ATTEND, "session").pack()))
    await chat.handle(Inbound(ANNA, payload=SubscribeTopic(None, None).pack()))
    assert await outreach.taken("session") == 0 and await outreach.interest(ANNA) is None
    assert await SqlUserStore(database).touch(ANNA, create=False) is None


async def test_privacy_help_and_the_topics_menu_mention_the_info_sessions(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    chat = _engine(engine, database, tmp_path)
    await chat.choose_language(ANNA, "en")
    assert "sign up for an info session, that is kept as well" in (await say(chat, ANNA, "/privacy")).text
    assert "/events: info sessions" in (await say(chat, ANNA, "/help")).text
    menu = await say(chat, ANNA, "/topics")
    assert unpack(press(menu, "Info sessions")) == EventList()
    i18n = I18n(chat.bot.languages)
    for language in chat.bot.languages:  # every language's menu names the command
        assert ("events", i18n.gettext(language)("Info sessions")) in chat.replies.command_menu(language)
