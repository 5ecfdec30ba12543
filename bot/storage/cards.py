"""The consultants' group's view of tickets: which have a card, what the group has not seen yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.tickets import OPEN, TicketStatus
from bot.storage.database import Database
from bot.storage.models import GroupPost, Ticket, TicketCard, TicketMessage, utcnow


@dataclass(frozen=True)
class CardInfo:
    ticket_id: int
    message_id: int | None
    thread_id: int | None


@dataclass(frozen=True)
class NewLine:
    ticket_id: int
    message_id: int  # the ticket message's id
    text: str
    card: CardInfo


class SqlCards:
    def __init__(self, database: Database, chat_id: int) -> None:
        self._db = database
        self._chat_id = chat_id

    async def unposted(self, limit: int) -> list[int]:
        """Open tickets with no card yet, urgent first, then oldest."""
        query = (
            select(Ticket.id)
            .outerjoin(TicketCard, TicketCard.ticket_id == Ticket.id)
            .where(TicketCard.ticket_id.is_(None), Ticket.status.in_(OPEN))
            .order_by((Ticket.priority == "urgent").desc(), Ticket.id)
            .limit(limit)
        )
        async with self._db.sessions() as session:
            return list((await session.scalars(query)).all())

    async def reserve(self, ticket_id: int) -> bool:
        """Claim the right to post a ticket's card: of several bot processes, one posts it."""
        try:
            async with self._db.sessions.begin() as session:
                newest = await session.scalar(
                    select(TicketMessage.id)
                    .where(TicketMessage.ticket_id == ticket_id)
                    .order_by(TicketMessage.id.desc())
                    .limit(1)
                )
                session.add(TicketCard(ticket_id=ticket_id, chat_id=self._chat_id, last_message_id=newest or 0))
        except IntegrityError:
            return False
        return True

    async def placed(self, ticket_id: int, message_id: int, thread_id: int | None) -> None:
        """The card is up, showing every message so far: only later ones are forwarded."""
        async with self._db.sessions.begin() as session:
            newest = await session.scalar(
                select(TicketMessage.id)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id.desc())
                .limit(1)
            )
            await session.execute(
                update(TicketCard)
                .where(TicketCard.ticket_id == ticket_id)
                .values(message_id=message_id, thread_id=thread_id, last_message_id=newest or 0)
            )

    async def ticket_for(self, message_id: int | None, thread_id: int | None) -> int | None:
        """The ticket a group message belongs to: a reply to its card or a message in its forum topic."""
        conditions = []
        if message_id is not None:
            conditions.append(TicketCard.message_id == message_id)
        if thread_id is not None:
            conditions.append(TicketCard.thread_id == thread_id)
        if not conditions:
            return None
        async with self._db.sessions() as session:
            return await session.scalar(
                select(TicketCard.ticket_id).where(TicketCard.chat_id == self._chat_id, or_(*conditions)).limit(1)
            )

    async def card(self, ticket_id: int) -> CardInfo | None:
        async with self._db.sessions() as session:
            row = await session.get(TicketCard, ticket_id)
            return CardInfo(row.ticket_id, row.message_id, row.thread_id) if row else None

    async def new_user_lines(self, limit: int) -> list[NewLine]:
        """What users wrote (or sent) after their card was posted, oldest first."""
        query = (
            select(TicketMessage, TicketCard)
            .join(TicketCard, TicketCard.ticket_id == TicketMessage.ticket_id)
            .where(
                TicketMessage.author == "user",
                TicketMessage.id > TicketCard.last_message_id,
                TicketCard.message_id.is_not(None),
            )
            .order_by(TicketMessage.id)
            .limit(limit)
        )
        async with self._db.sessions() as session:
            return [
                NewLine(m.ticket_id, m.id, m.text, CardInfo(c.ticket_id, c.message_id, c.thread_id))
                for m, c in await session.execute(query)
            ]

    async def shown(self, line: NewLine) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(TicketCard)
                .where(TicketCard.ticket_id == line.ticket_id, TicketCard.last_message_id < line.message_id)
                .values(last_message_id=line.message_id)
            )

    async def due_reminders(self, minutes: int) -> list[CardInfo]:
        """Urgent tickets still waiting `minutes` after their card (or their last reminder)."""
        cutoff = utcnow() - dt.timedelta(minutes=minutes)
        query = (
            select(TicketCard)
            .join(Ticket, Ticket.id == TicketCard.ticket_id)
            .where(
                Ticket.priority == "urgent",
                Ticket.status == TicketStatus.WAITING.value,
                TicketCard.message_id.is_not(None),
                TicketCard.posted_at < cutoff,
                or_(TicketCard.reminded_at.is_(None), TicketCard.reminded_at < cutoff),
            )
        )
        async with self._db.sessions() as session:
            return [CardInfo(c.ticket_id, c.message_id, c.thread_id) for c in (await session.scalars(query)).all()]

    async def reminded(self, ticket_id: int) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(TicketCard).where(and_(TicketCard.ticket_id == ticket_id)).values(reminded_at=utcnow())
            )

    async def posted(self, ticket_id: int, message_id: int) -> None:
        """A message about a ticket that carries the person's words or media: deleted if they erase their data."""
        async with self._db.sessions.begin() as session:
            session.add(GroupPost(ticket_id=ticket_id, message_id=message_id, at=utcnow()))

    async def erased(self, limit: int = 20) -> list[tuple[CardInfo, list[int]]]:
        """Cards of people who erased their data that still show their words, with the posts to delete."""
        query = (
            select(TicketCard)
            .join(Ticket, Ticket.id == TicketCard.ticket_id)
            .where(Ticket.erased_at.is_not(None), TicketCard.scrubbed_at.is_(None), TicketCard.chat_id == self._chat_id)
            .limit(limit)
        )
        async with self._db.sessions() as session:
            cards = (await session.scalars(query)).all()
            found = []
            for card in cards:
                posts = await session.scalars(select(GroupPost.message_id).where(GroupPost.ticket_id == card.ticket_id))
                found.append((CardInfo(card.ticket_id, card.message_id, card.thread_id), list(posts.all())))
            return found

    async def scrubbed(self, ticket_id: int) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(delete(GroupPost).where(GroupPost.ticket_id == ticket_id))
            await session.execute(
                update(TicketCard).where(TicketCard.ticket_id == ticket_id).values(scrubbed_at=utcnow())
            )
