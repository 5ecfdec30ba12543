"""The SQL implementation of the core's UserStore, plus the admins' view of unanswered questions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Boolean, DateTime, Float, String, Text, and_, bindparam, case, delete, func, literal, literal_column, or_,
    select, update,
)
from sqlalchemy import insert as insert_core
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.state import Turn, UserState
from bot.storage.database import Database
from bot.storage.models import (
    Event, Feedback, Outbox, Ticket, TicketMessage, Unanswered, User, utcnow,
)
from bot.storage.group_commit import GroupCommit
from bot.storage.updates import record_new
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


@dataclass(frozen=True)
class _Arrival:
    """A message arrived: `touch`."""

    address: Address
    dedupe_key: str | None


@dataclass(frozen=True)
class _Understood:
    """A message was understood: `record_turn`."""

    address: Address
    turn: Turn


class SqlUserStore:
    """Messages are written by group commit: the arrivals and turns of all messages in flight share one
    transaction, so the cost per message falls as the load rises."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._writes: GroupCommit[_Arrival | _Understood, UserState | None] = GroupCommit(self._write_all)

    async def touch(self, address: Address, dedupe_key: str | None = None) -> UserState | None:
        return await self._writes.submit(_Arrival(address, dedupe_key))

    async def record_turn(self, address: Address, turn: Turn) -> None:
        await self._writes.submit(_Understood(address, turn))

    async def _write_all(self, writes: list[_Arrival | _Understood]) -> list[UserState | None]:
        """The turns first, then the arrivals: a chat's next message is taken only after its last one's turn
        was recorded, so its arrival must see that turn (its language, say)."""
        arrivals = [w for w in writes if isinstance(w, _Arrival)]
        async with self._db.engine.begin() as connection:
            await self._record(connection, [w for w in writes if isinstance(w, _Understood)])
            states = iter(await self._arrive(connection, arrivals))
        return [next(states) if isinstance(w, _Arrival) else None for w in writes]

    async def _arrive(self, connection: AsyncConnection, arrivals: list[_Arrival]) -> list[UserState | None]:
        """Two statements for all arrivals: record the update ids, then upsert the users whose update is new.

        Rows go in a fixed order (by key, by address) so that two processes writing overlapping batches on
        PostgreSQL take their locks in the same order instead of deadlocking."""
        if not arrivals:
            return []
        now = utcnow()
        new = await record_new(connection, self._db, sorted(
            (a.address.channel, a.dedupe_key) for a in arrivals if a.dedupe_key is not None
        ))
        fresh: list[bool] = []
        for arrival in arrivals:  # of two arrivals with one key in this batch, the first is the fresh one
            key = (arrival.address.channel, arrival.dedupe_key)
            fresh.append(arrival.dedupe_key is None or key in new)
            new.discard(key)
        addresses = sorted({a.address for a, ok in zip(arrivals, fresh) if ok}, key=lambda a: (a.channel, a.chat_id))
        users: dict[Address, UserState] = {}
        if addresses:
            upsert = self._db.insert(User)
            # written out because SQLAlchemy does not correlate a subquery inside RETURNING to the row
            has_tickets = literal_column("EXISTS (SELECT 1 FROM tickets WHERE tickets.user_id = users.id)", Boolean)
            rows = await connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=["channel", "chat_id"], set_={"last_seen": now, "active": True}
                ).returning(User.channel, User.chat_id, User.language, User.language_chosen, has_tickets),
                [{"channel": a.channel, "chat_id": a.chat_id, "language_chosen": False, "first_seen": now,
                  "last_seen": now, "active": True} for a in addresses],
            )
            users = {Address(channel, chat_id): UserState(language, bool(chosen), bool(tickets))
                     for channel, chat_id, language, chosen, tickets in rows}
        return [users.get(arrival.address) if ok else None for arrival, ok in zip(arrivals, fresh)]

    async def _record(self, connection: AsyncConnection, understood: list[_Understood]) -> None:
        """Every statement finds its user by address, so a user erased in between (by /forget) gets nothing
        written back: the turn goes with them. Users in a fixed order, as in `_arrive`."""
        if not understood:
            return
        now = literal(utcnow(), DateTime(timezone=True))
        mine = and_(User.channel == bindparam("at_channel"), User.chat_id == bindparam("at_chat"))
        in_order = sorted(understood, key=lambda u: (u.address.channel, u.address.chat_id))

        def rows(values_of: Callable[[Turn], dict[str, object] | None]) -> list[dict[str, object]]:
            """One parameter set for each turn with something to write here, naming its user by address."""
            return [{"at_channel": u.address.channel, "at_chat": u.address.chat_id, **values}
                    for u in in_order if (values := values_of(u.turn)) is not None]

        changed = rows(lambda t: None if t.detected_language is None and t.question is None
                       else {"detected": t.detected_language, "new_question": t.question})
        events = rows(lambda t: {"turn_action": t.action, "entry": t.entry_id, "in_language": t.language})
        unanswered = rows(lambda t: None if t.unanswered is None else {
            "question_text": t.unanswered[0], "question_score": t.unanswered[1], "in_language": t.language})
        if changed:  # one statement for both: each row of an executemany costs SQLite's thread a round trip
            detected, question = bindparam("detected", type_=String), bindparam("new_question", type_=Text)
            await connection.execute(update(User).where(mine).values(
                # a chosen language is never overwritten by detection
                language=case((or_(User.language_chosen.is_(True), detected.is_(None)), User.language), else_=detected),
                last_question=case((question.is_(None), User.last_question), else_=question),
                last_question_at=case((question.is_(None), User.last_question_at), else_=now),
            ), changed)
        await connection.execute(insert_core(Event).from_select(
            ["user_id", "action", "entry_id", "language", "at"],
            select(User.id, bindparam("turn_action", type_=String), bindparam("entry", type_=String),
                   bindparam("in_language", type_=String), now).where(mine),
        ), events)
        if unanswered:
            await connection.execute(insert_core(Unanswered).from_select(
                ["user_id", "text", "score", "language", "at"],
                select(User.id, bindparam("question_text", type_=Text), bindparam("question_score", type_=Float),
                       bindparam("in_language", type_=String), now).where(mine),
            ), unanswered)

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
