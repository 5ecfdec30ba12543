"""`migrant-bot events ...` and `migrant-bot broadcast ...` as an organiser meets them: main(argv) in this process,
one line per refusal, exit 1, nothing sent twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.outreach import Interest
from bot.storage.database import Database
from bot.storage.outreach import SqlOutreach
from bot.storage.users import SqlUserStore
from bot.types import Address
from tests.cli_helpers import cli
from tests.conftest import ROOT


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "bot.toml"
    database = tmp_path / "t.db"
    path.write_text(f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///{database}"\n')
    return path


def subscribers(toml: Path, *who: tuple[str, str]) -> None:
    async def seed() -> None:
        database = Database(f"sqlite+aiosqlite:///{toml.parent / 't.db'}")
        await database.upgrade()
        users, outreach = SqlUserStore(database), SqlOutreach(database)
        for chat, language in who:
            address = Address("console", chat)
            await users.touch(address)
            await users.set_language(address, language, chosen=True)
            await outreach.subscribe(address, Interest(None, ()))
        await database.close()

    asyncio.run(seed())


def test_events_list_and_show_count_sign_ups_without_naming_anyone(
    toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribers(toml)
    code, out, _ = cli(capsys, "--config", str(toml), "events", "list")
    assert code == 0
    assert out.split("\n")[2].split() == ["plovdiv-2020-insurance-violence", "2020-11-10", "plovdiv", "past", "0", "0"]
    code, out, _ = cli(capsys, "--config", str(toml), "events", "show", "plovdiv-2020-insurance-violence")
    assert code == 0 and "announced in: en, bg; topics: health, violence" in out
    code, _, err = cli(capsys, "--config", str(toml), "events", "show", "nope")
    assert code == 1 and err == "migrant-bot: there is no event 'nope' (see `migrant-bot events list`)\n"


def test_a_broadcast_from_create_to_send_refuses_what_would_go_wrong(
    toml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribers(toml, ("anna", "en"), ("olga", "ru"), ("omid", "fa"))
    file = tmp_path / "b.yaml"
    file.write_text("name: Friday\ntext: {en: A session on Friday., ru: Встреча в пятницу.}\naudience: {}\n")
    config = ("--config", str(toml))
    code, out, _ = cli(capsys, *config, "broadcast", "create", str(file))
    assert code == 0 and out.startswith("created broadcast 1 (draft): Friday; to subscribers; texts in en, ru\n")
    code, _, err = cli(capsys, *config, "broadcast", "preview", "1")
    assert code == 1 and err.startswith("migrant-bot: broadcast 1: no text in fa (1): add them to the file")
    code, _, err = cli(capsys, *config, "broadcast", "send", "1", "--no-wait")
    assert code == 1 and "no text in fa" in err
    code, out, _ = cli(capsys, *config, "broadcast", "preview", "1", "--fallback-default")
    assert code == 0 and out.splitlines()[-1] == "3 recipient(s)"
    assert [line.split() for line in out.splitlines()[3:6]] == [
        ["console", "en", "en", "1"],
        ["console", "fa", "en", "(fallback)", "1"],
        ["console", "ru", "ru", "1"],
    ]
    code, out, _ = cli(capsys, *config, "broadcast", "send", "1", "--fallback-default", "--no-wait")
    assert code == 0 and out.startswith("broadcast 1: 3 message(s) queued")
    code, _, err = cli(capsys, *config, "broadcast", "send", "1", "--fallback-default", "--no-wait")
    assert code == 1 and err.startswith("migrant-bot: broadcast 1 is sending (started ")
    assert err.endswith("): nothing is sent twice\n")
    code, out, _ = cli(capsys, *config, "broadcast", "status", "1")
    assert code == 0 and out.splitlines()[1].startswith("sent 0/3, failed 0 (blocked 0)")
    code, out, _ = cli(capsys, *config, "broadcast", "cancel", "1")
    assert code == 0 and out == "broadcast 1 cancelled: 3 message(s) not yet sent were withdrawn\n"
    code, _, err = cli(capsys, *config, "broadcast", "send", "1", "--fallback-default", "--no-wait")
    assert code == 1 and err.startswith("migrant-bot: broadcast 1 is cancelled")


def test_a_broadcast_to_nobody_or_from_a_bad_file_is_refused(
    toml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribers(toml)
    file = tmp_path / "b.yaml"
    file.write_text("name: Friday\ntext: {en: Hello}\naudience: {languages: [en]}\n")
    config = ("--config", str(toml))
    assert cli(capsys, *config, "broadcast", "create", str(file))[0] == 0
    code, _, err = cli(capsys, *config, "broadcast", "send", "1", "--no-wait")
    assert code == 1 and err == "migrant-bot: broadcast 1: nobody matches its audience now: nothing would be sent\n"
    file.write_text("name: Friday\ntext: {en: ''}\naudience: {cities: [atlantis]}\n")
    code, _, err = cli(capsys, *config, "broadcast", "create", str(file))
    assert code == 2 and err.splitlines() == [
        "migrant-bot: the broadcast file has errors:",
        f"{file}:2: text.en is empty",
        f"{file}:3: audience.cities: 'atlantis' is not known (sofia, plovdiv, burgas, varna, kardzhali, harmanli)",
    ]
    code, _, err = cli(capsys, *config, "broadcast", "status", "9")
    assert code == 1 and err == "migrant-bot: there is no broadcast 9 (see `migrant-bot broadcast list`)\n"
