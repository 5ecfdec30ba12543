from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from bot.core.state import Turn
from bot.storage.database import MIGRATIONS, Database
from bot.storage.models import Event, Unanswered, User
from bot.storage.users import SqlUserStore
from bot.types import Address

ME = Address("console", "u1")
OTHER = Address("console", "u2")


async def test_migrations_reach_the_newest_revision_and_can_run_twice(database: Database) -> None:
    await database.upgrade()
    async with database.engine.connect() as connection:
        version = (await connection.execute(text("select version_num from alembic_version"))).scalar()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


async def test_a_relative_sqlite_file_gets_its_folder(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'folder' / 'bot.db'}")
    await db.upgrade()
    await db.close()
    assert (tmp_path / "new" / "folder" / "bot.db").exists()


async def test_a_user_is_created_once_and_keeps_a_chosen_language(database: Database) -> None:
    store = SqlUserStore(database)
    assert (await store.touch(ME)).language is None
    await store.set_language(ME, "uk", chosen=True)
    state = await store.touch(ME)
    assert (state.language, state.chosen) == ("uk", True)
    assert await store.count_users() == 1


async def test_forget_erases_the_user_and_everything_linked(database: Database) -> None:
    store = SqlUserStore(database)
    for address in (ME, OTHER):
        await store.touch(address)
        await store.record_turn(
            address, Turn("suggest", None, "en", unanswered=(f"question of {address.chat_id}", 0.2))
        )
    await store.forget(ME)
    async with database.sessions() as session:
        users = (await session.scalars(select(User.chat_id))).all()
        events = (await session.scalars(select(Event.user_id))).all()
        texts = (await session.scalars(select(Unanswered.text))).all()
    assert users == ["u2"] and len(events) == 1 and texts == ["question of u2"]
    await store.forget(ME)  # forgetting twice is harmless


async def test_purge_removes_what_is_older_than_retention(database: Database) -> None:
    store = SqlUserStore(database)
    await store.touch(ME)
    await store.record_turn(ME, Turn("handoff", None, "en", unanswered=("old question", 0.1)))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=91)
    assert await database.purge(90) == 0
    assert await database.purge(90, now=later) == 3
    assert await store.unanswered(days=365) == []


async def test_unanswered_questions_are_listed_newest_first(database: Database) -> None:
    store = SqlUserStore(database)
    await store.touch(ME)
    await store.record_turn(ME, Turn("handoff", None, "en", unanswered=("first", 0.1)))
    await store.record_turn(ME, Turn("suggest", None, "ru", unanswered=("second", 0.3)))
    assert [q.text for q in await store.unanswered(days=1)] == ["second", "first"]


async def test_touch_creates_a_user_unless_told_not_to(database: Database) -> None:
    store = SqlUserStore(database)
    assert await store.touch(ME, create=False) is None
    first = await store.touch(ME)
    assert first is not None and not first.has_tickets
    assert await store.touch(ME, create=False) == first
    assert await store.count_users() == 1


async def test_a_turn_is_recorded_at_once(database: Database) -> None:
    store = SqlUserStore(database)
    await store.touch(ME)
    await store.record_turn(
        ME,
        Turn(
            "suggest",
            "health-insurance-cost",
            "ru",
            detected_language="ru",
            question="skolko stoit",
            unanswered=("skolko stoit", 0.5),
        ),
    )
    state = await store.touch(ME)
    assert state is not None and (state.language, state.chosen) == ("ru", False)
    assert [q.text for q in await store.unanswered(days=1)] == ["skolko stoit"]
    async with database.sessions() as session:
        assert (await session.scalars(select(User.last_question))).all() == ["skolko stoit"]
        assert (await session.scalars(select(Event.entry_id))).all() == ["health-insurance-cost"]


async def test_messages_in_flight_together_are_written_together(database: Database) -> None:
    store = SqlUserStore(database)
    viber_me = Address("viber", ME.chat_id)
    states = await asyncio.gather(
        store.touch(ME),
        store.touch(ME),  # the same user twice in one batch
        store.touch(viber_me),  # the same chat id on another channel is another person
        store.touch(OTHER),
        store.touch(Address("telegram", "stranger"), create=False),
    )
    assert [state is not None for state in states] == [True, True, True, True, False]
    assert await store.count_users() == 3
    await asyncio.gather(
        *(
            store.record_turn(address, Turn("answer", "health-insurance-obligatory", "en", detected_language="en"))
            for address in (ME, ME, viber_me)
        )
    )
    async with database.sessions() as session:
        assert len((await session.scalars(select(Event.id))).all()) == 3
    assert (await store.touch(ME)).language == "en"


async def test_a_turn_of_a_user_erased_meanwhile_writes_nothing(database: Database) -> None:
    store = SqlUserStore(database)
    await store.touch(ME)
    await store.forget(ME)
    await store.record_turn(ME, Turn("handoff", None, "en", question="my address", unanswered=("my address", 0.1)))
    assert await store.count_users() == 0
    assert await store.unanswered(days=1) == []
    async with database.sessions() as session:
        assert (await session.scalars(select(Event.id))).all() == []


async def test_detection_never_overrides_a_chosen_language_and_a_question_alone_keeps_the_language(
    database: Database,
) -> None:
    store = SqlUserStore(database)
    await store.touch(ME)
    await store.touch(OTHER)
    await store.set_language(ME, "uk", chosen=True)
    await asyncio.gather(
        store.record_turn(ME, Turn("answer", None, "ru", detected_language="ru", question="де мій паспорт")),
        store.record_turn(OTHER, Turn("answer", None, "ru", detected_language="ru")),
    )
    await store.record_turn(OTHER, Turn("suggest", None, "ru", question="где паспорт"))
    me, other = await store.touch(ME), await store.touch(OTHER)
    assert (me.language, me.chosen) == ("uk", True)
    assert (other.language, other.chosen) == ("ru", False)
    async with database.sessions() as session:
        questions = dict((await session.execute(select(User.chat_id, User.last_question))).all())
    assert questions == {ME.chat_id: "де мій паспорт", OTHER.chat_id: "где паспорт"}


async def test_texts_of_any_kind_travel_through_the_batched_statements_unchanged(database: Database) -> None:
    """Rows go to the database as one JSON parameter: quotes, newlines, bidi text and emoji must survive."""
    tricky = Address("telegram", 'it\'s "me"; DROP TABLE users; --')
    question = 'ما هو "وضع اللاجئ"؟\nI\'m asking 🙏 \\ % _ \u200f'
    store = SqlUserStore(database)
    assert await store.touch(tricky) is not None
    await store.record_turn(
        tricky, Turn("suggest", None, "ar", detected_language="ar", question=question, unanswered=(question, 0.4375))
    )
    state = await store.touch(tricky)
    assert state is not None and state.language == "ar"
    [missed] = await store.unanswered(days=1)
    assert (missed.text, missed.score, missed.language) == (question, 0.4375, "ar")
    async with database.sessions() as session:
        assert (await session.scalars(select(User.last_question))).all() == [question]
