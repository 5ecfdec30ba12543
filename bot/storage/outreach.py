"""Subscriptions and event registrations in the database (bot.core.outreach.OutreachStore).

A button pressed by someone the bot does not know (after /forget) finds no user here and changes nothing: these
methods never create a user.
"""

from __future__ import annotations

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.outreach import Booking, EventCounts, Interest, Recipient, Signup
from bot.storage.database import Database, dialect_insert
from bot.storage.models import EventLock, Registration, Subscription, User
from bot.storage.users import find_user
from bot.types import Address


def topics_text(topics: tuple[str, ...]) -> str:
    return ",".join(topics)


def topics_of(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split(",") if t)


class SqlOutreach:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def interest(self, address: Address) -> Interest | None:
        async with self._db.sessions() as session:
            row = await session.scalar(
                select(Subscription)
                .join(User, User.id == Subscription.user_id)
                .where(User.channel == address.channel, User.chat_id == address.chat_id)
            )
            return Interest(row.city, topics_of(row.topics)) if row is not None else None

    async def subscribe(self, address: Address, interest: Interest) -> None:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return
            row = await session.get(Subscription, user.id)
            if row is None:
                session.add(Subscription(user_id=user.id, city=interest.city, topics=topics_text(interest.topics)))
            else:
                row.city, row.topics = interest.city, topics_text(interest.topics)

    async def unsubscribe(self, address: Address) -> bool:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return False
            dropped = await session.execute(delete(Subscription).where(Subscription.user_id == user.id))
            quiet = await session.execute(
                update(Registration).where(Registration.user_id == user.id, Registration.remind).values(remind=False)
            )
            return bool(dropped.rowcount or quiet.rowcount)  # type: ignore[attr-defined]  # DML results have rowcount

    async def signup(self, address: Address, event_id: str) -> Signup:
        async with self._db.sessions() as session:
            row = await session.scalar(self._registration(address, event_id))
            return Signup(row.attending, row.remind) if row is not None else Signup()

    @staticmethod
    def _registration(address: Address, event_id: str) -> Select[Registration]:
        return (
            select(Registration)
            .join(User, User.id == Registration.user_id)
            .where(User.channel == address.channel, User.chat_id == address.chat_id, Registration.event_id == event_id)
        )

    async def remind(self, address: Address, event_id: str) -> None:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return
            row = await session.scalar(
                select(Registration).where(Registration.user_id == user.id, Registration.event_id == event_id)
            )
            if row is None:
                session.add(Registration(user_id=user.id, event_id=event_id, attending=False, remind=True))
            else:
                row.remind = True

    async def attend(self, address: Address, event_id: str, capacity: int | None) -> Booking:
        if (await self.signup(address, event_id)).attending:
            return Booking.ALREADY
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return Booking.FULL
            if capacity is not None:
                insert = dialect_insert(self._db)
                await session.execute(insert(EventLock).values(event_id=event_id).on_conflict_do_nothing())
                await session.execute(select(EventLock).where(EventLock.event_id == event_id).with_for_update())
                if await self._count(session, event_id) >= capacity:
                    return Booking.FULL
            row = await session.scalar(
                select(Registration).where(Registration.user_id == user.id, Registration.event_id == event_id)
            )
            try:
                async with session.begin_nested():
                    if row is None:
                        session.add(Registration(user_id=user.id, event_id=event_id, attending=True, remind=False))
                    else:
                        row.attending = True
            except IntegrityError:  # the same person's second tap, in another process at the same moment
                return Booking.ALREADY
            return Booking.BOOKED

    async def cancel(self, address: Address, event_id: str) -> bool:
        async with self._db.sessions.begin() as session:
            user = await find_user(session, address)
            if user is None:
                return False
            result = await session.execute(
                delete(Registration).where(Registration.user_id == user.id, Registration.event_id == event_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's result has rowcount

    @staticmethod
    async def _count(session: AsyncSession, event_id: str) -> int:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.event_id == event_id, Registration.attending)
            )
            or 0
        )

    async def taken(self, event_id: str) -> int:
        async with self._db.sessions() as session:
            return await self._count(session, event_id)

    async def counts(self, event_id: str) -> EventCounts:
        """Places taken and reminders asked for, per language: counts only, never who."""
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(User.language, Registration.attending, Registration.remind)
                .join(User, User.id == Registration.user_id)
                .where(Registration.event_id == event_id)
            )
            attending: dict[str, int] = {}
            reminders: dict[str, int] = {}
            for language, coming, remind in rows:
                key = language or "-"
                if coming:
                    attending[key] = attending.get(key, 0) + 1
                if remind:
                    reminders[key] = reminders.get(key, 0) + 1
            return EventCounts(attending, reminders)

    async def reminded(self, event_id: str, default_language: str) -> list[Recipient]:
        """Who asked to be reminded of the event and has not blocked the bot."""
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(User.id, User.channel, User.chat_id, User.language)
                .join(Registration, Registration.user_id == User.id)
                .where(Registration.event_id == event_id, Registration.remind, User.active)
                .order_by(User.id)
            )
            return [Recipient(i, Address(c, chat), lang or default_language) for i, c, chat, lang in rows]
