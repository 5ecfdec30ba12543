"""The consultants' desk, channel-neutral: tickets, what users are told, what consultants may do.

The queries live in bot.storage (DeskStore below); this module decides the rules and writes every notice in the
user's language. A notice that is not the immediate reply (a consultant's answer, a closing) is composed here and
handed to the store, which writes it to the outbox in the same transaction as the change that causes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from babel.dates import format_skeleton, get_datetime_format, get_day_names
from babel.lists import format_list

from bot.config import HandoffSection
from bot.core.office_hours import OfficeHours
from bot.core.payloads import Feedback
from bot.core.replies import Message
from bot.core.tickets import DeskError, TicketStatus
from bot.i18n import I18n
from bot.types import Address, Button

REASONS = ("asked_human", "low_confidence", "high_risk", "negative_feedback")
QUESTION_MAX_AGE = dt.timedelta(hours=1)
QUOTED_MAX = 300
_NAME = re.compile(r"^[\w.@-]{1,64}$")
NAME_RULE = "a name is letters, digits, '.', '-', '_' or '@'"


def valid_name(name: str) -> bool:
    """A consultant's or staff member's name: what they log in and act under."""
    return bool(_NAME.match(name))


def ticket_age(ticket: TicketInfo, now: dt.datetime | None = None) -> str:
    """How long a ticket has waited: '3h05m', '2d4h'."""
    minutes = int(((now or dt.datetime.now(dt.UTC)) - ticket.created_at).total_seconds() // 60)
    return f"{minutes // 1440}d{minutes % 1440 // 60}h" if minutes >= 1440 else f"{minutes // 60}h{minutes % 60:02d}m"


def local_moment(moment: dt.datetime, zone: dt.tzinfo, language: str) -> str:
    """'Wed, December 2, 09:00' in the language's own order and punctuation (Babel's CLDR data)."""
    date = format_skeleton("MMMMEEEEd", moment, tzinfo=zone, locale=language)
    time = format_skeleton("Hm", moment, tzinfo=zone, locale=language)
    return str(get_datetime_format("medium", locale=language)).replace("{1}", date).replace("{0}", time)


def shorten(text: str, limit: int = QUOTED_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ConsultantInfo:
    name: str
    languages: tuple[str, ...]
    telegram_id: int | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class TicketInfo:
    id: int
    pseudonym: str
    channel: str
    language: str
    topic: str | None
    reason: str
    priority: str
    status: str
    consultant: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None = None
    delivery_failed: bool = False
    person_status: str | None = None  # the status the person let the bot remember, if any


@dataclass(frozen=True)
class TicketLine:
    at: dt.datetime
    author: str  # user, consultant, note, system
    text: str
    consultant: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message for the ticket's user, to be written to the outbox; `key` makes it arrive once."""

    key: str
    text: str
    buttons: tuple[Button, ...] = ()


Compose = Callable[[TicketInfo, ConsultantInfo, int], list[Notice]]


class DeskStore(Protocol):
    async def open_ticket(
        self, address: Address, language: str, topic: str | None, reason: str, priority: str, texts: list[str]
    ) -> tuple[TicketInfo, bool]: ...

    async def current_ticket(self, address: Address, reopen_after: dt.datetime) -> TicketInfo | None: ...

    async def add_user_message(self, ticket_id: int, text: str) -> TicketInfo: ...

    async def cancel(self, address: Address) -> TicketInfo | None: ...

    async def take_question(self, address: Address, newer_than: dt.datetime) -> str | None: ...

    async def claim(self, ticket_id: int, name: str) -> TicketInfo: ...

    async def release(self, ticket_id: int, name: str) -> TicketInfo: ...

    async def reply(self, ticket_id: int, name: str, text: str, compose: Compose) -> TicketInfo: ...

    async def close(self, ticket_id: int, name: str, compose: Compose) -> TicketInfo: ...

    async def list_tickets(self, status: str | None = None, language: str | None = None) -> list[TicketInfo]: ...

    async def show(self, ticket_id: int) -> tuple[TicketInfo, list[TicketLine]]: ...

    async def history(self, ticket_id: int) -> list[TicketInfo]: ...

    async def previews(self, ticket_ids: list[int]) -> dict[int, str]: ...

    async def note(self, ticket_id: int, name: str, text: str) -> TicketInfo: ...

    async def assign(self, ticket_id: int, name: str, to: str) -> TicketInfo: ...

    async def consultants(self) -> list[ConsultantInfo]: ...


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Desk:
    def __init__(
        self,
        store: DeskStore,
        i18n: I18n,
        settings: HandoffSection,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self._i18n = i18n
        self.settings = settings
        self.hours: OfficeHours = settings.hours()
        self._now = now

    # -- what users are told ---------------------------------------------------------------------------------

    def describe_hours(self, language: str) -> str:
        """'Mon–Fri 09:00–17:00' in the user's language, from the configured windows."""
        names = get_day_names("abbreviated", locale=language)
        spans: dict[tuple[dt.time, dt.time], list[int]] = {}
        for window in self.hours.windows:
            spans.setdefault((window.start, window.end), []).append(window.weekday)
        parts = []
        for (start, end), days in spans.items():
            days = sorted(set(days))
            runs: list[tuple[int, int]] = []
            for day in days:
                if runs and day == runs[-1][1] + 1:
                    runs[-1] = (runs[-1][0], day)
                else:
                    runs.append((day, day))
            label = format_list([names[a] if a == b else f"{names[a]}–{names[b]}" for a, b in runs], locale=language)
            parts.append(f"{label} {start:%H:%M}–{end:%H:%M}")
        return format_list(parts, locale=language)

    def acknowledgement(self, language: str, ticket: TicketInfo, texts: list[str]) -> Message:
        """What the person is told when their question goes to a consultant: their reference, when consultants
        work, when to expect an answer, and what the consultant will read (their words from just before too)."""
        _ = self._i18n.gettext(language)
        ngettext = self._i18n.ngettext(language)
        now = self._now()
        lines = [_("A consultant will answer you here (your reference: {ref}).").format(ref=ticket.pseudonym)]
        hours = self.describe_hours(language)
        within = self.settings.answer_within_hours
        expect = ngettext("Expect an answer within {n} hour.", "Expect an answer within {n} hours.", within)
        if self.hours.is_open(now):
            lines.append(_("Consultants work: {hours}.").format(hours=hours) + " " + expect.format(n=within))
        else:
            opening = self.hours.next_opening(now)
            when = local_moment(opening, self.hours.zone, language)
            lines.append(
                _("Consultants work: {hours}.").format(hours=hours)
                + " "
                + _("They will read your message at the next opening: {when}.").format(when=when)
                + " "
                + expect.format(n=within)
            )
        if texts:
            quoted = "\n".join(f"«{shorten(text)}»" for text in texts[-3:])
            lines.append(_("The consultant will read what you wrote:") + "\n" + quoted)
        else:
            lines.append(_("Please write your question here, in your own words."))
        lines.append(_("/cancel withdraws your question. If you are in danger, call 112."))
        return Message("\n\n".join(lines))

    def joined(self, language: str) -> Message:
        _ = self._i18n.gettext(language)
        return Message(_("Added to your question. A consultant will read it."))

    # -- the user's side -------------------------------------------------------------------------------------

    async def open(
        self, address: Address, language: str, reason: str, topic: str | None, texts: list[str], urgent: bool = False
    ) -> Message:
        earlier = await self.store.take_question(address, self._now() - QUESTION_MAX_AGE)
        texts = [t for t in dict.fromkeys(([earlier] if earlier else []) + texts) if t]
        ticket, _created = await self.store.open_ticket(
            address, language, topic, reason, "urgent" if urgent else "normal", texts
        )
        return self.acknowledgement(language, ticket, texts)

    async def current(self, address: Address) -> TicketInfo | None:
        return await self.store.current_ticket(address, self._now() - dt.timedelta(days=self.settings.reopen_days))

    async def join(self, ticket: TicketInfo, text: str, language: str) -> Message:
        updated = await self.store.add_user_message(ticket.id, text)
        if ticket.status == TicketStatus.CLOSED:
            return self.acknowledgement(language, updated, [text])
        return self.joined(language)

    async def cancel(self, address: Address, language: str) -> Message:
        _ = self._i18n.gettext(language)
        ticket = await self.store.cancel(address)
        if ticket is None:
            return Message(_("You have no open question for a consultant."))
        return Message(
            _("Your question {ref} is withdrawn. Write any time if you need us.").format(ref=ticket.pseudonym)
        )

    # -- the consultant's side -------------------------------------------------------------------------------

    def _reply_notice(self, ticket: TicketInfo, consultant: ConsultantInfo, message_id: int, text: str) -> list[Notice]:
        _ = self._i18n.gettext(ticket.language)
        prefix = (
            _("{name}, consultant:").format(name=consultant.display_name)
            if consultant.display_name
            else _("Consultant:")
        )
        return [Notice(f"ticket-{ticket.id}-message-{message_id}", f"{prefix}\n\n{text}")]

    def _close_notice(self, ticket: TicketInfo, _consultant: ConsultantInfo, message_id: int) -> list[Notice]:
        _ = self._i18n.gettext(ticket.language)
        closed = _("Your question {ref} is closed. If you need more help, just write here.").format(
            ref=ticket.pseudonym
        )
        ask = _("Did this help?")
        buttons = tuple(Button(sign, Feedback(sign == "👍", ticket=ticket.id).pack()) for sign in ("👍", "👎"))
        return [
            Notice(f"ticket-{ticket.id}-message-{message_id}", closed),
            Notice(f"ticket-{ticket.id}-message-{message_id}-feedback", f"{ask} 👍 👎", buttons),
        ]

    async def reply(self, ticket_id: int, name: str, text: str) -> TicketInfo:
        text = text.strip()
        if not text:
            raise DeskError("the reply is empty")
        return await self.store.reply(ticket_id, name, text, lambda t, c, m: self._reply_notice(t, c, m, text))

    async def close(self, ticket_id: int, name: str) -> TicketInfo:
        return await self.store.close(ticket_id, name, self._close_notice)

    async def claim(self, ticket_id: int, name: str) -> TicketInfo:
        return await self.store.claim(ticket_id, name)

    async def release(self, ticket_id: int, name: str) -> TicketInfo:
        return await self.store.release(ticket_id, name)

    async def note(self, ticket_id: int, name: str, text: str) -> TicketInfo:
        """An internal note: consultants read it in the ticket; it is never sent."""
        text = text.strip()
        if not text:
            raise DeskError("the note is empty")
        return await self.store.note(ticket_id, name, text)

    async def assign(self, ticket_id: int, name: str, to: str) -> TicketInfo:
        return await self.store.assign(ticket_id, name, to)

    async def tickets(self, status: str | None = None, language: str | None = None) -> list[TicketInfo]:
        """Open tickets (or those in `status`), urgent first, then oldest."""
        return await self.store.list_tickets(status, language)

    async def ticket(self, ticket_id: int) -> tuple[TicketInfo, list[TicketLine]]:
        return await self.store.show(ticket_id)

    async def history(self, ticket_id: int) -> list[TicketInfo]:
        return await self.store.history(ticket_id)

    async def previews(self, ticket_ids: list[int]) -> dict[int, str]:
        return await self.store.previews(ticket_ids)

    async def consultants(self) -> list[ConsultantInfo]:
        return await self.store.consultants()

    def overdue(self, ticket: TicketInfo) -> bool:
        return ticket.status == TicketStatus.WAITING and self._now() - ticket.created_at > dt.timedelta(
            hours=self.settings.answer_within_hours
        )
