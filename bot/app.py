"""The composition root: read the config, build the parts, hand them to whoever runs them.

The only module that knows every part; the CLI calls it, the parts never import each other sideways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Config
from bot.core.engine import Engine
from bot.core.knowledge import load_knowledge
from bot.core.state import UserStore
from bot.i18n import I18n

if TYPE_CHECKING:  # storage is imported lazily: `migrant-bot ask` must start fast and never touch a database
    from bot.storage.database import Database


def build_engine(config: Config, store: UserStore | None = None) -> Engine:
    knowledge = load_knowledge(config.knowledge_path, config.bot.languages)
    return Engine(knowledge, config.bot, config.classifier, I18n(config.bot.languages), store)


@dataclass
class Runtime:
    """The engine with its database; `close()` releases the connections."""

    engine: Engine
    database: Database

    async def close(self) -> None:
        await self.database.close()


async def open_runtime(config: Config) -> Runtime:
    """Build the engine on the configured database, migrated and purged of expired data."""
    from bot.storage.database import Database
    from bot.storage.users import SqlUserStore

    database = Database(config.database_url)
    await database.upgrade()
    await database.purge(config.bot.retention_days)
    return Runtime(build_engine(config, SqlUserStore(database)), database)

