"""End to end: the `migrant-bot` command run as a subprocess, as admins and scripts use it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ROOT, run_cli_args


def run(bot_toml: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_cli_args(bot_toml, *args), input=stdin, capture_output=True, text=True, timeout=60, cwd=bot_toml.parent
    )


def test_ask_json_prints_the_contract_fields(bot_toml: Path) -> None:
    result = run(bot_toml, "ask", "--json", "чи потрібна мені медична страховка?")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["lang"] == "uk" and reply["action"] == "answer"
    assert reply["topic"] == "health" and reply["entry"] == "health-insurance-obligatory"
    assert 0 < reply["confidence"] <= 1 and reply["suggestions"] == []
    assert reply["text"].startswith("Так.")
    assert set(reply) == {"lang", "action", "topic", "entry", "confidence", "suggestions", "text"}


def test_ask_reads_one_message_per_line_in_order_and_writes_no_state(bot_toml: Path) -> None:
    lines = ["he will kill me", "hello", "pizza recipe please", "where is the information centre", "", "how much is it"]
    result = run(bot_toml, "ask", "--json", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(lines)
    assert replies[0]["action"] == "emergency" and "112" in replies[0]["text"]
    assert replies[1]["action"] == "smalltalk"
    assert replies[2]["action"] in ("handoff", "suggest")
    assert replies[3]["topic"] == "contacts"
    assert replies[4]["action"] == "smalltalk"
    suggest = replies[5]
    if suggest["action"] == "suggest":
        assert suggest["entry"] == suggest["suggestions"][0]
    assert not (bot_toml.parent / "data").exists()


def test_ask_with_a_chosen_language_answers_in_it(bot_toml: Path) -> None:
    result = run(bot_toml, "ask", "--json", "--lang", "fa", "where can I learn bulgarian")
    reply = json.loads(result.stdout)
    assert reply["lang"] == "fa" and reply["entry"] == "education-bulgarian-course"


def test_ask_rejects_an_unknown_language(bot_toml: Path) -> None:
    result = run(bot_toml, "ask", "--lang", "xx", "hi")
    assert result.returncode == 2 and "--lang xx" in result.stderr


def test_a_scripted_chat_presses_buttons_and_keeps_state(bot_toml: Path) -> None:
    script = "/language\n4\nwhere can I find a job\n1\n/privacy\n"
    result = run(bot_toml, "chat", "--user", "u1", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  4. Українська" in out
    assert "Мова: Українська. Відтепер я відповідатиму цією мовою." in out
    assert "Інформаційні центри для мігрантів безкоштовно" in out  # the job answer, in the chosen language
    assert "Що ми зберігаємо" in out
    again = run(bot_toml, "chat", "--user", "u1", stdin="do I need health insurance\n")
    assert again.stdout.startswith("Так.")  # the language choice survived the restart
    assert (bot_toml.parent / "data" / "test.db").exists()


def test_forget_in_the_chat_erases_the_user(bot_toml: Path) -> None:
    run(bot_toml, "chat", "--user", "u2", stdin="/language\n3\n")
    result = run(bot_toml, "chat", "--user", "u2", stdin="/forget\nwhere can I find a job\n")
    assert "Готово" in result.stdout
    assert "The information centres for migrants give free individual advice" in result.stdout


def test_unanswered_questions_reach_the_admins(bot_toml: Path) -> None:
    run(bot_toml, "chat", "--user", "u3", stdin="can my cat get a passport\n")
    result = run(bot_toml, "kb", "unanswered")
    assert result.returncode == 0 and "can my cat get a passport" in result.stdout


def test_chat_survives_hostile_input(bot_toml: Path) -> None:
    script = "\n".join(["", "x" * 20_000, "\u202e\u0000", "<script>alert(1)</script>", "99", "/nonsense"]) + "\n"
    result = run(bot_toml, "chat", "--user", "u4", stdin=script)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    offer = "I do not have a reliable answer to that. A consultant can answer you personally, for free."
    firsts = [block.splitlines()[0] for block in result.stdout.strip().split("\n\n")]
    assert firsts == [offer, offer, offer, "I do not know that command. Try /help."]  # blank lines get nothing


def test_kb_validate_passes_on_the_real_base_and_fails_on_a_broken_one(bot_toml: Path, tmp_path: Path) -> None:
    good = run(bot_toml, "kb", "validate")
    assert good.returncode == 0, good.stdout
    assert "0 error(s)" in good.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "health.yaml").write_text("topic: health\ntitle: {en: x}\nentries:\n  - id: a\n    questions: 3\n")
    bad = run(bot_toml, "kb", "validate", str(broken))
    assert bad.returncode == 1
    assert f"{broken / 'health.yaml'}:5: questions must be a mapping" in bad.stdout


def test_kb_stats_counts_entries_paraphrases_and_verify(bot_toml: Path) -> None:
    result = run(bot_toml, "kb", "stats")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split() == ["topic", "entries", "q/bg", "q/en", "q/ru", "q/uk", "q/ar", "q/fa"]
    assert "entries marked verify" in result.stdout


def test_a_bad_config_names_the_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nretention_dayz = 3\n")
    result = run(config, "ask", "hi")
    assert result.returncode == 2
    assert f"{config}: [bot] retention_dayz: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_knowledge_base_stops_the_bot_with_path_and_line(tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "health.yaml").write_text("topic: [\n")
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nlanguages = ['en']\n")
    result = run(config, "ask", "hi")
    assert result.returncode == 2
    assert "health.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_and_purge(bot_toml: Path) -> None:
    assert run(bot_toml, "db", "upgrade").returncode == 0
    result = run(bot_toml, "db", "purge")
    assert result.returncode == 0 and "removed" in result.stdout


def test_eval_prints_tables_per_language_and_topic(bot_toml: Path) -> None:
    result = run(bot_toml, "eval", str(ROOT / "tests" / "data" / "dev.jsonl"))
    assert result.returncode == 0, result.stderr
    assert "By language" in result.stdout and "By expected topic" in result.stdout
    assert "emergency recall" in result.stdout
