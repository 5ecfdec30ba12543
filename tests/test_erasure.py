"""/forget erases for real: the words leave the database files, the consultants' group and the conversation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.storage.models import Feedback, User
from tests.fakes.telegram_api import FakeTelegram, callback_update, message_update
from tests.group_desk import GROUP, Desk, open_ticket
from tests.harness import bot_on

SECRET_WORDS = "PASSPORT-XK4471902"


def traces(folder: Path) -> list[str]:
    """The database files (the main file and its write-ahead log) that still hold the words."""
    return [p.name for p in folder.iterdir() if p.is_file() and SECRET_WORDS.encode() in p.read_bytes()]


async def test_forget_removes_the_words_from_the_sqlite_files_at_once(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    folder = tmp_path / "db"
    try:
        async with bot_on(f"sqlite+aiosqlite:///{folder / 'bot.db'}", fake) as bot:
            for text in (f"my {SECRET_WORDS} was taken", "/consultant", f"they keep {SECRET_WORDS}"):
                await bot.telegram_update(message_update(4242, text))
            assert traces(folder)  # the words are there: in the ticket, the unanswered questions, the inbox
            await bot.telegram_update(message_update(4242, "/forget"))
            assert traces(folder) == []  # while the bot runs, not only after it stops
            for n in range(50):
                await bot.telegram_update(message_update(5000 + n, "do i need health insurance"))
            assert traces(folder) == []
    finally:
        await fake.stop()


async def test_an_old_button_after_forget_changes_nothing_and_recreates_nobody(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        async with bot_on(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", fake) as bot:
            await bot.telegram_update(message_update(4242, "do i need health insurance", language="uk"))
            await bot.telegram_update(message_update(4242, "/forget", language="uk"))
            await bot.telegram_update(callback_update(4242, "f:+:e:health-insurance-obligatory", language="uk"))
            async with bot.database.sessions() as session:
                users = await session.scalar(select(func.count()).select_from(User))
                feedback = await session.scalar(select(func.count()).select_from(Feedback))
    finally:
        await fake.stop()
    assert (users, feedback) == (0, 0)
    assert fake.sent(4242)[-1]["text"].startswith("Вітаю!")  # the welcome, in the language of their client


async def test_forget_takes_the_words_out_of_the_consultants_group(desk: Desk) -> None:
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    await desk.migrant(f"and my {SECRET_WORDS}")
    await desk.migrant(photo=[{"file_id": "PASS1", "file_unique_id": "p", "width": 1, "height": 1}])
    await desk.group.feed_once()
    forwarded = [
        c.result["message_id"]
        for c in desk.fake.calls
        if c.method in ("sendMessage", "sendPhoto") and int(c.params["chat_id"]) == GROUP
    ][1:]
    assert len(forwarded) == 2
    await desk.migrant("/forget")
    await desk.group.feed_once()
    card = await desk.cards.card(ticket_id)
    assert card is not None
    [edit] = [p for p in desk.fake.called("editMessageText") if int(p["message_id"]) == card.message_id]
    assert "erased their data" in edit["text"] and "залог" not in edit["text"]
    assert sorted(desk.fake.deleted) == sorted(forwarded)
    await desk.group.feed_once()
    assert len(desk.fake.called("editMessageText")) == 1  # done once
