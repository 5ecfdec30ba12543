"""The consultants' group end to end: a migrant on Telegram -> a card -> Claim -> a reply -> the migrant."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update as sql_update

from bot.channels.telegram.consultant_group import GroupRate
from bot.storage.models import TicketCard, utcnow
from tests.conftest import free_port, run_cli_args, run_config
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message_update
from tests.group_desk import GROUP, MARIA, MIGRANT, STRANGER, Desk, group_update, open_ticket


async def test_a_migrants_question_becomes_a_card_and_the_answer_reaches_the_migrant(desk: Desk) -> None:
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    [card] = desk.to_group()
    assert "Хозяин не возвращает залог" in card["text"] and f"Ticket #{ticket_id}" in card["text"]
    assert str(MIGRANT) not in card["text"]
    data = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert data == [f"c:claim:{ticket_id}", f"c:close:{ticket_id}"]

    await desk.press(MARIA, f"c:claim:{ticket_id}")
    assert (await desk.store.list_tickets())[0].consultant == "maria"
    placed = await desk.cards.card(ticket_id)
    assert placed is not None
    await desk.in_group(MARIA, "Попросите письменную расписку.", reply_to=placed.message_id)
    await desk.deliver()
    assert desk.fake.sent(MIGRANT)[-1]["text"] == "Консультант:\n\nПопросите письменную расписку."


async def test_nobody_but_a_consultant_changes_anything(desk: Desk) -> None:
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    card = await desk.cards.card(ticket_id)
    assert card is not None
    await desk.press(STRANGER, f"c:claim:{ticket_id}")
    [alert] = desk.fake.called("answerCallbackQuery")
    assert alert["show_alert"] is True and "registered consultants" in alert["text"]
    await desk.in_group(STRANGER, "I will answer this", reply_to=card.message_id)
    [ticket] = await desk.store.list_tickets()
    _, lines = await desk.store.show(ticket_id)
    assert ticket.status == "waiting" and [line.author for line in lines] == ["user"]


async def test_the_migrants_later_messages_and_media_appear_in_the_ticket(desk: Desk) -> None:
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    await desk.migrant("и ещё вопрос")
    await desk.migrant(photo=[{"file_id": "PHOTO1", "file_unique_id": "p", "width": 1, "height": 1}], caption="договор")
    await desk.group.feed_once()
    later = desk.to_group()[1:]
    assert later[0]["text"] == f"#{ticket_id} user: и ещё вопрос"
    assert later[1]["photo"] == "PHOTO1" and later[1]["caption"] == f"#{ticket_id} договор"
    await desk.group.feed_once()
    assert len(desk.to_group()) == 3  # nothing forwarded twice


async def test_group_commands_note_release_close_and_queue(desk: Desk) -> None:
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    card = await desk.cards.card(ticket_id)
    assert card is not None
    await desk.in_group(MARIA, "/queue")
    assert desk.to_group()[-1]["text"] == f"Waiting tickets:\nru: #{ticket_id}"
    await desk.press(MARIA, f"c:claim:{ticket_id}")
    await desk.in_group(MARIA, "/note called the landlord", reply_to=card.message_id)
    _, lines = await desk.store.show(ticket_id)
    assert (lines[-1].author, lines[-1].text) == ("note", "called the landlord")
    await desk.in_group(MARIA, "/release", reply_to=card.message_id)
    assert (await desk.store.list_tickets())[0].status == "waiting"
    await desk.in_group(MARIA, "/close", reply_to=card.message_id)
    assert "is not claimed" in desk.to_group()[-1]["text"]
    await desk.press(MARIA, f"c:claim:{ticket_id}")
    await desk.in_group(MARIA, "/close", reply_to=card.message_id)
    assert await desk.store.list_tickets() == []
    await desk.deliver()
    assert desk.fake.sent(MIGRANT)[-2]["text"].startswith("Ваш вопрос")  # closed notice; the note never left
    assert all("landlord" not in m["text"] for m in desk.fake.sent(MIGRANT))


async def test_a_forum_group_gets_a_topic_per_ticket(desk: Desk) -> None:
    desk.fake.forum = True
    ticket_id = await open_ticket(desk)
    await desk.group.feed_once()
    [topic] = desk.fake.called("createForumTopic")
    card = await desk.cards.card(ticket_id)
    assert card is not None and card.thread_id is not None and f"#{ticket_id}" in topic["name"]
    assert desk.to_group()[0]["message_thread_id"] == card.thread_id
    await desk.press(MARIA, f"c:claim:{ticket_id}")
    await desk.in_group(MARIA, "Ответ в теме", thread=card.thread_id)
    await desk.deliver()
    assert desk.fake.sent(MIGRANT)[-1]["text"] == "Консультант:\n\nОтвет в теме"


async def test_an_unclaimed_urgent_ticket_is_announced_again(desk: Desk) -> None:
    await desk.migrant("он меня убьёт")
    await desk.group.feed_once()
    assert desk.to_group()[0]["text"].startswith("🚨 URGENT")
    async with desk.database.sessions.begin() as session:
        await session.execute(sql_update(TicketCard).values(posted_at=utcnow() - dt.timedelta(minutes=2)))
    await desk.group.feed_once()
    assert desk.to_group()[-1]["text"].startswith("🚨 Urgent ticket")
    await desk.group.feed_once()
    assert len(desk.to_group()) == 2  # not again until another reminder period passes


async def test_many_tickets_at_once_are_batched_not_dropped(desk: Desk) -> None:
    desk.group._rate = GroupRate(3)
    for n in range(12):
        await desk.update(message_update(MIGRANT + 1 + n, "/consultant"))
        await desk.update(message_update(MIGRANT + 1 + n, f"question {n}"))
    await desk.group.feed_once()
    posted = desk.to_group()
    assert len(posted) <= 3
    listed = " ".join(p["text"] for p in posted)
    tickets = await desk.store.list_tickets()
    assert len(tickets) == 12 and all(f"#{t.id} " in listed for t in tickets)
    desk.group._rate = GroupRate(20)
    await desk.press(MARIA, f"c:claim:{tickets[5].id}")
    card = await desk.cards.card(tickets[5].id)
    assert card is not None and card.message_id is not None  # its own card, to reply to


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_migrant_bot_run_carries_a_question_to_the_group_and_the_answer_back(mode: str, tmp_path: Path) -> None:
    """The whole path through `migrant-bot run`: Telegram updates in, the group's card, Claim, a reply, the outbox."""
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    config = run_config(
        tmp_path,
        f'[telegram]\nenabled = true\nmode = "{mode}"\napi_base_url = "{fake.url}"\n'
        f"consultant_chat_id = {GROUP}\n"
        f'[web]\nport = {port}\npublic_url = "https://bot.example.org"\n',
    )
    added = await asyncio.to_thread(
        subprocess.run,
        run_cli_args(config, "consultant", "add", "maria", "--languages", "ru", "--telegram-id", str(MARIA)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "hook-secret"}
    process = await asyncio.create_subprocess_exec(
        *run_cli_args(config, "run"), env=env, stderr=asyncio.subprocess.PIPE
    )
    client = httpx.AsyncClient()

    async def send(update: dict[str, Any]) -> None:
        if mode == "polling":
            fake.updates.append(update)
            return
        response = await client.post(
            f"http://127.0.0.1:{port}/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
        )
        assert response.status_code == 200

    def cards() -> list[Any]:
        return [
            c
            for c in fake.calls
            if c.method == "sendMessage"
            and c.result is not None
            and int(c.params["chat_id"]) == GROUP
            and "Ticket #1" in c.params["text"]
        ]

    try:
        await eventually(lambda: bool(fake.called("setWebhook" if mode == "webhook" else "deleteWebhook")), 30)
        await send(message_update(MIGRANT, "/consultant", language="ru"))
        await send(message_update(MIGRANT, "Хозяин не возвращает залог", language="ru"))
        await eventually(lambda: bool(cards()), 30)
        [card] = cards()
        assert "Хозяин не возвращает залог" in card.params["text"] and str(MIGRANT) not in card.params["text"]
        await send(group_update(MARIA, callback="c:claim:1"))
        await eventually(lambda: bool(fake.called("answerCallbackQuery")), 30)
        await send(group_update(MARIA, text="Попросите письменную расписку.", reply_to=card.result["message_id"]))
        await eventually(lambda: any(m["text"].startswith("Консультант:") for m in fake.sent(MIGRANT)), 30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await client.aclose()
        await fake.stop()
    assert process.returncode == 0, stderr.decode()
    assert fake.sent(MIGRANT)[-1]["text"] == "Консультант:\n\nПопросите письменную расписку."
