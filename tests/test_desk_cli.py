"""End to end: a migrant in the console chat, consultants in `migrant-bot queue`, as separate processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli_args


@pytest.fixture
def desk_toml(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f'[bot]\nknowledge_dir = "{ROOT / "knowledge"}"\ndatabase_url = "{database_url}"\n')
    return path


def run(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(run_cli_args(config, *args), input=stdin, capture_output=True, text=True, timeout=60)


def test_a_question_reaches_a_consultant_and_the_answer_reaches_the_chat(desk_toml: Path) -> None:
    opened = run(desk_toml, "chat", "--user", "u1", stdin="/consultant\nMy landlord keeps my deposit\n")
    assert "A consultant will answer you here" in opened.stdout
    assert run(desk_toml, "consultant", "add", "maria", "--languages", "bg,ru,en").returncode == 0

    [ticket] = json.loads(run(desk_toml, "queue", "list", "--json").stdout)
    assert (ticket["status"], ticket["language"], ticket["reason"]) == ("waiting", "en", "asked_human")
    assert ticket["pseudonym"].startswith("K-") and "u1" not in json.dumps(ticket)
    shown = run(desk_toml, "queue", "show", str(ticket["id"])).stdout
    assert "My landlord keeps my deposit" in shown and "u1" not in shown

    assert run(desk_toml, "queue", "claim", str(ticket["id"]), "--as", "maria").returncode == 0
    replied = run(desk_toml, "queue", "reply", str(ticket["id"]), "--as", "maria", "Ask for a written receipt.")
    assert replied.returncode == 0, replied.stderr

    later = run(desk_toml, "chat", "--user", "u1")
    assert "Consultant:\n\nAsk for a written receipt." in later.stdout
    assert run(desk_toml, "chat", "--user", "u1").stdout == ""  # delivered once

    assert run(desk_toml, "queue", "close", str(ticket["id"]), "--as", "maria").returncode == 0
    closing = run(desk_toml, "chat", "--user", "u1").stdout
    assert "is closed" in closing and "Did this help? 👍 👎" in closing


def test_queue_commands_fail_clearly(desk_toml: Path) -> None:
    run(desk_toml, "chat", "--user", "u2", stdin="/consultant\nhelp with papers\n")
    run(desk_toml, "consultant", "add", "ivan", "--languages", "en")
    run(desk_toml, "consultant", "add", "olga", "--languages", "ru")
    cases = [
        (("queue", "claim", "99", "--as", "ivan"), "ticket 99 does not exist"),
        (("queue", "claim", "1", "--as", "nobody"), "no consultant named 'nobody'"),
        (("queue", "reply", "1", "--as", "ivan", "hi"), "is not claimed"),
        (("consultant", "add", "ivan", "--languages", "en"), "exists already"),
        (("consultant", "add", "bad", "--languages", "xx"), "--languages: xx"),
    ]
    for args, message in cases:
        result = run(desk_toml, *args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
    assert run(desk_toml, "queue", "claim", "1", "--as", "ivan").returncode == 0
    taken = run(desk_toml, "queue", "claim", "1", "--as", "olga")
    assert taken.returncode == 1 and "already held by ivan" in taken.stderr
    released = run(desk_toml, "consultant", "remove", "ivan")
    assert "1 open ticket(s) back in the queue" in released.stdout
    assert "waiting" in run(desk_toml, "queue", "list").stdout
    assert run(desk_toml, "queue", "list", "--lang", "ru").stdout.strip() == "no tickets"
    assert run(desk_toml, "queue", "close", "1", "--as", "olga").returncode == 1
