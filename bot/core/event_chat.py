"""Info sessions in the chat: /events and an event's buttons, /subscribe and /unsubscribe, and the reminders.

Dates and times are the events' local times, written by Babel in the person's language. The list puts the
events of the city a person subscribed to first. A button that names an event no longer announced, a city or a
topic that is gone, answers as any stale button does (None here), and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.core.knowledge import KnowledgeBase
from bot.core.knowledge.events import InfoEvent
from bot.core.outreach import Booking, Interest, OutreachStore, Signup
from bot.core.payloads import EventAct, EventButton, EventList, Payload, SubscribeCity, SubscribeTopic
from bot.core.replies import Message
from bot.i18n import I18n
from bot.types import Address, Button

LIST_LIMIT = 10  # events in one list: a phone screen's worth


def local_clock(timezone: str) -> Callable[[], dt.datetime]:
    """Now, as the naive local time the event files are written in."""
    zone = ZoneInfo(timezone)
    return lambda: dt.datetime.now(zone).replace(tzinfo=None)


class Reminder(enum.Enum):
    """The two reminders: the day before and two hours before; the value is its part of the outbox key."""

    DAY = "day"
    HOURS = "2h"

    @property
    def lead(self) -> dt.timedelta:
        return dt.timedelta(hours=24) if self is Reminder.DAY else dt.timedelta(hours=2)


def due_reminder(event: InfoEvent, now: dt.datetime) -> Reminder | None:
    """Which reminder is due for `event` at local time `now`: two hours before wins over the day before."""
    if event.past or event.start <= now:
        return None
    if event.start - now <= Reminder.HOURS.lead:
        return Reminder.HOURS
    return Reminder.DAY if event.start - now <= Reminder.DAY.lead else None


class EventReplies:
    def __init__(self, knowledge: KnowledgeBase, i18n: I18n, fallback: str) -> None:
        self.knowledge = knowledge
        self._i18n = i18n
        self.fallback = fallback

    def _(self, language: str) -> Callable[[str], str]:
        return self._i18n.gettext(language)

    def when(self, language: str, event: InfoEvent) -> str:
        day = format_date(event.start.date(), "full", locale=language)
        if event.dated_only:
            return day
        start = format_time(event.start.time(), "short", locale=language)
        end = format_time(event.end.time(), "short", locale=language)
        if event.end.date() != event.start.date():
            return f"{day}, {start} – {format_date(event.end.date(), 'full', locale=language)}, {end}"
        return f"{day}, {start}–{end}"

    def city(self, language: str, city_id: str | None) -> str:
        if city_id is None or city_id not in self.knowledge.cities:
            _ = self._(language)
            return _("any city")
        return self.knowledge.cities[city_id].name(language, self.fallback)

    def listing(self, language: str, events: list[InfoEvent]) -> Message:
        _ = self._(language)
        if not events:
            return Message(_("No info sessions are announced at the moment. With /subscribe you hear of new ones."))
        lines = [_("Upcoming info sessions:")]
        buttons = []
        for event in events[:LIST_LIMIT]:
            title = event.title(language, self.fallback)
            lines.append(f"• {title} — {self.city(language, event.city)}, {self.when(language, event)}")
            buttons.append(Button(title[:60], EventButton(EventAct.SHOW, event.id).pack()))
        return Message("\n".join(lines), tuple(buttons))

    def details(self, language: str, event: InfoEvent, signup: Signup, taken: int) -> Message:
        _ = self._(language)
        lines = [
            event.title(language, self.fallback),
            _("When: {when}").format(when=self.when(language, event)),
            _("Where: {place}, {city}").format(place=event.place, city=self.city(language, event.city)),
            _("Organiser: {organiser}").format(organiser=event.organiser),
        ]
        if event.capacity is not None:
            left = max(event.capacity - taken, 0)
            lines.append(_("Places left: {count}").format(count=left) if left else _("No places left."))
        if signup.attending:
            lines.append(_("You have a place."))
        if signup.remind:
            lines.append(_("I will remind you the day before and two hours before."))
        text = "\n".join(lines) + "\n\n" + event.description(language, self.fallback)
        buttons: list[Button] = []
        if not signup.attending:
            buttons.append(Button(_("I'll come"), EventButton(EventAct.ATTEND, event.id).pack()))
        if not signup.remind:
            buttons.append(Button(_("Remind me"), EventButton(EventAct.REMIND, event.id).pack()))
        if signup.attending or signup.remind:
            buttons.append(Button(_("Cancel"), EventButton(EventAct.CANCEL, event.id).pack()))
        buttons.append(Button(_("All info sessions"), EventList().pack()))
        return Message(text, tuple(buttons))

    def booking(self, language: str, booking: Booking) -> str:
        _ = self._(language)
        return {
            Booking.BOOKED: _("Your place is booked. See you there!"),
            Booking.ALREADY: _("You have a place already."),
            Booking.FULL: _("Sorry, all places are taken."),
        }[booking]

    def cancelled(self, language: str) -> str:
        _ = self._(language)
        return _("Cancelled: no place and no reminders for this event.")

    def reminder_set(self, language: str) -> str:
        _ = self._(language)
        return _("I will remind you the day before and two hours before.")

    def choose_city(self, language: str, now: dt.datetime) -> Message:
        """The cities upcoming events use (all of cities.yaml while none is announced), and "any city"."""
        _ = self._(language)
        used = {event.city for event in self.knowledge.upcoming(now)}
        cities = [c for c in self.knowledge.cities.values() if c.id in used] or list(self.knowledge.cities.values())
        buttons = tuple(Button(city.name(language, self.fallback), SubscribeCity(city.id).pack()) for city in cities)
        return Message(
            _("Announcements of info sessions: which city do you want to hear about?"),
            buttons + (Button(_("Any city"), SubscribeCity(None).pack()),),
        )

    def _topic_buttons(self, language: str, city: str | None, also: bool, but: tuple[str, ...] = ()) -> list[Button]:
        return [
            Button(
                topic.titles.get(language) or topic.titles[self.fallback], SubscribeTopic(city, topic.id, also).pack()
            )
            for topic in self.knowledge.topics.values()
            if topic.id not in but
        ]

    def choose_topic(self, language: str, city: str | None) -> Message:
        _ = self._(language)
        buttons = self._topic_buttons(language, city, also=False)
        return Message(_("And which topic?"), (Button(_("All topics"), SubscribeTopic(city, None).pack()), *buttons))

    def subscribed(self, language: str, interest: Interest) -> Message:
        """What they will receive and how to stop; with some topics chosen, the others as buttons that add one."""
        _ = self._(language)
        topics = ", ".join(
            self.knowledge.topics[t].titles.get(language, t) for t in interest.topics if t in self.knowledge.topics
        ) or _("all topics")
        text = _(
            "Done: I will send you announcements of info sessions in {city} on {topics}, and nothing else. "
            "To stop them at any time, send /unsubscribe."
        ).format(city=self.city(language, interest.city), topics=topics)
        more = self._topic_buttons(language, interest.city, also=True, but=interest.topics) if interest.topics else []
        if not more:
            return Message(text)
        return Message(text + "\n" + _("To hear of another topic too, choose it below."), tuple(more))

    def unsubscribed(self, language: str, had: bool) -> Message:
        _ = self._(language)
        if not had:
            return Message(_("You had no announcements and no reminders: nothing to stop."))
        return Message(_("Stopped: no more announcements and no reminders. /subscribe starts them again."))

    def reminder(self, language: str, event: InfoEvent, which: Reminder) -> Message:
        _ = self._(language)
        text = (
            _("Reminder: {title} is tomorrow, {when}, at {place}, {city}.")
            if which is Reminder.DAY
            else _("Reminder: {title} starts in two hours, {when}, at {place}, {city}.")
        )
        filled = text.format(
            title=event.title(language, self.fallback),
            when=self.when(language, event),
            place=event.place,
            city=self.city(language, event.city),
        )
        return Message(filled, (Button(_("Cancel"), EventButton(EventAct.CANCEL, event.id).pack()),))


class EventChat:
    """The conversation's part for events: what a command or a button does (None: a stale button)."""

    def __init__(self, replies: EventReplies, store: OutreachStore, now: Callable[[], dt.datetime]) -> None:
        self.replies = replies
        self.store = store
        self.now = now

    def _announced(self, event_id: str) -> InfoEvent | None:
        event = self.replies.knowledge.events.get(event_id)
        return event if event is not None and not event.over(self.now()) else None

    async def events(self, address: Address, language: str) -> Message:
        interest = await self.store.interest(address)
        upcoming = self.replies.knowledge.upcoming(self.now())
        if interest is not None and interest.city is not None:
            upcoming.sort(key=lambda e: e.city != interest.city)  # stable: soonest first within each group
        return self.replies.listing(language, upcoming)

    def subscribe(self, language: str) -> Message:
        return self.replies.choose_city(language, self.now())

    async def unsubscribe(self, address: Address, language: str) -> Message:
        return self.replies.unsubscribed(language, await self.store.unsubscribe(address))

    async def press(self, address: Address, language: str, payload: Payload) -> Message | None:
        knowledge = self.replies.knowledge
        match payload:
            case EventList():
                return await self.events(address, language)
            case EventButton(act, event_id):
                event = self._announced(event_id)
                return await self._act(address, language, act, event) if event is not None else None
            case SubscribeCity(city) if city is None or city in knowledge.cities:
                return self.replies.choose_topic(language, city)
            case SubscribeTopic(city, topic, also) if (city is None or city in knowledge.cities) and (
                topic is None or topic in knowledge.topics
            ):
                interest = Interest(city, (topic,) if topic is not None else ())
                before = await self.store.interest(address) if also else None
                if before is not None and before.city == city and before.topics:  # an added topic: keep the others
                    interest = Interest(city, tuple(dict.fromkeys((*before.topics, *interest.topics))))
                await self.store.subscribe(address, interest)
                return self.replies.subscribed(language, interest)
        return None

    async def _act(self, address: Address, language: str, act: EventAct, event: InfoEvent) -> Message:
        said = ""
        if act is EventAct.ATTEND:
            said = self.replies.booking(language, await self.store.attend(address, event.id, event.capacity))
        elif act is EventAct.REMIND:
            await self.store.remind(address, event.id)
            said = self.replies.reminder_set(language)
        elif act is EventAct.CANCEL:
            await self.store.cancel(address, event.id)
            said = self.replies.cancelled(language)
        details = self.replies.details(
            language, event, await self.store.signup(address, event.id), await self.store.taken(event.id)
        )
        return Message(f"{said}\n\n{details.text}" if said else details.text, details.buttons)
