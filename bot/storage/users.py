"""The SQL implementation of the core's UserStore, plus the admins' view of unanswered questions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, delete, exists, func, select, update
from sqlalchemy import insert as insert_core
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.state import Turn, UserState
from bot.storage.database import Database
from bot.storage.models import (
    Event, Feedback, Outbox, Ticket, TicketMessage, Unanswered, User, utcnow,
)
from bot.storage.updates import record_once
from bot.types import Address


@dataclass(frozen=True)
class UnansweredQuestion:
    at: dt.datetime
    language: str
    score: float
    text: str


async def find_user(session: AsyncSession, address: Address) -> User | None:
    return await session.scalar(select(User).where(User.channel == address.channel, User.chat_id == address.chat_id))


async def get_or_create_user(session: AsyncSession, address: Address) -> User:
    user = await find_user(session, address)
    if user is not None:
        return user
    try:
        async with session.begin_nested():
            user = User(channel=address.channel, chat_id=address.chat_id, language_chosen=False, active=True)
            session.add(user)
    except IntegrityError:  # another process created the same user in between
        user = await find_user(session, address)
        assert user is not None
    return user


class SqlUserStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def touch(self, address: Address, dedupe_key: str | None = None) -> UserState | None:
        now = utcnow()
        async with self._db.sessions.begin() as session:
            if dedupe_key is not None and not await record_once(session, self._db, address.channel, dedupe_key):
                return None
            user_id, language, chosen = (await session.execute(
                self._db.insert(User)
                .values(channel=address.channel, chat_id=address.chat_id, language_chosen=False, first_seen=now,
                        last_seen=now, active=True)
                .on_conflict_do_update(index_elements=["channel", "chat_id"], set_={"last_seen": now, "active": True})
                .returning(User.id, User.language, User.language_chosen)
            )).one()
            has_tickets = await session.scalar(select(exists().where(Ticket.user_id == user_id)))
            return UserState(language, bool(chosen), bool(has_tickets))

    async def record_turn(self, address: Address, turn: Turn) -> None:
        changes: dict[str, object] = {}
        if turn.detected_language is not None:  # a chosen language is never overwritten by detection
            changes["language"] = case((User.language_chosen.is_(True), User.language), else_=turn.detected_language)
        if turn.question is not None:
            changes.update(last_question=turn.question, last_question_at=utcnow())
        mine = and_(User.channel == address.channel, User.chat_id == address.chat_id)
        query = update(User).where(mine).values(**changes).returning(User.id) if changes else select(User.id).where(mine)
        async with self._db.sessions.begin() as session:
            user_id = (await session.execute(query)).scalar_one_or_none()
            if user_id is None:  # not there (erased in between, or never touched): the turn starts them afresh
                user_id = (await get_or_create_user(session, address)).id
                if changes:
                    await session.execute(update(User).where(User.id == user_id).values(**changes))
            await session.execute(
                insert_core(Event).values(user_id=user_id, action=turn.action, entry_id=turn.entry_id,
                                          language=turn.language, at=utcnow())
            )
            if turn.unanswered is not None:
                text, score = turn.unanswered
                await session.execute(
                    insert_core(Unanswered).values(user_id=user_id, text=text, language=turn.language, score=score,
                                                   at=utcnow())
                )

    async def set_language(self, address: Address, language: str, chosen: bool) -> None:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            user.language = language
            user.language_chosen = chosen

    async def log_event(self, address: Address, action: str, entry_id: str | None, language: str) -> None:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            session.add(Event(user_id=user.id, action=action, entry_id=entry_id, language=language))

    async def record_feedback(
        self, address: Address, entry_id: str | None, ticket_id: int | None, helpful: bool
    ) -> None:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            known = ticket_id is not None and await session.get(Ticket, ticket_id) is not None
            session.add(
                Feedback(user_id=user.id, entry_id=entry_id, ticket_id=ticket_id if known else None, helpful=helpful)
            )

    async def deactivate(self, address: Address) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(User).where(User.channel == address.channel, User.chat_id == address.chat_id).values(active=False)
            )
            await session.execute(
                update(Outbox).where(
                    Outbox.channel == address.channel, Outbox.chat_id == address.chat_id, Outbox.status == "pending"
                ).values(status="failed", last_error="the user left")
            )

    async def forget(self, address: Address) -> None:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return
            await session.execute(delete(Event).where(Event.user_id == user.id))
            await session.execute(delete(Unanswered).where(Unanswered.user_id == user.id))
            # tickets stay for the consultants, anonymised: the user's own words go, the pseudonym stays
            tickets = select(Ticket.id).where(Ticket.user_id == user.id)
            await session.execute(
                delete(TicketMessage).where(TicketMessage.ticket_id.in_(tickets), TicketMessage.author == "user")
            )
            await session.execute(update(Ticket).where(Ticket.user_id == user.id).values(user_id=None))
            await session.execute(delete(Outbox).where(Outbox.user_id == user.id))
            await session.execute(delete(Feedback).where(Feedback.user_id == user.id))
            await session.delete(user)

    async def unanswered(self, days: int, limit: int = 200) -> list[UnansweredQuestion]:
        cutoff = utcnow() - dt.timedelta(days=days)
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(Unanswered.at, Unanswered.language, Unanswered.score, Unanswered.text)
                .where(Unanswered.at >= cutoff)
                .order_by(Unanswered.at.desc())
                .limit(limit)
            )
            return [UnansweredQuestion(*row) for row in rows]

    async def count_users(self) -> int:
        async with self._db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(User)) or 0)
