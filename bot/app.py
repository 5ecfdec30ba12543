"""The composition root: read the config, build the parts, hand them to whoever runs them.

The only module that knows every part; the CLI calls it, the parts never import each other sideways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Config
from bot.core.engine import Engine
from bot.core.handoff import Desk
from bot.core.knowledge import load_knowledge
from bot.core.state import UserStore
from bot.i18n import I18n

if TYPE_CHECKING:  # storage is imported lazily: `migrant-bot ask` must start fast and never touch a database
    from bot.storage.database import Database
    from bot.storage.desk import SqlDesk
    from bot.storage.outbox import SqlOutbox


def build_engine(config: Config, store: UserStore | None = None, desk: Desk | None = None) -> Engine:
    knowledge = load_knowledge(config.knowledge_path, config.bot.languages)
    return Engine(knowledge, config.bot, config.classifier, I18n(config.bot.languages), store, desk)


@dataclass
class Runtime:
    """The parts that share the database; `close()` releases its connections."""

    database: Database
    desk_store: SqlDesk
    desk: Desk
    outbox: SqlOutbox
    engine: Engine | None

    async def close(self) -> None:
        await self.database.close()


async def open_runtime(config: Config, with_engine: bool = True) -> Runtime:
    """Open the configured database (migrated, expired data purged) and build what works on it."""
    from bot.storage.database import Database
    from bot.storage.desk import SqlDesk
    from bot.storage.outbox import SqlOutbox
    from bot.storage.users import SqlUserStore

    database = Database(config.database_url)
    await database.upgrade()
    await database.purge(config.bot.retention_days)
    desk_store = SqlDesk(database)
    desk = Desk(desk_store, I18n(config.bot.languages), config.handoff)
    engine = build_engine(config, SqlUserStore(database), desk) if with_engine else None
    return Runtime(database, desk_store, desk, SqlOutbox(database), engine)
