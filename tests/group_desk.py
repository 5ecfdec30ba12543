"""The consultants' group fed one update at a time: its handler and the Telegram channel on one database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_engine
from bot.channels.telegram.adapter import TelegramChannel, connect
from bot.channels.telegram.consultant_group import ConsultantGroup, GroupRate
from bot.config import Config
from bot.core.engine import Engine
from bot.core.handoff import ConsultantInfo
from bot.core.handoff import Desk as CoreDesk
from bot.dispatch import Dispatcher
from bot.i18n import I18n
from bot.storage.cards import SqlCards
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.outbox import SqlOutbox
from bot.storage.users import SqlUserStore
from tests.fakes.telegram_api import TOKEN, FakeTelegram, callback_update, message_update

GROUP = -100777
MIGRANT = 4242
MARIA = 9001
STRANGER = 9999


def group_update(
    user: int, text: str = "", reply_to: int | None = None, thread: int | None = None, callback: str | None = None
) -> dict[str, Any]:
    """A consultant's message in the group (a reply to a card, or in a ticket's topic), or their button press."""
    if callback is not None:
        data = callback_update(GROUP, callback)
        data["callback_query"]["from"]["id"] = user
        data["callback_query"]["message"]["chat"]["type"] = "supergroup"
        return data
    data = message_update(GROUP, text, chat_type="supergroup")
    data["message"]["from"]["id"] = user
    if reply_to is not None:
        data["message"]["reply_to_message"] = {
            "message_id": reply_to,
            "date": 1700000000,
            "chat": {"id": GROUP, "type": "supergroup"},
        }
    if thread is not None:
        data["message"]["message_thread_id"] = thread
        data["message"]["is_topic_message"] = True
    return data


@dataclass
class Desk:
    """The group's handler and the Telegram channel on one database, fed one update at a time."""

    channel: TelegramChannel
    group: ConsultantGroup
    engine: Engine
    store: SqlDesk
    cards: SqlCards
    database: Database
    fake: FakeTelegram

    async def update(self, data: dict[str, Any]) -> None:
        for reply in await self.channel.process(self.channel.parse(json.dumps(data)), self.engine.handle):
            await self.channel.send(reply)

    async def migrant(self, text: str = "", **extra: Any) -> None:
        await self.update(message_update(MIGRANT, text, language="ru", **extra))

    async def in_group(self, user: int, text: str, reply_to: int | None = None, thread: int | None = None) -> None:
        await self.update(group_update(user, text, reply_to, thread))

    async def press(self, user: int, data: str) -> None:
        await self.update(group_update(user, callback=data))

    def to_group(self) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.calls if c.method.startswith("send") and int(c.params["chat_id"]) == GROUP]

    async def deliver(self) -> None:
        await Dispatcher(SqlOutbox(self.database), {"telegram": self.channel}).deliver_once("telegram")


@pytest.fixture
async def desk(config: Config, tmp_path: Path) -> AsyncIterator[Desk]:
    fake = FakeTelegram()
    await fake.start()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    await database.upgrade()
    bot = connect(TOKEN, fake.url)
    await bot.initialize()
    store = SqlDesk(database)
    core_desk = CoreDesk(store, I18n(config.bot.languages), config.handoff)
    engine = build_engine(config, SqlUserStore(database), core_desk)
    await store.add_consultant(ConsultantInfo("maria", ("ru", "en"), MARIA))
    cards = SqlCards(database, GROUP)
    group = ConsultantGroup(bot, GROUP, core_desk, store, cards, reminder_minutes=1, rate=GroupRate(20))
    channel = TelegramChannel(bot, GROUP, group.handle)
    yield Desk(channel, group, engine, store, cards, database, fake)
    await bot.shutdown()
    await database.close()
    await fake.stop()


async def open_ticket(desk: Desk) -> int:
    await desk.migrant("/consultant")
    await desk.migrant("Хозяин не возвращает залог")
    [ticket] = await desk.store.list_tickets()
    return ticket.id
