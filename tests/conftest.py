from __future__ import annotations

import functools
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import build_engine
from bot.config import Config, load_config
from bot.core.engine import Engine
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.storage.database import Database
from tests.fakes.postgres import create_scratch_database, drop_scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.viber_api import FakeViber

pytest_plugins = ["tests.group_desk"]  # the consultants' group fixture, shared by its tests and the erasure tests

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("bg", "en", "ru", "uk", "ar", "fa")


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "bot.toml", env={})


@functools.lru_cache(maxsize=1)
def _knowledge() -> KnowledgeBase:
    return load_knowledge(ROOT / "knowledge", LANGUAGES)


def answer_of(entry_id: str, language: str) -> str:
    """The real knowledge base's general answer: tests name an entry, not its wording."""
    return _knowledge().entries[entry_id].answers[language]


def apart_from_notices(texts: list[str]) -> tuple[list[str], list[str]]:
    """The flood gate's notices, and the other replies in their order: a notice goes at once, out of turn."""
    notices = [t for t in texts if t.startswith("You are writing very fast")]
    return notices, [t for t in texts if t not in notices]


@pytest.fixture(scope="session")
def engine(config: Config) -> Engine:
    return build_engine(config)


@pytest.fixture
def bot_toml(tmp_path: Path) -> Path:
    """A bot.toml for subprocess tests: the real knowledge base, a database in the test's own folder."""
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///data/test.db"\n',
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    """A port nothing listens on now, for a `migrant-bot run` subprocess's HTTP app."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_config(folder: Path, sections: str) -> Path:
    """A bot.toml for `migrant-bot run` tests: the real knowledge base, a database in `folder`, then `sections`."""
    path = folder / "bot.toml"
    path.write_text(
        f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///bot.db"\n{sections}',
        encoding="utf-8",
    )
    return path


def run_cli_args(bot_toml: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(bot_toml), *args]


POSTGRES_ENV = "MIGRANT_BOT_TEST_POSTGRES_URL"


async def _postgres_database() -> tuple[str, str]:
    """A fresh database on the server in $MIGRANT_BOT_TEST_POSTGRES_URL: (its url, the admin url)."""
    admin_url = os.environ.get(POSTGRES_ENV, "")
    if not admin_url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)"
        )
    try:
        return await create_scratch_database(admin_url), admin_url
    except Exception as exc:  # the server is down or refuses: a skip that says why, never a pass
        pytest.skip(f"PostgreSQL at {make_url(admin_url).render_as_string(hide_password=True)} is not usable: {exc}")


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, served on 127.0.0.1 for one test."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_viber() -> AsyncIterator[FakeViber]:
    """The fake Viber REST API, served on 127.0.0.1 for one test."""
    server = FakeViber()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every storage and queue test runs on SQLite and, when the server is there, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'bot.db'}"
        return
    url, admin_url = await _postgres_database()
    try:
        yield url
    finally:
        await drop_scratch_database(url, admin_url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.upgrade()
    yield db
    await db.close()
