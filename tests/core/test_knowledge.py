from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, Status, check_knowledge, load_knowledge
from bot.core.knowledge.contacts import phone_numbers
from bot.core.replies import Replies
from bot.i18n import I18n
from tests.conftest import LANGUAGES, ROOT
from tests.kb_files import ENTRY, SOURCES, small_base, write

TODAY = dt.date(2026, 11, 22)


def problems_of(folder: Path) -> list[str]:
    _, problems = check_knowledge(folder, ("en", "bg"), today=TODAY)
    return [str(p) for p in problems if p.error]


def test_the_real_knowledge_base_meets_the_content_rules() -> None:
    knowledge, problems = check_knowledge(ROOT / "knowledge", LANGUAGES)
    assert [p for p in problems if p.error] == []
    assert len(knowledge.entries) >= 80
    assert "temporary-protection" in knowledge.topics
    for topic in knowledge.topics.values():
        assert len(topic.entries) >= 6, topic.id
        assert set(topic.titles) >= set(LANGUAGES)
    assert sum(bool(e.variants) for e in knowledge.entries.values()) >= 15
    jargon = ("knowledge base", "база знани", "базата", "entry", "database")
    for entry in knowledge.entries.values():
        for language in LANGUAGES:
            assert len(entry.questions[language]) >= 6, (entry.id, language)
            title = entry.titles[language]
            assert title[:1].isupper() or language in ("ar", "fa"), (entry.id, title)
            assert title.endswith(("?", "؟")), (entry.id, title)
            assert 0 < len(entry.answers[language]) <= 4096
            assert "{contact:" not in entry.answers[language]
        assert not any(j in entry.answers["en"].lower() for j in jargon), entry.id


def test_temporary_protection_dates_carry_a_review_date() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    for entry in knowledge.entries.values():
        if "March 2027" in entry.answers["en"]:  # the end date of temporary protection
            assert entry.review_by is not None, entry.id


def test_contacts_render_the_localised_line_and_violence_answers_give_a_hotline() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    animus = knowledge.organisations["animus"]
    assert "0800 18 676" in animus.line("bg", "en") and animus.names["bg"] in animus.line("bg", "en")
    for entry_id in knowledge.topics["violence"].entries:
        for language, answer in knowledge.entries[entry_id].answers.items():
            assert any(n in answer for n in ("0800 18 676", "0800 11 977", "112", "116 111")), (entry_id, language)


def test_a_small_good_base_has_no_errors_and_renders_contacts(tmp_path: Path) -> None:
    small_base(tmp_path)
    assert problems_of(tmp_path) == []
    knowledge = load_knowledge(tmp_path, ("en", "bg"))
    assert knowledge.entries["health-one"].answers["en"] == "An answer. Call Animus line: 0800 18 676 (9:00–21:00)."
    assert [c.id for c in knowledge.crisis] == ["violence"]
    assert "on menya ubet" in knowledge.crisis[0].phrases


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    source: [facts]", "    variants:\n      refugee: {{en: x, bg: y}}\n    source: [facts]"),
            "variants: unknown status 'refugee'",
        ),
        (("{{contact:animus}}", "{{contact:nobody}}"), "{contact:nobody}: no such organisation"),
        (("source: [facts]", "source: [nowhere]"), "source 'nowhere' is not in sources.yaml"),
        (("en: An answer.", "en: Call 0888 123 456."), "phone number '0888 123 456' is quoted by none of its sources"),
        (
            ("    reviewed: 22 Nov 2026", "    reviewed: 22 Nov 2026\n    review_by: soon"),
            "review_by: 'soon' is not a date",
        ),
        (("title: {{en: Is it one?, bg: Едно ли е?}}", "title: {{en: Is it one?}}"), "title: missing language 'bg'"),
        (("    source:", "    colour: red\n    source:"), "unknown key 'colour'"),
        (("reviewed: 22 Nov 2026", "reviewed: 2030-01-01"), "is in the future"),
        (("    source:", "    related: [no-such-entry]\n    source:"), "related id 'no-such-entry' is no entry"),
        (("en: [one, two, three]", "en: [one, two]"), "at least 3 needed"),
        (("  - id: {id}", "  - id: Not A Slug"), "must be a slug"),
    ],
)
def test_bad_input_is_one_path_line_message(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    small_base(tmp_path, health=ENTRY.replace(*change).format(id="health-one"))
    problems = problems_of(tmp_path)
    assert len(problems) == 1 and message in problems[0], problems
    assert problems[0].startswith(f"{tmp_path / 'health.yaml'}:")
    with pytest.raises(KnowledgeError) as refused:
        load_knowledge(tmp_path, ("en", "bg"))
    assert message in str(refused.value)


def test_a_variant_answers_its_status_and_the_general_answer_the_rest(tmp_path: Path) -> None:
    entry = ENTRY.replace(
        "    source: [facts]",
        "    variants:\n      asylum_seeker: {{en: For seekers., bg: За търсещи.}}\n    source: [facts]",
    )
    small_base(tmp_path, health=entry.format(id="health-one"))
    one = load_knowledge(tmp_path, ("en", "bg")).entries["health-one"]
    assert one.answer_for("en", Status.ASYLUM_SEEKER) == "For seekers."
    assert one.answer_for("en", Status.EU_CITIZEN).startswith("An answer.")
    assert one.answer_for("bg", None) == "Отговор."


def test_an_organisation_phone_needs_a_quoting_source(tmp_path: Path) -> None:
    small_base(tmp_path)
    path = write(tmp_path, "sources.yaml", SOURCES.replace('quotes: ["112", "0800 18 676"]', 'quotes: ["112"]'))
    problems = problems_of(tmp_path)
    assert any("organisations.yaml" in p and "'0800 18 676' is quoted by none" in p for p in problems), problems
    assert path.exists()


def test_a_crisis_contact_must_exist(tmp_path: Path) -> None:
    small_base(tmp_path)
    path = write(
        tmp_path, "crisis.yaml", "categories:\n  - id: violence\n    contacts: [ghost]\n    phrases: {en: [kill me]}\n"
    )
    assert problems_of(tmp_path) == [f"{path}:3: contacts: 'ghost' is not in organisations.yaml"]


def test_a_topic_file_needs_its_topic_in_topics_yaml(tmp_path: Path) -> None:
    small_base(tmp_path)
    path = write(tmp_path, "pets.yaml", "topic: pets\nentries: []\n")
    assert problems_of(tmp_path) == [f"{path}:1: topic 'pets' is not in topics.yaml (topics: health, work)"]


def test_review_by_warns_30_days_before_and_verify_sources_mark_the_entry(tmp_path: Path) -> None:
    soon = ENTRY.replace("    reviewed: 22 Nov 2026", "    reviewed: 22 Nov 2026\n    review_by: 10 Dec 2026")
    small_base(
        tmp_path,
        health=soon.format(id="health-one"),
        work=ENTRY.replace("source: [facts]", "source: [old-page]").format(id="work-one"),
    )
    knowledge, problems = check_knowledge(tmp_path, ("en", "bg"), today=TODAY)
    assert [p for p in problems if p.error] == []
    assert any("review_by 2026-12-10 is within 30 days" in p.message for p in problems if not p.error)
    assert knowledge.entries["work-one"].verify and not knowledge.entries["health-one"].verify
    assert knowledge.due(TODAY) == [("health-one", dt.date(2026, 12, 10))]


def test_broken_yaml_names_where_the_bracket_opened_and_where_the_parser_stopped(tmp_path: Path) -> None:
    small_base(tmp_path)
    text = (
        "topic: health\nentries:\n  - id: health-b\n    questions: {en: [one, two,\n      three\n    answer: {en: hi}\n"
    )
    path = write(tmp_path, "health.yaml", text)
    opened, stopped = problems_of(tmp_path)
    assert opened.startswith(f"{path}:4: broken YAML") and "starts here" in opened
    assert stopped.startswith(f"{path}:6: broken YAML")


def test_phone_numbers_are_found_but_not_dates_or_small_numbers() -> None:
    assert phone_numbers("call 0800 18 676 or 112, or +359 2 980 39 67.") == ["0800 18 676", "112", "+359 2 980 39 67"]
    assert phone_numbers("within 14 days, from 1 to 30 June, since 1997, 4 March 2027 {contact:animus}") == []


def test_past_its_review_date_an_answer_says_it_may_have_changed_and_offers_a_consultant(tmp_path: Path) -> None:
    dated = ENTRY.replace("    reviewed: 22 Nov 2026", "    reviewed: 22 Nov 2026\n    review_by: 1 Dec 2026")
    small_base(tmp_path, health=dated.format(id="health-one"))
    replies = Replies(load_knowledge(tmp_path, ("en", "bg")), I18n(("en", "bg")), ("en", "bg"))
    before = replies.answer("en", "health-one", today=dt.date(2026, 11, 30))
    after = replies.answer("en", "health-one", today=dt.date(2026, 12, 2))
    assert before.text == "An answer. Call Animus line: 0800 18 676 (9:00–21:00)."
    assert after.text.startswith(before.text)
    assert "checked again on December 1, 2026 and may have changed since" in after.text
    assert "h" in [b.payload for b in after.buttons]
    bulgarian = replies.answer("bg", "health-one", today=dt.date(2026, 12, 2)).text
    assert bulgarian.startswith("Отговор.") and "2026" in bulgarian and "This information" not in bulgarian
