"""The SQL implementation of the core's UserStore, plus the admins' view of unanswered questions."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Executable,
    Float,
    Select,
    String,
    Text,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.state import Turn, UserState
from bot.storage.database import Database
from bot.storage.group_commit import USERS_STEP
from bot.storage.models import (
    Event,
    Feedback,
    Outbox,
    Registration,
    Subscription,
    Ticket,
    TicketMessage,
    Unanswered,
    User,
    aware,
    utcnow,
)
from bot.types import Address


@dataclass(frozen=True)
class UnansweredQuestion:
    at: dt.datetime
    language: str
    score: float
    text: str
    id: int = 0


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
    create: bool


@dataclass(frozen=True)
class _Understood:
    """A message was understood: `record_turn`."""

    address: Address
    turn: Turn


@dataclass(frozen=True)
class _Statements:
    """The batch writes of SqlUserStore, each run once with every row of a group commit (executemany)."""

    upsert_users: Executable
    change_users: Executable
    add_events: Executable
    add_unanswered: Executable


def upsert(dialect: str) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT ... ON CONFLICT, which SQLite and PostgreSQL spell alike (other dialects: none)."""
    return sqlite.insert(User) if dialect == "sqlite" else postgresql.insert(User)


def per_user(
    table: type[Event] | type[Unanswered],
    same_user: ColumnElement[bool],
    now: BindParameter[dt.datetime],
    **columns: Any,
) -> Executable:
    """INSERT a row per parameter set for the user it names, stamped `now`: a user erased meanwhile gets none."""
    picked = [bindparam(name, type_=kind) for name, kind in columns.items()]
    return insert(table).from_select(["user_id", *columns, "at"], select(User.id, *picked, now).where(same_user))


@functools.cache
def _statements(dialect: str) -> _Statements:
    """Built once per dialect, so that SQLAlchemy compiles each statement once."""
    now = bindparam("now", type_=DateTime(timezone=True))
    arrive = upsert(dialect).values(
        channel=bindparam("u_channel"),
        chat_id=bindparam("u_chat_id"),
        language_chosen=False,
        first_seen=now,
        last_seen=now,
        active=True,
    )
    same_user = (User.channel == bindparam("u_channel")) & (User.chat_id == bindparam("u_chat_id"))
    detected, question = bindparam("detected", type_=String), bindparam("question", type_=Text)
    return _Statements(
        upsert_users=arrive.on_conflict_do_update(
            index_elements=[User.channel, User.chat_id],
            set_={"last_seen": arrive.excluded.last_seen, "active": True},
        ),
        change_users=update(User)  # a chosen language is never overwritten by detection
        .where(same_user)
        .values(
            language=case((User.language_chosen | detected.is_(None), User.language), else_=detected),
            last_question=func.coalesce(question, User.last_question),
            last_question_at=case((question.is_(None), User.last_question_at), else_=now),
        ),
        add_events=per_user(Event, same_user, now, action=String, entry_id=String, language=String),
        add_unanswered=per_user(Unanswered, same_user, now, text=Text, score=Float, language=String),
    )


def _states(addresses: list[tuple[str, str]]) -> Select[str, str, str | None, bool, bool, str | None]:
    """What the engine needs of each arriving user, for all of them in one query."""
    return select(
        User.channel,
        User.chat_id,
        User.language,
        User.language_chosen,
        exists().where(Ticket.user_id == User.id),
        User.legal_status,
    ).where(tuple_(User.channel, User.chat_id).in_(addresses))


def _whose(understood: _Understood, now: dt.datetime) -> dict[str, object]:
    """The parameters naming the turn's user (u_: the column names are SQLAlchemy's own in an UPDATE)."""
    return {"u_channel": understood.address.channel, "u_chat_id": understood.address.chat_id, "now": now}


class SqlUserStore:
    """Messages are written by group commit (the database's SharedCommit): the arrivals and turns of all
    messages in flight share one transaction with the inbox's writes, so the cost per message falls as the
    load rises."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._submit = database.commit.step(USERS_STEP, self._write_all)

    async def touch(self, address: Address, create: bool = True) -> UserState | None:
        state = await self._submit(_Arrival(address, create))
        assert state is None or isinstance(state, UserState)
        return state

    async def record_turn(self, address: Address, turn: Turn) -> None:
        await self._submit(_Understood(address, turn))

    async def _write_all(
        self, connection: AsyncConnection, writes: list[_Arrival | _Understood]
    ) -> list[UserState | None]:
        """The turns first, then the arrivals: a chat's next message is taken only after its last one's turn
        was recorded, so its arrival must see that turn (its language, say)."""
        arrivals = [w for w in writes if isinstance(w, _Arrival)]
        await self._record(connection, [w for w in writes if isinstance(w, _Understood)])
        states = iter(await self._arrive(connection, arrivals))
        return [next(states) if isinstance(w, _Arrival) else None for w in writes]

    async def _arrive(self, connection: AsyncConnection, arrivals: list[_Arrival]) -> list[UserState | None]:
        """Upsert the users who may be created, then read every arriving user's state: two statements for all
        arrivals. Users go in address order, so that two processes on PostgreSQL lock them in one order."""
        if not arrivals:
            return []
        sql = _statements(self._db.engine.dialect.name)
        now = utcnow()
        created = sorted({(a.address.channel, a.address.chat_id) for a in arrivals if a.create})
        if created:
            await connection.execute(
                sql.upsert_users, [{"u_channel": c, "u_chat_id": k, "now": now} for c, k in created]
            )
        addresses = sorted({(a.address.channel, a.address.chat_id) for a in arrivals})
        users = {
            Address(channel, chat_id): UserState(language, bool(chosen), bool(tickets), status)
            for channel, chat_id, language, chosen, tickets, status in await connection.execute(_states(addresses))
        }
        return [users.get(arrival.address) for arrival in arrivals]

    async def _record(self, connection: AsyncConnection, understood: list[_Understood]) -> None:
        """At most three statements for all turns. Each joins the turns to their users by address, so a user
        erased in between (by /forget) gets nothing written back: the turn goes with them."""
        if not understood:
            return
        sql = _statements(self._db.engine.dialect.name)
        now = utcnow()
        in_order = sorted(understood, key=lambda u: (u.address.channel, u.address.chat_id))  # lock order
        changes = [
            {**_whose(u, now), "detected": u.turn.detected_language, "question": u.turn.question}
            for u in in_order
            if u.turn.detected_language is not None or u.turn.question is not None
        ]
        if changes:
            await connection.execute(sql.change_users, changes)
        await connection.execute(
            sql.add_events,
            [
                {**_whose(u, now), "action": u.turn.action, "entry_id": u.turn.entry_id, "language": u.turn.language}
                for u in in_order
            ],
        )
        missed = [
            {**_whose(u, now), "text": u.turn.unanswered[0], "score": u.turn.unanswered[1], "language": u.turn.language}
            for u in in_order
            if u.turn.unanswered is not None
        ]
        if missed:
            await connection.execute(sql.add_unanswered, missed)

    async def set_language(self, address: Address, language: str, chosen: bool) -> None:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            user.language = language
            user.language_chosen = chosen

    async def set_legal_status(self, address: Address, status: str | None) -> None:
        async with self._db.sessions.begin() as session:
            user = await get_or_create_user(session, address)
            user.legal_status = status

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
                update(User)
                .where(User.channel == address.channel, User.chat_id == address.chat_id)
                .values(active=False)
            )
            await session.execute(
                update(Outbox)
                .where(Outbox.channel == address.channel, Outbox.chat_id == address.chat_id, Outbox.status == "pending")
                .values(status="failed", last_error="the user left")
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
            await session.execute(
                update(Ticket).where(Ticket.user_id == user.id).values(user_id=None, erased_at=utcnow())
            )
            await session.execute(delete(Outbox).where(Outbox.user_id == user.id))
            await session.execute(
                delete(Outbox).where(Outbox.channel == address.channel, Outbox.chat_id == address.chat_id)
            )
            await session.execute(delete(Feedback).where(Feedback.user_id == user.id))
            await session.execute(delete(Subscription).where(Subscription.user_id == user.id))
            await session.execute(delete(Registration).where(Registration.user_id == user.id))
            await session.delete(user)
        await self._db.erase_traces()

    async def unanswered(self, days: int, limit: int = 200) -> list[UnansweredQuestion]:
        cutoff = utcnow() - dt.timedelta(days=days)
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(Unanswered.at, Unanswered.language, Unanswered.score, Unanswered.text, Unanswered.id)
                .where(Unanswered.at >= cutoff, Unanswered.mark.is_(None))
                .order_by(Unanswered.at.desc())
                .limit(limit)
            )
            return [UnansweredQuestion(aware(row[0]), *row[1:]) for row in rows]

    async def mark_unanswered(self, ids: list[int], mark: str) -> int:
        """An admin's verdict on questions (added as paraphrases, need a new entry, out of scope): marked ones
        are no longer listed as unanswered."""
        async with self._db.sessions.begin() as session:
            result = await session.execute(update(Unanswered).where(Unanswered.id.in_(ids)).values(mark=mark))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's result has rowcount

    async def unanswered_by_id(self, ids: list[int]) -> list[UnansweredQuestion]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(Unanswered.at, Unanswered.language, Unanswered.score, Unanswered.text, Unanswered.id)
                .where(Unanswered.id.in_(ids))
                .order_by(Unanswered.id)
            )
            return [UnansweredQuestion(aware(row[0]), *row[1:]) for row in rows]

    async def count_users(self) -> int:
        async with self._db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(User)) or 0)
