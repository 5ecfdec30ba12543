"""The SQL implementation of the consultants' desk (bot.core.handoff.DeskStore) and the consultant registry.

A claim is one conditional UPDATE (`... WHERE status = 'waiting'`), so of two consultants claiming at once
exactly one changes the row, on SQLite and PostgreSQL alike. Replies and closings write their outbox rows in the
same transaction as the ticket change.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.handoff import Compose, ConsultantInfo, Notice, TicketInfo, TicketLine
from bot.core.tickets import OPEN, QUEUE, DeskError, Move, TicketStatus, moved
from bot.storage.database import Database
from bot.storage.models import Consultant, Outbox, Ticket, TicketMessage, User, aware, utcnow
from bot.storage.outbox import buttons_json
from bot.storage.users import find_user, get_or_create_user
from bot.types import Address


def _consultant_info(row: Consultant) -> ConsultantInfo:
    return ConsultantInfo(row.name, tuple(filter(None, row.languages.split(","))), row.telegram_id, row.display_name)


async def _pseudonym(session: AsyncSession, user: User) -> str:
    """A stable, meaningless name for consultants: 'K-7F3A', more letters if the short ones run out."""
    if user.pseudonym:
        return user.pseudonym
    for attempt in range(20):
        candidate = "K-" + secrets.token_hex(2 if attempt < 10 else 3).upper()
        taken = await session.scalar(select(exists().where(User.pseudonym == candidate)))
        if not taken:
            user.pseudonym = candidate
            return candidate
    raise RuntimeError("could not find a free pseudonym")


WAITING = TicketStatus.WAITING.value
CLAIMED = moved(WAITING, Move.CLAIM).value  # the one status a claim's UPDATE sets


class SqlDesk:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- reading --------------------------------------------------------------------------------------------

    @staticmethod
    def _as_info(ticket: Ticket, holder: str | None, failed: bool, person_status: str | None) -> TicketInfo:
        return TicketInfo(
            ticket.id,
            ticket.pseudonym,
            ticket.channel,
            ticket.language,
            ticket.topic,
            ticket.reason,
            ticket.priority,
            ticket.status,
            holder,
            aware(ticket.created_at),
            aware(ticket.updated_at),
            aware(ticket.closed_at) if ticket.closed_at else None,
            failed,
            person_status,
        )

    async def _info(self, session: AsyncSession, ticket: Ticket) -> TicketInfo:
        holder = await session.get(Consultant, ticket.consultant_id) if ticket.consultant_id else None
        failed = await session.scalar(select(exists().where(Outbox.ticket_id == ticket.id, Outbox.status == "failed")))
        person = await session.get(User, ticket.user_id) if ticket.user_id else None
        return self._as_info(
            ticket, holder.name if holder else None, bool(failed), person.legal_status if person else None
        )

    async def list_tickets(self, status: str | None = None, language: str | None = None) -> list[TicketInfo]:
        """Tickets with their holder and delivery state in one query; open ones (urgent, then oldest) by default."""
        failed = exists().where(Outbox.ticket_id == Ticket.id, Outbox.status == "failed")
        query = (
            select(Ticket, Consultant.name, failed, User.legal_status)
            .outerjoin(Consultant, Consultant.id == Ticket.consultant_id)
            .outerjoin(User, User.id == Ticket.user_id)
        )
        query = query.where(Ticket.status == status) if status else query.where(Ticket.status.in_(QUEUE))
        if language:
            query = query.where(Ticket.language == language)
        query = query.order_by((Ticket.priority == "urgent").desc(), Ticket.created_at, Ticket.id)
        async with self._db.sessions() as session:
            return [self._as_info(t, name, bool(f), s) for t, name, f, s in await session.execute(query)]

    async def waiting_ids(self, languages: tuple[str, ...] = (), limit: int = 20) -> list[int]:
        """The next waiting tickets, urgent and oldest first, in the given languages first (routing)."""
        query = select(Ticket.id).where(Ticket.status == WAITING)
        order = [(Ticket.priority == "urgent").desc()]
        if languages:
            order.append(Ticket.language.in_(languages).desc())
        query = query.order_by(*order, Ticket.id).limit(limit)
        async with self._db.sessions() as session:
            return list((await session.scalars(query)).all())

    async def show(self, ticket_id: int) -> tuple[TicketInfo, list[TicketLine]]:
        async with self._db.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            rows = await session.execute(
                select(TicketMessage, Consultant.name)
                .outerjoin(Consultant, Consultant.id == TicketMessage.consultant_id)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.at, TicketMessage.id)
            )
            lines = [TicketLine(aware(m.at), m.author, m.text, name) for m, name in rows]
            return await self._info(session, ticket), lines

    async def history(self, ticket_id: int) -> list[TicketInfo]:
        """The person's other tickets, newest first (none once they erased their data)."""
        async with self._db.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            if ticket.user_id is None:
                return []
            others = await session.scalars(
                select(Ticket)
                .where(Ticket.user_id == ticket.user_id, Ticket.id != ticket_id)
                .order_by(Ticket.id.desc())
            )
            return [await self._info(session, other) for other in others]

    async def previews(self, ticket_ids: list[int]) -> dict[int, str]:
        """The last thing each ticket's person wrote, for a queue's preview column."""
        if not ticket_ids:
            return {}
        last = (
            select(TicketMessage.ticket_id, func.max(TicketMessage.id).label("last"))
            .where(TicketMessage.ticket_id.in_(ticket_ids), TicketMessage.author == "user")
            .group_by(TicketMessage.ticket_id)
            .subquery()
        )
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(TicketMessage.ticket_id, TicketMessage.text).join(last, TicketMessage.id == last.c.last)
            )
            return {ticket_id: text for ticket_id, text in rows}

    # -- the user's side ------------------------------------------------------------------------------------

    async def _open_of(self, session: AsyncSession, user_id: int) -> Ticket | None:
        return await session.scalar(
            select(Ticket).where(Ticket.user_id == user_id, Ticket.status.in_(OPEN)).order_by(Ticket.id.desc()).limit(1)
        )

    async def open_ticket(
        self, address: Address, language: str, topic: str | None, reason: str, priority: str, texts: list[str]
    ) -> tuple[TicketInfo, bool]:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            ticket = await self._open_of(session, user.id)
            created = ticket is None
            now = utcnow()
            if ticket is None:
                ticket = Ticket(
                    user_id=user.id,
                    pseudonym=await _pseudonym(session, user),
                    channel=address.channel,
                    language=language,
                    topic=topic,
                    reason=reason,
                    priority=priority,
                    status=WAITING,
                    created_at=now,
                    updated_at=now,
                    withdrawn=False,
                )
                session.add(ticket)
                await session.flush()
            elif priority == "urgent":
                ticket.priority = "urgent"
            ticket.updated_at = now
            for text in texts:
                session.add(TicketMessage(ticket_id=ticket.id, author="user", text=text, at=now))
            return await self._info(session, ticket), created

    async def current_ticket(self, address: Address, reopen_after: dt.datetime) -> TicketInfo | None:
        async with self._db.sessions() as session:
            user = await find_user(session, address)
            if user is None:
                return None
            ticket = await session.scalar(
                select(Ticket)
                .where(
                    Ticket.user_id == user.id,
                    or_(
                        Ticket.status.in_(OPEN),
                        and_(
                            Ticket.status == TicketStatus.CLOSED.value,
                            Ticket.withdrawn.is_(False),
                            Ticket.closed_at >= reopen_after,
                        ),
                    ),
                )
                .order_by(Ticket.id.desc())
                .limit(1)
            )
            return await self._info(session, ticket) if ticket else None

    async def add_user_message(self, ticket_id: int, text: str) -> TicketInfo:
        async with self._db.sessions.begin() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            now = utcnow()
            if ticket.status == TicketStatus.CLOSED:
                ticket.consultant_id, ticket.closed_at = None, None
                session.add(TicketMessage(ticket_id=ticket.id, author="system", text="reopened by the user", at=now))
            ticket.status = moved(ticket.status, Move.USER_WRITES).value
            session.add(TicketMessage(ticket_id=ticket.id, author="user", text=text, at=now))
            ticket.updated_at = now
            return await self._info(session, ticket)

    async def cancel(self, address: Address) -> TicketInfo | None:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            ticket = await self._open_of(session, user.id) if user else None
            if ticket is None:
                return None
            now = utcnow()
            ticket.updated_at, ticket.withdrawn = now, True
            if ticket.priority == "urgent":  # a consultant must still see it: the person may be in danger
                ticket.status = moved(ticket.status, Move.WITHDRAW_URGENT).value
                note = "withdrawn by the user; urgent, so it stays in the queue until a consultant closes it"
            else:
                ticket.status, ticket.closed_at, note = (
                    moved(ticket.status, Move.WITHDRAW).value,
                    now,
                    "withdrawn by the user",
                )
            session.add(TicketMessage(ticket_id=ticket.id, author="system", text=note, at=now))
            return await self._info(session, ticket)

    async def take_question(self, address: Address, newer_than: dt.datetime) -> str | None:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None or user.last_question is None or user.last_question_at is None:
                return None
            text = user.last_question if aware(user.last_question_at) >= newer_than else None
            user.last_question, user.last_question_at = None, None
            return text

    # -- the consultant's side ------------------------------------------------------------------------------

    async def _consultant(self, session: AsyncSession, name: str) -> Consultant:
        consultant = await session.scalar(select(Consultant).where(Consultant.name == name))
        if consultant is None:
            raise DeskError(f"no consultant named '{name}' (see `migrant-bot consultant list`)")
        return consultant

    async def _held(self, session: AsyncSession, ticket_id: int, name: str) -> tuple[Ticket, Consultant]:
        consultant = await self._consultant(session, name)
        ticket = await session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise DeskError(f"ticket {ticket_id} does not exist")
        if ticket.status == TicketStatus.CLOSED:
            raise DeskError(f"ticket {ticket_id} is closed")
        if ticket.consultant_id != consultant.id:
            holder = await session.get(Consultant, ticket.consultant_id) if ticket.consultant_id else None
            who = f"is held by {holder.name}" if holder else "is not claimed: claim it first"
            raise DeskError(f"ticket {ticket_id} {who}")
        return ticket, consultant

    async def claim(self, ticket_id: int, name: str) -> TicketInfo:
        async with self._db.sessions.begin() as session:
            consultant = await self._consultant(session, name)
            now = utcnow()
            result = await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status == WAITING, Ticket.consultant_id.is_(None))
                .values(status=CLAIMED, consultant_id=consultant.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            ticket = await session.get(Ticket, ticket_id, populate_existing=True)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
                if ticket.status == TicketStatus.CLOSED:
                    raise DeskError(f"ticket {ticket_id} is closed")
                if ticket.status == TicketStatus.WITHDRAWN:
                    raise DeskError(f"ticket {ticket_id} was withdrawn by the person: close it once you have read it")
                if ticket.consultant_id != consultant.id:
                    holder = await session.get(Consultant, ticket.consultant_id) if ticket.consultant_id else None
                    raise DeskError(f"ticket {ticket_id} is already held by {holder.name if holder else 'nobody'}")
            return await self._info(session, ticket)

    async def release(self, ticket_id: int, name: str) -> TicketInfo:
        async with self._db.sessions.begin() as session:
            ticket, _ = await self._held(session, ticket_id, name)
            ticket.status, ticket.consultant_id, ticket.updated_at = (
                moved(ticket.status, Move.RELEASE).value,
                None,
                utcnow(),
            )
            session.add(TicketMessage(ticket_id=ticket.id, author="system", text=f"released by {name}", at=utcnow()))
            return await self._info(session, ticket)

    async def _notify(
        self, session: AsyncSession, ticket: Ticket, consultant: Consultant, message_id: int, compose: Compose
    ) -> None:
        user = await session.get(User, ticket.user_id) if ticket.user_id else None
        if user is None:
            raise DeskError(f"ticket {ticket.id}: the user erased their data; nothing can reach them")
        info = await self._info(session, ticket)
        for notice in compose(info, _consultant_info(consultant), message_id):
            session.add(self._outbox_row(user, ticket, notice))

    @staticmethod
    def _outbox_row(user: User, ticket: Ticket, notice: Notice) -> Outbox:
        return Outbox(
            key=notice.key,
            user_id=user.id,
            ticket_id=ticket.id,
            channel=user.channel,
            chat_id=user.chat_id,
            language=ticket.language,
            text=notice.text,
            buttons=buttons_json(notice.buttons),
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
        )

    async def reply(self, ticket_id: int, name: str, text: str, compose: Compose) -> TicketInfo:
        async with self._db.sessions.begin() as session:
            ticket, consultant = await self._held(session, ticket_id, name)
            now = utcnow()
            message = TicketMessage(
                ticket_id=ticket.id, author="consultant", consultant_id=consultant.id, text=text, at=now
            )
            session.add(message)
            await session.flush()
            ticket.status, ticket.answered_at, ticket.updated_at = moved(ticket.status, Move.ANSWER).value, now, now
            await self._notify(session, ticket, consultant, message.id, compose)
            return await self._info(session, ticket)

    async def close(self, ticket_id: int, name: str, compose: Compose) -> TicketInfo:
        """Close a ticket one holds, and tell the person; a ticket the person withdrew anyone may close, and
        the person is told nothing (they asked to be left alone)."""
        async with self._db.sessions.begin() as session:
            withdrawn = await session.get(Ticket, ticket_id, with_for_update=True)
            if withdrawn is not None and withdrawn.status == TicketStatus.WITHDRAWN:
                await self._consultant(session, name)
                now = utcnow()
                withdrawn.status, withdrawn.closed_at, withdrawn.updated_at = (
                    moved(withdrawn.status, Move.CLOSE).value,
                    now,
                    now,
                )
                session.add(TicketMessage(ticket_id=ticket_id, author="system", text=f"closed by {name}", at=now))
                return await self._info(session, withdrawn)
            ticket, consultant = await self._held(session, ticket_id, name)
            now = utcnow()
            message = TicketMessage(ticket_id=ticket.id, author="system", text=f"closed by {name}", at=now)
            session.add(message)
            await session.flush()
            ticket.status, ticket.closed_at, ticket.updated_at = moved(ticket.status, Move.CLOSE).value, now, now
            if ticket.user_id is not None:
                await self._notify(session, ticket, consultant, message.id, compose)
            return await self._info(session, ticket)

    async def note(self, ticket_id: int, name: str, text: str) -> TicketInfo:
        """An internal note: seen by consultants in the ticket, never sent to the user."""
        async with self._db.sessions.begin() as session:
            consultant = await self._consultant(session, name)
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            session.add(
                TicketMessage(ticket_id=ticket.id, author="note", consultant_id=consultant.id, text=text, at=utcnow())
            )
            return await self._info(session, ticket)

    async def assign(self, ticket_id: int, name: str, to: str) -> TicketInfo:
        """Give an open ticket to a named colleague, who then holds it as if they had claimed it. Anyone may
        assign a waiting ticket; one that is held only its holder may pass on."""
        async with self._db.sessions.begin() as session:
            consultant = await self._consultant(session, name)
            colleague = await self._consultant(session, to)
            ticket = await session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None:
                raise DeskError(f"ticket {ticket_id} does not exist")
            if ticket.status not in OPEN:
                raise DeskError(f"ticket {ticket_id} is {ticket.status}: it cannot be assigned")
            if ticket.consultant_id not in (None, consultant.id):
                holder = await session.get(Consultant, ticket.consultant_id)
                raise DeskError(f"ticket {ticket_id} is held by {holder.name if holder else 'someone else'}")
            now = utcnow()
            if ticket.status == WAITING:
                ticket.status, ticket.claimed_at = CLAIMED, now
            ticket.consultant_id, ticket.updated_at = colleague.id, now
            session.add(TicketMessage(ticket_id=ticket.id, author="system", text=f"assigned to {to} by {name}", at=now))
            return await self._info(session, ticket)

    # -- the consultant registry ----------------------------------------------------------------------------

    async def consultant_by_telegram(self, telegram_id: int) -> ConsultantInfo | None:
        async with self._db.sessions() as session:
            row = await session.scalar(select(Consultant).where(Consultant.telegram_id == telegram_id))
            return _consultant_info(row) if row else None

    async def add_consultant(self, info: ConsultantInfo) -> None:
        try:
            async with self._db.sessions.begin() as session:
                session.add(
                    Consultant(
                        name=info.name,
                        languages=",".join(info.languages),
                        telegram_id=info.telegram_id,
                        display_name=info.display_name,
                    )
                )
        except IntegrityError as exc:
            raise DeskError(f"a consultant named '{info.name}' or with that Telegram id exists already") from exc

    async def consultants(self) -> list[ConsultantInfo]:
        async with self._db.sessions() as session:
            rows = (await session.scalars(select(Consultant).order_by(Consultant.name))).all()
            return [_consultant_info(row) for row in rows]

    async def remove_consultant(self, name: str) -> int:
        """Remove a consultant; the open tickets they held go back to the queue. Returns how many."""
        async with self._db.sessions.begin() as session:
            consultant = await self._consultant(session, name)
            result = await session.execute(
                update(Ticket)
                .where(Ticket.consultant_id == consultant.id, Ticket.status.in_(OPEN))
                .values(status=TicketStatus.WAITING.value, consultant_id=None, updated_at=utcnow())
            )
            await session.execute(delete(Consultant).where(Consultant.id == consultant.id))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DELETE's result has rowcount
