"""The rows the desk's figures are counted from: what the bot did, the 👍/👎, the tickets. Never a message text.

Days are counted in the office's time zone, so the rows come back with their moments and are counted in
Python: one portable query per figure instead of each dialect's date functions (a range is at most the
retention period of rows, small enough for a page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.storage.database import Database
from bot.storage.models import Consultant, Event, Feedback, Ticket, TicketMessage, User, aware


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    language: str
    action: str
    entry_id: str | None


@dataclass(frozen=True)
class FeedbackRow:
    at: dt.datetime
    helpful: bool
    entry_id: str | None
    ticket_topic: str | None
    language: str | None


@dataclass(frozen=True)
class TicketRow:
    created_at: dt.datetime
    language: str
    status: str
    first_reply_at: dt.datetime | None
    closed_at: dt.datetime | None


class SqlFigures:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def events(self, start: dt.datetime, end: dt.datetime, language: str | None) -> list[EventRow]:
        query = select(Event.at, Event.language, Event.action, Event.entry_id).where(Event.at >= start, Event.at < end)
        if language:
            query = query.where(Event.language == language)
        async with self._db.sessions() as session:
            return [
                EventRow(aware(at), lang, action, entry) for at, lang, action, entry in await session.execute(query)
            ]

    async def feedback(self, start: dt.datetime, end: dt.datetime, language: str | None) -> list[FeedbackRow]:
        query = (
            select(Feedback.at, Feedback.helpful, Feedback.entry_id, Ticket.topic, User.language)
            .outerjoin(Ticket, Ticket.id == Feedback.ticket_id)
            .outerjoin(User, User.id == Feedback.user_id)
            .where(Feedback.at >= start, Feedback.at < end)
        )
        if language:
            query = query.where(User.language == language)
        async with self._db.sessions() as session:
            return [FeedbackRow(aware(row[0]), *row[1:]) for row in await session.execute(query)]

    async def tickets(self, start: dt.datetime, end: dt.datetime, language: str | None) -> list[TicketRow]:
        """Tickets opened in the range, with their first consultant reply."""
        first = (
            select(TicketMessage.ticket_id, func.min(TicketMessage.at).label("first"))
            .where(TicketMessage.author == "consultant")
            .group_by(TicketMessage.ticket_id)
            .subquery()
        )
        query = (
            select(Ticket.created_at, Ticket.language, Ticket.status, first.c.first, Ticket.closed_at)
            .outerjoin(first, first.c.ticket_id == Ticket.id)
            .where(Ticket.created_at >= start, Ticket.created_at < end)
        )
        if language:
            query = query.where(Ticket.language == language)
        async with self._db.sessions() as session:
            return [
                TicketRow(aware(c), lang, status, aware(f) if f else None, aware(closed) if closed else None)
                for c, lang, status, f, closed in await session.execute(query)
            ]

    async def closed_per_day(self, start: dt.datetime, end: dt.datetime, language: str | None) -> list[dt.datetime]:
        query = select(Ticket.closed_at).where(Ticket.closed_at >= start, Ticket.closed_at < end)
        if language:
            query = query.where(Ticket.language == language)
        async with self._db.sessions() as session:
            return [aware(at) for at in await session.scalars(query) if at is not None]

    async def handled(self, start: dt.datetime, end: dt.datetime, language: str | None) -> list[tuple[str, int, int]]:
        """Per consultant: tickets they answered in the range, and their replies."""
        query = (
            select(Consultant.name, func.count(func.distinct(TicketMessage.ticket_id)), func.count(TicketMessage.id))
            .join(Consultant, Consultant.id == TicketMessage.consultant_id)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(TicketMessage.author == "consultant", TicketMessage.at >= start, TicketMessage.at < end)
            .group_by(Consultant.name)
            .order_by(Consultant.name)
        )
        if language:
            query = query.where(Ticket.language == language)
        async with self._db.sessions() as session:
            return [(name, int(tickets), int(replies)) for name, tickets, replies in await session.execute(query)]
