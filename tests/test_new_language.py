"""Adding a language takes files only: its text in the knowledge base, a catalog, and its code in bot.toml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bot.i18n import TRANSLATIONS_DIR
from tests.conftest import run_cli_args
from tests.kb_files import ENTRY, small_base, write

GERMAN = {
    "title: {{en: Is it one?, bg: Едно ли е?}}": "title: {{en: Is it one?, bg: Едно ли е?, de: Ist es eins?}}",
    "      bg: [едно, две, три]\n": "      bg: [едно, две, три]\n      de: [QUESTIONS]\n",
    "      bg: Отговор.\n": "      bg: Отговор.\n"
    "      de: Ja, die Krankenversicherung ist Pflicht. Rufen Sie {{contact:animus}} an.\n",
}
CATALOG = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: de\\n"

msgid "Topics"
msgstr "Themen"

msgid "Ask a consultant"
msgstr "Eine Beraterin fragen"
"""


def german(
    text: str, questions: str = "brauche ich eine krankenversicherung, muss ich versichert sein, krankenkasse pflicht"
) -> str:
    for old, new in GERMAN.items():
        text = text.replace(old, new.replace("QUESTIONS", questions))
    return text


def test_a_seventh_language_from_files_alone(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    work = german(ENTRY, "ich suche arbeit, wo finde ich einen job, stellenangebote in sofia")
    small_base(knowledge, health=german(ENTRY).format(id="health-one"), work=work.format(id="work-one"))
    for name in ("topics.yaml", "organisations.yaml"):
        path = knowledge / name
        text = path.read_text(encoding="utf-8")
        text = text.replace("bg: Здраве}", "bg: Здраве, de: Gesundheit}").replace(
            "bg: Работа}", "bg: Работа, de: Arbeit}"
        )
        text = text.replace("bg: Линия Анимус}", "bg: Линия Анимус, de: Animus-Telefon}")
        text = text.replace("bg: Спешен номер}", "bg: Спешен номер, de: Notruf}")
        text = text.replace('bg: "Полиция, линейка"}', 'bg: "Полиция, линейка", de: "Polizei, Rettung"}')
        text = text.replace("bg: Насилие}", "bg: Насилие, de: Gewalt}")
        text = text.replace('bg: "9:00–21:00"}', 'bg: "9:00–21:00", de: "9–21 Uhr"}')
        path.write_text(text, encoding="utf-8")
    for language in ("en", "bg"):  # a translations_dir holds every configured language's catalog
        shutil.copytree(TRANSLATIONS_DIR / language, tmp_path / "translations" / language)
    catalogs = tmp_path / "translations" / "de" / "LC_MESSAGES"
    catalogs.mkdir(parents=True)
    write(catalogs, "messages.po", CATALOG)
    config = write(
        tmp_path,
        "bot.toml",
        f"""\
        [bot]
        languages = ["en", "bg", "de"]
        knowledge_dir = "{knowledge}"
        translations_dir = "{tmp_path / "translations"}"
        database_url = "sqlite+aiosqlite:///bot.db"
        """,
    )
    validated = subprocess.run(run_cli_args(config, "kb", "validate"), capture_output=True, text=True, timeout=120)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    chat = subprocess.run(
        run_cli_args(config, "chat", "--lang", "de"),
        input="brauche ich eine krankenversicherung\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert chat.returncode == 0, chat.stderr
    assert (
        "Ja, die Krankenversicherung ist Pflicht. Rufen Sie Animus-Telefon: 0800 18 676 (9–21 Uhr) an." in chat.stdout
    )
    assert "Themen" in chat.stdout and "Eine Beraterin fragen" in chat.stdout
