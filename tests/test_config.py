from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SHIPPED_KNOWLEDGE, ConfigError, load_config, parse_config, resolve_sqlite_path


def test_an_empty_file_gives_every_default(tmp_path: Path) -> None:
    config = parse_config("", "bot.toml", tmp_path, env={})
    assert config.bot.languages == ("bg", "en", "ru", "uk", "ar", "fa")
    assert config.bot.default_language == "en"
    assert config.bot.retention_days == 90
    assert config.knowledge_path == SHIPPED_KNOWLEDGE


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    config = parse_config(
        "[bot]\nretention_days = 30\n[classifier]\nanswer_threshold = 0.8\n", "x.toml", tmp_path, env={}
    )
    assert config.bot.retention_days == 30
    assert config.classifier.answer_threshold == 0.8
    assert config.bot.default_language == "en"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[bot]\ncolour = 'red'\n", "[bot] colour"),
        ("[bot]\nretention_days = 'ninety'\n", "[bot] retention_days"),
        ("[bot]\nretention_days = 0\n", "[bot] retention_days"),
        ("[bot]\nlanguages = 'en'\n", "[bot] languages"),
        ("[bot]\ndefault_language = 'de'\n", "[bot] default_language"),
        ("[classifier]\nanswer_threshold = 2\n", "[classifier] answer_threshold"),
        ("[classifier]\nsuggest_threshold = 0.9\nanswer_threshold = 0.5\n", "[classifier] suggest_threshold"),
        ("[telegramm]\n", "[telegramm]"),
        ("[bot\n", "not valid TOML"),
    ],
)
def test_a_bad_key_or_value_names_the_file_and_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text, "/etc/migrant/bot.toml", tmp_path, env={})
    assert "/etc/migrant/bot.toml" in str(error.value)
    assert names in str(error.value)


def test_the_database_url_comes_from_the_environment_when_set(tmp_path: Path) -> None:
    config = parse_config("", "bot.toml", tmp_path, env={"MIGRANT_BOT_DATABASE_URL": "postgresql+asyncpg://db/x"})
    assert config.database_url == "postgresql+asyncpg://db/x"


def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    assert (
        resolve_sqlite_path("sqlite+aiosqlite:///data/x.db", tmp_path)
        == f"sqlite+aiosqlite:///{tmp_path / 'data/x.db'}"
    )
    assert resolve_sqlite_path("sqlite+aiosqlite:////abs/x.db", tmp_path) == "sqlite+aiosqlite:////abs/x.db"
    assert resolve_sqlite_path("sqlite+aiosqlite:///:memory:", tmp_path) == "sqlite+aiosqlite:///:memory:"
    assert resolve_sqlite_path("postgresql+asyncpg://h/db", tmp_path) == "postgresql+asyncpg://h/db"


def test_the_file_is_found_by_option_then_environment_then_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "bot.toml"
    here.write_text("[bot]\nretention_days = 1\n", encoding="utf-8")
    from_env = tmp_path / "env.toml"
    from_env.write_text("[bot]\nretention_days = 2\n", encoding="utf-8")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[bot]\nretention_days = 3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    env = {"MIGRANT_BOT_CONFIG": str(from_env)}
    assert load_config(explicit, env=env).bot.retention_days == 3
    assert load_config(None, env=env).bot.retention_days == 2
    assert load_config(None, env={}).bot.retention_days == 1


def test_a_missing_config_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_config(tmp_path / "nope.toml", env={})


def test_flood_control_is_a_bot_key_and_the_old_telegram_name_still_works_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert parse_config("[bot]\nflood_per_minute = 7\n", "bot.toml", tmp_path, env={}).bot.flood_per_minute == 7
    with caplog.at_level("WARNING", logger="bot.config"):
        old = parse_config("[telegram]\nflood_per_minute = 9\n", "bot.toml", tmp_path, env={})
    assert old.bot.flood_per_minute == 9
    assert caplog.messages == [
        "bot.toml: [telegram] flood_per_minute is now [bot] flood_per_minute; "
        "the old name is read until the next version"
    ]
    with pytest.raises(ConfigError, match=r"\[telegram\] flood_per_minute: also set as \[bot\] flood_per_minute"):
        parse_config("[bot]\nflood_per_minute = 7\n[telegram]\nflood_per_minute = 9\n", "bot.toml", tmp_path, env={})
    with pytest.raises(ConfigError, match=r"\[bot\] flood_per_minute: must be at least 1"):
        parse_config("[telegram]\nflood_per_minute = 0\n", "bot.toml", tmp_path, env={})


def test_telegrams_pace_is_a_key_within_the_bot_apis_bounds(tmp_path: Path) -> None:
    assert parse_config("", "bot.toml", tmp_path, env={}).telegram.messages_per_second == 30
    paid = parse_config("[telegram]\nmessages_per_second = 1000\n", "bot.toml", tmp_path, env={})
    assert paid.telegram.messages_per_second == 1000
    for wrong in (0, 1001):
        with pytest.raises(ConfigError, match=r"\[telegram\] messages_per_second: must be between 1 and 1000"):
            parse_config(f"[telegram]\nmessages_per_second = {wrong}\n", "bot.toml", tmp_path, env={})
