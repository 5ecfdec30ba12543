"""The wheel, installed outside the checkout, answers in the user's language from its own packaged files.

A non-editable install once shipped no catalogs and answered everyone in English without a word of warning.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from bot.config import SHIPPED_KNOWLEDGE, load_config
from bot.i18n import I18n

ROOT = Path(__file__).resolve().parent.parent
GREETING = "Hello! Ask me your question in your own words, or choose a topic."


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel built from this checkout; the path of its `migrant-bot`."""
    home = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(home), str(ROOT)], check=True
    )
    (wheel,) = home.glob("migrant_bot-*.whl")
    venv.create(home / "venv", with_pip=True)
    subprocess.run([str(home / "venv" / "bin" / "pip"), "install", "--quiet", str(wheel)], check=True)
    return home / "venv" / "bin" / "migrant-bot"


@pytest.mark.parametrize("language", ["ru", "ar"])
def test_the_installed_wheel_chats_in_the_language_from_an_empty_folder(
    installed: Path, tmp_path: Path, language: str
) -> None:
    result = subprocess.run(
        [str(installed), "chat", "--lang", language],
        input="hello\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    greeting = I18n((language,)).gettext(language)(GREETING)
    assert greeting != GREETING
    assert result.stdout.splitlines()[0] == greeting


def test_without_a_config_the_shipped_knowledge_base_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).knowledge_path == SHIPPED_KNOWLEDGE == (ROOT / "knowledge").resolve()


def test_a_language_without_its_catalog_stops_the_bot_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[bot]\nlanguages = ["en", "de"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "ask", "hello"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"migrant-bot: {ROOT / 'bot' / 'translations' / 'de' / 'LC_MESSAGES' / 'messages.po'}: "
        "the catalog of the configured language 'de' is missing"
    ]
