from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bot.core.knowledge import TOPICS, KnowledgeError, check_knowledge, load_knowledge
from tests.conftest import LANGUAGES, ROOT

GOOD_ENTRY = """\
  - id: {id}
    questions:
      en: [one, two, three]
      bg: [едно, две, три]
    answer:
      en: An answer.
      bg: Отговор.
    source: "facts.md"
    reviewed: 22 Nov 2026
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def topic_file(topic: str, entries: str) -> str:
    return f"topic: {topic}\ntitle:\n  en: Title\n  bg: Заглавие\nentries:\n{entries}"


def problems_of(folder: Path) -> list[str]:
    _, problems = check_knowledge(folder, ("en", "bg"), today=dt.date(2026, 11, 22))
    return [str(p) for p in problems if p.error]


def test_the_real_knowledge_base_is_complete() -> None:
    knowledge, problems = check_knowledge(ROOT / "knowledge", LANGUAGES)
    assert [p for p in problems if p.error] == []
    assert len(knowledge.entries) >= 45
    assert list(knowledge.topics) == list(TOPICS)
    for topic in knowledge.topics.values():
        assert len(topic.entries) >= 4, topic.id
        assert set(topic.titles) >= set(LANGUAGES)
    for entry in knowledge.entries.values():
        for language in LANGUAGES:
            assert len(entry.questions[language]) >= 3, (entry.id, language)
            assert 0 < len(entry.answers[language]) <= 4096


def test_violence_and_trafficking_answers_name_112_and_a_hotline() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    hotlines = {"violence": ("0800 18 676", "0800 11 977"), "trafficking": ("0800 20 100",)}
    for topic, numbers in hotlines.items():
        for entry_id in knowledge.topics[topic].entries:
            for language, answer in knowledge.entries[entry_id].answers.items():
                assert "112" in answer, (entry_id, language)
                assert any(n in answer for n in numbers), (entry_id, language)


def test_a_good_file_has_no_errors(tmp_path: Path) -> None:
    write(tmp_path, "health.yaml", topic_file("health", GOOD_ENTRY.format(id="health-one")))
    assert problems_of(tmp_path) == []


def test_broken_yaml_is_reported_the_bracket_opened_and_where_the_parser_stopped(tmp_path: Path) -> None:
    text = "topic: health\ntitle: {en: x}\nentries:\n  - id: a-b\n    questions: {en: [one, two,\n      three\n    answer: {en: hi}\n"
    path = write(tmp_path, "health.yaml", text)
    opened, stopped = problems_of(tmp_path)
    assert opened.startswith(f"{path}:5: broken YAML") and "starts here" in opened
    assert stopped.startswith(f"{path}:7: broken YAML")


def test_a_duplicate_id_names_where_it_was_first(tmp_path: Path) -> None:
    write(tmp_path, "health.yaml", topic_file("health", GOOD_ENTRY.format(id="health-one")))
    second = write(tmp_path, "work.yaml", topic_file("work", GOOD_ENTRY.format(id="health-one")))
    assert problems_of(tmp_path) == [f"{second}:6: duplicate id 'health-one' (first at {tmp_path / 'health.yaml'}:6)"]


def test_a_broken_entry_is_reported_once_not_in_every_entry_that_names_it(tmp_path: Path) -> None:
    broken = GOOD_ENTRY.format(id="health-one").replace("    reviewed: 22 Nov 2026\n", "")
    path = write(tmp_path, "health.yaml", topic_file("health", broken))
    linking = GOOD_ENTRY.format(id="work-one") + "    related: [health-one]\n"
    write(tmp_path, "work.yaml", topic_file("work", linking))
    assert problems_of(tmp_path) == [f"{path}:6: entry is missing 'reviewed'"]


def test_a_wrong_type_names_the_key_and_line(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="health-one").replace("en: [one, two, three]", "en: just one string")
    path = write(tmp_path, "health.yaml", topic_file("health", entry))
    assert problems_of(tmp_path) == [f"{path}:8: questions.en must be a list"]


def test_a_missing_language_is_an_error(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="health-one").replace("      bg: Отговор.\n", "")
    path = write(tmp_path, "health.yaml", topic_file("health", entry))
    assert problems_of(tmp_path) == [f"{path}:10: answer: missing language 'bg'"]


def test_a_duplicate_id_across_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "health.yaml", topic_file("health", GOOD_ENTRY.format(id="same-id")))
    path = write(tmp_path, "work.yaml", topic_file("work", GOOD_ENTRY.format(id="same-id")))
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{path}:6: duplicate id 'same-id'")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    source:", "    colour: red\n    source:"), "unknown key 'colour'"),
        (("reviewed: 22 Nov 2026", "reviewed: yesterday"), "reviewed: 'yesterday' is not a date"),
        (("reviewed: 22 Nov 2026", "reviewed: 2030-01-01"), "is in the future"),
        (("    source:", "    related: [no-such-entry]\n    source:"), "related id 'no-such-entry' is no entry"),
        (("en: An answer.", "en: ''"), "answer.en is empty"),
        (("en: An answer.", "en: " + "x" * 5000), "more than 4096"),
        (("en: [one, two, three]", "en: [one, two]"), "at least 3 needed"),
        (("  - id: health-one", "  - id: Not A Slug"), "must be a slug"),
    ],
)
def test_schema_problems_are_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    write(tmp_path, "health.yaml", topic_file("health", GOOD_ENTRY.format(id="health-one").replace(*change)))
    problems = problems_of(tmp_path)
    assert len(problems) == 1 and message in problems[0], problems


def test_an_unknown_topic_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pets.yaml", topic_file("pets", GOOD_ENTRY.format(id="pets-one")))
    assert "unknown topic 'pets'" in problems_of(tmp_path)[0]


def test_verify_and_old_reviews_are_warnings_not_errors(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="health-one").replace("reviewed: 22 Nov 2026", "reviewed: 2024-01-01\n    verify: true")
    write(tmp_path, "health.yaml", topic_file("health", entry))
    _, problems = check_knowledge(tmp_path, ("en", "bg"), today=dt.date(2026, 11, 22))
    warnings = [p.message for p in problems if not p.error]
    assert [p for p in problems if p.error] == []
    assert any("verify" in w for w in warnings)
    assert any("over 12 months" in w for w in warnings)


def test_load_knowledge_refuses_a_base_with_errors(tmp_path: Path) -> None:
    write(tmp_path, "health.yaml", "topic: [")
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(tmp_path, ("en",))
    assert "health.yaml:" in str(error.value)
