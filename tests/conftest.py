from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.config import Config, load_config
from bot.core.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("bg", "en", "ru", "uk", "ar", "fa")


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "bot.toml", env={})


@pytest.fixture(scope="session")
def engine(config: Config) -> Engine:
    return build_engine(config)


@pytest.fixture
def bot_toml(tmp_path: Path) -> Path:
    """A bot.toml for subprocess tests: the real knowledge base, a database in the test's own folder."""
    path = tmp_path / "bot.toml"
    path.write_text(
        "[bot]\n"
        f'knowledge_dir = "{ROOT / "knowledge"}"\n'
        'database_url = "sqlite+aiosqlite:///data/test.db"\n',
        encoding="utf-8",
    )
    return path


def run_cli_args(bot_toml: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(bot_toml), *args]
