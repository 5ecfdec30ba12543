"""The composition root: read the config, build the parts, hand them to whoever runs them.

The only module that knows every part; the CLI calls it, the parts never import each other sideways.
"""

from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import BotSection, ClassifierSection, Config
from bot.core.embeddings import EmbeddingStore, EncoderUnavailable
from bot.core.encoder import Encoder, WorkerEncoder
from bot.core.engine import Engine
from bot.core.event_chat import local_clock
from bot.core.handoff import Desk
from bot.core.knowledge import load_knowledge
from bot.core.outreach import OutreachStore
from bot.core.semantic import SemanticModel
from bot.core.state import UserStore
from bot.core.understanding import Understander
from bot.i18n import I18n

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # storage and channels are imported lazily: `migrant-bot ask` must start fast, touch no database
    from bot.channels.base import ChannelPlugin
    from bot.storage.database import Database
    from bot.storage.desk import SqlDesk
    from bot.storage.outbox import SqlOutbox


def _stamp(directory: Path) -> tuple[tuple[str, int], ...]:
    """What the knowledge base's files are now: their names and modification times."""
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in directory.rglob("*.y*ml")))


@functools.lru_cache(maxsize=1)
def bundled_encoder() -> WorkerEncoder:
    """One encoder process for the whole bot process, started on first use."""
    return WorkerEncoder()


@functools.lru_cache(maxsize=4)
def _understander(
    directory: Path,
    stamp: object,
    bot: BotSection,
    classifier: ClassifierSection,
    cache: Path,
    translations: Path,
    progress: bool,
) -> Understander:
    i18n = I18n(bot.languages, translations)  # a missing catalog is named before the knowledge base's own errors
    knowledge = load_knowledge(directory, bot.languages)
    encoder: Encoder | None = bundled_encoder() if classifier.encoder == "bundled" else None
    semantic = None
    if encoder is not None:
        try:
            semantic = SemanticModel.of(knowledge, EmbeddingStore(encoder, cache), cache, progress)
        except EncoderUnavailable:
            log.warning("the sentence encoder is unavailable: understanding runs on the lexical matcher alone")
    return Understander(knowledge, bot, classifier, i18n, encoder, semantic)


def understander(config: Config, progress: bool = True) -> Understander:
    """The understanding step for the configured knowledge base, built once per process while its files stay
    as they are (it is pure: every conversation and tool shares it). `progress`: show a bar on a cold build."""
    directory = config.knowledge_path
    stamp = _stamp(directory) if directory.is_dir() else ()
    return _understander(
        directory, stamp, config.bot, config.classifier, config.cache_path, config.translations_path, progress
    )


def build_engine(
    config: Config, store: UserStore | None = None, desk: Desk | None = None, outreach: OutreachStore | None = None
) -> Engine:
    clock = local_clock(config.handoff.timezone)
    return Engine(understander(config), config.bot, store, desk, outreach, clock)


class Maintenance(enum.Enum):
    """What opening the database does first: the bot's own runs keep it up to date and purge what expired;
    commands that only read it must not change it, and say so when it is not set up."""

    FULL = "migrate and purge"
    MIGRATE = "migrate"
    CHECK = "check"


class NotMigrated(Exception):
    """The database is not at the latest migration: a read-only command cannot use it."""


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


async def open_runtime(
    config: Config, with_engine: bool = True, owner: str = "", maintenance: Maintenance = Maintenance.FULL
) -> Runtime:
    """Open the configured database and build what works on it; `owner` names this process in leases."""
    from bot.storage.database import Database, head_revision
    from bot.storage.desk import SqlDesk
    from bot.storage.outbox import SqlOutbox
    from bot.storage.outreach import SqlOutreach
    from bot.storage.users import SqlUserStore

    database = Database(config.database_url)
    try:
        if maintenance is Maintenance.CHECK:
            current, head = await database.current(), head_revision()
            if current != head:
                raise NotMigrated(
                    f"the database is at revision {current or '(none: empty)'}, not {head}: "
                    "run `migrant-bot db upgrade`"
                )
        else:
            await database.upgrade()
        if maintenance is Maintenance.FULL:
            await database.purge(config.bot.retention_days)
    except BaseException:
        await database.close()
        raise
    desk_store = SqlDesk(database)
    desk = Desk(desk_store, I18n(config.bot.languages, config.translations_path), config.handoff)
    engine = build_engine(config, SqlUserStore(database), desk, SqlOutreach(database)) if with_engine else None
    return Runtime(database, desk_store, desk, SqlOutbox(database, owner), engine)


def channel_plugins() -> tuple[ChannelPlugin, ...]:
    """The registry of chat channels `migrant-bot run` can start: add a channel's PLUGIN here."""
    from bot.channels.telegram.service import PLUGIN as TELEGRAM
    from bot.channels.viber.service import PLUGIN as VIBER

    return (TELEGRAM, VIBER)
