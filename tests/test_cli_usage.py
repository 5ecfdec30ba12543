"""The command as a new user meets it: main(argv) in this process, its output captured; one line per problem,
the right exit code, options where they are typed, numbers that mean what the screen shows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import cli
from tests.conftest import ROOT, run_cli_args


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///t.db"\n')
    return path


def test_version_and_options_after_the_command(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.startswith("migrant-bot ")
    code, out, _ = cli(capsys, "kb", "validate", "--config", str(toml))
    assert code == 0 and ", 0 error(s), " in out.splitlines()[-1]


def test_db_upgrade_says_what_it_did_and_db_current_where_it_is(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--config", str(toml), "db", "current")
    assert code == 0 and out.startswith("the database is empty; the latest revision is 0009")
    assert cli(capsys, "--config", str(toml), "db", "upgrade")[1] == "created the database's tables, at revision 0009\n"
    assert cli(capsys, "db", "upgrade", "--config", str(toml))[1] == (
        "the database is already at the latest revision (0009)\n"
    )
    assert cli(capsys, "--config", str(toml), "db", "current")[1] == "at revision 0009 (the latest)\n"


def test_a_read_only_command_on_an_empty_database_says_what_to_do(
    toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--config", str(toml), "queue", "list")
    assert (code, out) == (1, "")
    assert err == ("migrant-bot: the database is at revision (none: empty), not 0009: run `migrant-bot db upgrade`\n")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/none",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/no_such_database_here",
    ],
)
def test_a_database_that_cannot_be_reached_is_one_line(
    url: str, toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRANT_BOT_DATABASE_URL", url)
    code, out, err = cli(capsys, "--config", str(toml), "db", "upgrade")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("migrant-bot: the database cannot be used (")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("consultant", "add", "x", "--languages", "ar,xx"), "--languages: xx; configured: bg, en, ru, uk, ar, fa"),
        (("queue", "list", "--lang", "zz"), "--lang zz: not one of the configured languages"),
        (("kb", "unanswered", "--days", "-3"), "argument --days: must be at least 1, not -3"),
        (("chat", "--lang", "xx"), "--lang xx: not one of the configured languages"),
    ],
)
def test_argument_errors_exit_2_with_one_line(
    argv: tuple[str, ...], message: str, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "--config", str(toml), *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_queue_options_explain_themselves(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "queue", "list", "--help")
    flat = " ".join(out.split())
    for text in (
        "--json one JSON array",
        "only tickets in this state",
        "--lang LL only tickets in this language",
        "list tickets in NAME's languages first",
    ):
        assert text in flat


def test_a_reply_can_come_from_standard_input_and_times_name_their_zone(
    toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(
        capsys, "--config", str(toml), "chat", "--user", "u1", stdin="/consultant\nmy papers\n", monkeypatch=monkeypatch
    )
    cli(capsys, "--config", str(toml), "consultant", "add", "maria", "--languages", "en")
    cli(capsys, "--config", str(toml), "queue", "claim", "1", "--as", "maria")
    answer = "Bring your passport.\n\nAnd the lease."
    code, _out, err = cli(
        capsys,
        "--config",
        str(toml),
        "queue",
        "reply",
        "1",
        "--as",
        "maria",
        "-",
        stdin=answer,
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    _, shown, _ = cli(capsys, "--config", str(toml), "queue", "show", "1")
    assert "maria: Bring your passport.\n\nAnd the lease." in shown
    assert " EET " in shown or " EEST " in shown  # the office's zone, Europe/Sofia, named on every line
    _, chat, _ = cli(capsys, "--config", str(toml), "chat", "--user", "u1", stdin="", monkeypatch=monkeypatch)
    assert "Consultant:\n\nBring your passport.\n\nAnd the lease." in chat


def test_ask_in_plain_text_shows_the_options_it_offers(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "--config", str(toml), "ask", "how much does it cost")
    first, *options = out.strip().splitlines()
    assert first == "I am not sure I understood. Did you mean one of these?"
    assert options and options[0].startswith("  1. ") and options[-1].endswith("None of these — ask a consultant")


def test_numbers_mean_what_the_screen_shows_last(
    toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = cli(capsys, "--config", str(toml), "chat", "--user", "u7", stdin="/start\n3\n", monkeypatch=monkeypatch)
    assert "  3. Русский" in out and "  7. Residence and documents" in out  # languages 1-6, then topics 7-
    assert "Язык: Русский." in out  # 3 chose Russian, not the third topic


def test_quit_ends_a_scripted_chat_and_a_lone_question_mark_gets_help(
    toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = cli(
        capsys, "--config", str(toml), "chat", "--user", "u8", stdin="?\n/quit\nhello\n", monkeypatch=monkeypatch
    )
    assert out.startswith("Write your question in a few words")
    assert "Hello!" not in out  # nothing after /quit


def test_ctrl_c_ends_the_chat_without_waiting_for_enter(toml: Path) -> None:
    process = subprocess.Popen(
        run_cli_args(toml, "chat"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdin is not None
    process.stdin.write("hello\n")
    process.stdin.flush()
    assert process.stdout is not None
    process.stdout.readline()  # the first reply: the chat is running and waiting for the next line
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=20)
    finally:
        process.kill()
    assert code == 130


def test_output_piped_into_head_ends_quietly(toml: Path) -> None:
    lines = "".join(f"question {n} about insurance\n" for n in range(3000))
    reader = subprocess.Popen(["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.Popen(
        run_cli_args(toml, "ask", "--json", "-"),
        stdin=subprocess.PIPE,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    _, err = writer.communicate(lines, timeout=120)
    reader.wait(timeout=10)
    assert writer.returncode == 141 and err == ""


def test_run_does_not_chatter_before_its_one_line_error(toml: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with toml.open("a") as config:
            config.write(f"[telegram]\nenabled = true\n[web]\nport = {port}\n")
        result = subprocess.run(
            run_cli_args(toml, "run"),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "TELEGRAM_BOT_TOKEN": "1:x"},
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"migrant-bot: {toml}: [web] host, port: cannot serve on 127.0.0.1:{port} (Address already in use)"
    ]
