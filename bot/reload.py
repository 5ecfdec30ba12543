"""Reloading the knowledge base into a running bot: only after a clean validation, else the old one serves on.

The console's reload button and `migrant-bot run`'s SIGHUP both come here.
"""

from __future__ import annotations

import asyncio
import logging

from bot.app import understander
from bot.config import Config
from bot.core.engine import Engine
from bot.core.knowledge import KnowledgeBase, Problem, check_knowledge, load_knowledge
from bot.core.understanding import Understander

log = logging.getLogger(__name__)


class Reloader:
    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine
        self._current: Understander | None = engine.understander if engine is not None else None
        self._loaded: KnowledgeBase | None = None
        self._lock = asyncio.Lock()

    def check(self) -> tuple[KnowledgeBase, list[Problem]]:
        """The files on disk as they are now, with every problem found."""
        return check_knowledge(self.config.knowledge_path, self.config.bot.languages)

    def knowledge(self) -> KnowledgeBase:
        """The knowledge base serving now (read from disk on first use where no bot runs)."""
        if self._current is not None:
            return self._current.knowledge
        if self._loaded is None:
            self._loaded = load_knowledge(self.config.knowledge_path, self.config.bot.languages)
        return self._loaded

    async def current(self) -> Understander:
        """The understanding step serving now (built on first use where no bot runs)."""
        if self._current is None:
            self._current = await asyncio.to_thread(understander, self.config, False)
        return self._current

    async def reload(self) -> list[Problem]:
        """Validate the files and, when no error is found, serve them; returns what was found (errors mean
        nothing changed)."""
        async with self._lock:
            _, problems = await asyncio.to_thread(self.check)
            errors = [p for p in problems if p.error]
            if errors:
                log.warning("knowledge base not reloaded: %d error(s), the first: %s", len(errors), errors[0])
                return problems
            fresh = await asyncio.to_thread(understander, self.config, False)
            self._current = fresh
            if self.engine is not None:
                self.engine.use(fresh)
            log.warning("knowledge base reloaded: %d entries", len(fresh.knowledge.entries))
            return problems
