"""End to end: the `migrant-bot` command as admins and scripts use it, called in this process (main(argv) with
its output captured); one test per command group (ask, chat, kb, db) runs it as a subprocess, as a shell does."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.knowledge import Status, load_knowledge
from tests.cli_helpers import cli
from tests.conftest import LANGUAGES, ROOT, answer_of, run_cli_args
from tests.kb_files import small_base


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """`migrant-bot --config FILE ARGS...` in this process, started from the config's folder."""

    def call(bot_toml: Path, *args: str, stdin: str | None = None) -> Result:
        monkeypatch.chdir(bot_toml.parent)
        return Result(*cli(capsys, "--config", str(bot_toml), *args, stdin=stdin or "", monkeypatch=monkeypatch))

    return call


def run_process(bot_toml: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_cli_args(bot_toml, *args), input=stdin, capture_output=True, text=True, timeout=60, cwd=bot_toml.parent
    )


def test_ask_json_prints_the_contract_fields(bot_toml: Path) -> None:
    result = run_process(bot_toml, "ask", "--json", "коли можна змінити сімейного лікаря?")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["lang"] == "uk" and reply["action"] == "answer"
    assert reply["topic"] == "health" and reply["entry"] == "health-gp-change"
    assert 0 < reply["confidence"] <= 1 and reply["suggestions"] == []
    assert reply["text"] == answer_of("health-gp-change", "uk")
    assert set(reply) == {"lang", "action", "topic", "entry", "confidence", "suggestions", "text"}


def test_ask_reads_one_message_per_line_in_order_and_writes_no_state(run: Run, bot_toml: Path) -> None:
    lines = ["he will kill me", "hello", "pizza recipe please", "who runs this bot", "", "how much is it"]
    result = run(bot_toml, "ask", "--json", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(lines)
    assert replies[0]["action"] == "emergency" and "112" in replies[0]["text"]
    assert replies[1]["action"] == "smalltalk"
    assert replies[2]["action"] == "smalltalk"  # out of scope: what the bot is for, not a consultant
    assert replies[3]["topic"] == "contacts"
    assert replies[4]["action"] == "smalltalk"
    vague = replies[5]  # too vague to answer: suggestions, the best first
    assert vague["action"] == "suggest" and vague["entry"] == vague["suggestions"][0]
    assert not (bot_toml.parent / "data").exists()


def test_ask_with_a_chosen_language_answers_in_it(run: Run, bot_toml: Path) -> None:
    result = run(bot_toml, "ask", "--json", "--lang", "fa", "where can I learn bulgarian")
    reply = json.loads(result.stdout)
    assert reply["lang"] == "fa" and reply["entry"] == "education-bulgarian-course"


def test_ask_rejects_an_unknown_language(run: Run, bot_toml: Path) -> None:
    result = run(bot_toml, "ask", "--lang", "xx", "hi")
    assert result.returncode == 2 and "--lang xx" in result.stderr


def test_a_scripted_chat_presses_buttons_and_keeps_state(bot_toml: Path) -> None:
    script = "/language\n4\nmy employer does not pay my salary\n1\n/privacy\n"
    result = run_process(bot_toml, "chat", "--user", "u1", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    assert "  4. Українська" in out
    assert "Мова: Українська. Відтепер я відповідатиму цією мовою." in out
    assert knowledge.entries["work-labour-rights"].answers["uk"] in out  # in the chosen language
    assert "Що ми зберігаємо" in out
    again = run_process(bot_toml, "chat", "--user", "u1", stdin="when can I change my GP\n")
    assert again.stdout.startswith(knowledge.entries["health-gp-change"].answers["uk"])  # the choice survived
    assert (bot_toml.parent / "data" / "test.db").exists()


def test_forget_in_the_chat_erases_the_user(run: Run, bot_toml: Path) -> None:
    run(bot_toml, "chat", "--user", "u2", stdin="/language\n3\n")
    result = run(bot_toml, "chat", "--user", "u2", stdin="/forget\nwhere can I find a job\n")
    assert "Готово" in result.stdout
    assert "The answer depends on your status in Bulgaria." in result.stdout  # English again: the choice is gone


def test_unanswered_questions_reach_the_admins_grouped_by_meaning(run: Run, bot_toml: Path) -> None:
    questions = [
        "can my cat get a passport",
        "how do i get a pet passport for my cat",
        "is there a chess club in sofia",
    ]
    run(bot_toml, "chat", "--user", "u3", stdin="\n".join(questions) + "\n")
    result = run(bot_toml, "kb", "unanswered")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].split()[:3] == ["count", "newest", "example"]
    assert rows[2].split()[0] == "2" and "cat" in rows[2] and " en " in rows[2]  # the two cat questions, one group
    assert any(row.split()[0] == "1" and "chess club" in row for row in rows[3:])
    suggested = run(bot_toml, "kb", "unanswered", "--suggest")
    assert "# group 1: 2 question(s); nearest entry " in suggested.stdout
    group = suggested.stdout[suggested.stdout.index("# group 1:") : suggested.stdout.index("# group 2:")]
    assert '- "how do i get a pet passport for my cat"' in group and '- "can my cat get a passport"' in group


def test_chat_survives_hostile_input(run: Run, bot_toml: Path) -> None:
    script = "\n".join(["", "x" * 20_000, "\u202e\u0000", "<script>alert(1)</script>", "99", "/nonsense"]) + "\n"
    result = run(bot_toml, "chat", "--user", "u4", stdin=script)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    firsts = [block.splitlines()[0] for block in result.stdout.strip().split("\n\n")]
    assert len(firsts) == 4 and firsts[-1] == "I do not know that command. Try /help."  # blank lines get nothing
    assert all(len(first) < 200 for first in firsts)  # a short reply each, no echo of the 20,000 characters


def test_kb_validate_passes_on_the_real_base_and_fails_on_a_broken_one(bot_toml: Path, tmp_path: Path) -> None:
    good = run_process(bot_toml, "kb", "validate")
    assert good.returncode == 0, good.stdout
    assert "0 error(s)" in good.stdout
    broken = small_base(tmp_path / "broken")
    (broken / "health.yaml").write_text("topic: health\nentries:\n  - id: health-a\n    questions: 3\n")
    bad = run_process(bot_toml, "kb", "validate", str(broken))
    assert bad.returncode == 1
    assert f"{broken / 'health.yaml'}:4: questions must be a mapping of keys to values" in bad.stdout


def test_kb_stats_counts_entries_paraphrases_and_verify(run: Run, bot_toml: Path) -> None:
    result = run(bot_toml, "kb", "stats")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["topic", "entries", "bg", "en", "ru", "uk", "ar", "fa"]
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    work = [knowledge.entries[e] for e in knowledge.topics["work"].entries]

    def cell(language: str) -> str:
        paraphrases = sum(len(e.questions[language]) for e in work)
        variants = sum(language in v for e in work for v in e.variants.values())
        return f"{len(work)}/{paraphrases}/{variants}"

    row = next(line for line in lines if line.startswith("work "))
    assert row.split()[1:] == [str(len(work)), *(cell(language) for language in LANGUAGES)]
    resting = sum(e.verify for e in knowledge.entries.values())
    assert f"rest on a source marked verify (check before going public): {resting}" in result.stdout
    assert "due for review" in result.stdout


def test_a_bad_config_names_the_key_and_exits_2(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nretention_dayz = 3\n")
    result = run(config, "ask", "hi")
    assert result.returncode == 2
    assert f"{config}: [bot] retention_dayz: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_knowledge_base_stops_the_bot_with_path_and_line(run: Run, tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "health.yaml").write_text("topic: [\n")
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nlanguages = ['en']\nknowledge_dir = 'knowledge'\n")
    result = run(config, "ask", "hi")
    assert result.returncode == 2
    assert "health.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_and_purge(bot_toml: Path) -> None:
    assert run_process(bot_toml, "db", "upgrade").returncode == 0
    result = run_process(bot_toml, "db", "purge")
    assert result.returncode == 0 and "removed" in result.stdout


def test_eval_prints_tables_a_confusion_matrix_and_the_emergency_errors(
    run: Run, bot_toml: Path, tmp_path: Path
) -> None:
    cases = [
        {"text": "he will kill me", "lang": "en", "expect": "emergency"},
        {"text": "my cat is hungry", "lang": "en", "expect": "emergency"},
        {"text": "when can I change my GP", "lang": "en", "expect": "health"},
        {"text": "I want to kill myself", "lang": "en", "expect": "health"},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    result = run(bot_toml, "eval", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "By language" in out and "By expected label" in out and "emergency recall" in out
    matrix = out[out.index("Topic confusion") : out.index("Emergencies missed")]
    assert next(line for line in matrix.splitlines() if line.startswith("health ")).split()[1:5] == [".", ".", ".", "1"]
    assert "  [en] my cat is hungry" in out[out.index("Emergencies missed") : out.index("False alarms")]
    assert "  [en] I want to kill myself  -> emergency/suicide" in out[out.index("False alarms") :]


def test_the_status_question_its_memory_and_its_erasure_through_the_chat(run: Run, bot_toml: Path) -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    entry = knowledge.entries["health-insurance-obligatory"]
    variant = entry.variants[Status.TEMPORARY_PROTECTION]["en"]
    first = run(bot_toml, "chat", "--user", "s1", stdin="do I need health insurance\n3\n1\n")
    assert first.returncode == 0, first.stderr
    assert "The answer depends on your status in Bulgaria. Which one is yours?" in first.stdout
    assert "  3. Temporary protection (from Ukraine)" in first.stdout
    assert variant in first.stdout and "  1. Remember my status for next time" in first.stdout
    assert "Saved: Temporary protection (from Ukraine)." in first.stdout
    later = run(bot_toml, "chat", "--user", "s1", stdin="do I need health insurance\n/status\n/forget\n")
    assert later.stdout.startswith(variant)  # remembered across a restart: no question this time
    assert "Your saved status: Temporary protection (from Ukraine)." in later.stdout
    erased = run(bot_toml, "chat", "--user", "s1", stdin="do I need health insurance\n")
    assert erased.stdout.startswith("The answer depends on your status")


def test_a_status_not_agreed_to_is_not_remembered(run: Run, bot_toml: Path) -> None:
    run(bot_toml, "chat", "--user", "s2", stdin="do I need health insurance\n1\n")
    again = run(bot_toml, "chat", "--user", "s2", stdin="do I need health insurance\n")
    assert again.stdout.startswith("The answer depends on your status")
