from __future__ import annotations

from bot.config import ClassifierSection
from bot.core.classifier import Match, decide, stem
from bot.core.engine import Engine

SETTINGS = ClassifierSection(answer_threshold=0.7, answer_margin=0.1, suggest_threshold=0.4, max_suggestions=3)


def m(entry: str, score: float, topic: str = "health") -> Match:
    return Match(entry, topic, score)


def test_a_clear_winner_is_answered() -> None:
    decision = decide([m("a", 0.9), m("b", 0.5)], SETTINGS)
    assert decision.action == "answer" and [x.entry_id for x in decision.matches] == ["a"]


def test_a_close_runner_up_turns_an_answer_into_a_suggestion() -> None:
    decision = decide([m("a", 0.9), m("b", 0.85), m("c", 0.8), m("d", 0.75)], SETTINGS)
    assert decision.action == "suggest"
    assert [x.entry_id for x in decision.matches] == ["a", "b", "c"]


def test_a_middling_score_is_a_suggestion_and_a_low_one_a_handoff() -> None:
    assert decide([m("a", 0.55)], SETTINGS).action == "suggest"
    assert decide([m("a", 0.2)], SETTINGS).action == "handoff"
    assert decide([], SETTINGS).action == "handoff"


def test_suggestions_far_below_the_best_are_left_out() -> None:
    decision = decide([m("a", 0.65), m("b", 0.3)], SETTINGS)
    assert [x.entry_id for x in decision.matches] == ["a"]


def test_stems_drop_inflection_and_the_arabic_article() -> None:
    assert stem("страховку") == stem("страховка")
    assert stem("insurance") == stem("insured")
    assert stem("المدرسة") == stem("مدرسة")


def test_misspelled_questions_find_their_entry(engine: Engine) -> None:
    for text, entry in [
        ("do i need helth insurnce", "health-insurance-obligatory"),
        ("обезательно ли страховатся", "health-insurance-obligatory"),
        ("were to renew my residnce permit", "residence-permit-where"),
    ]:
        understanding = engine.understand(text)
        assert entry == understanding.entry or entry in understanding.suggestions, (text, understanding)


def test_out_of_scope_chatter_gets_no_answer(engine: Engine) -> None:
    for text in ["what's the weather tomorrow", "кто выиграл матч", "یک جوک بگو", "pizza recipe", "asdfgh qwerty"]:
        assert engine.understand(text).action != "answer", text


def test_a_question_an_entry_lists_is_answered_by_it_whatever_the_case_and_punctuation(engine: Engine) -> None:
    entry = engine.understander.knowledge.entries["asylum-how-to-apply"]
    for question in (entry.questions["en"][-1], entry.questions["ru"][0]):
        understanding = engine.understand(f"  {question.upper()}?! ")
        assert (understanding.action, understanding.entry, understanding.confidence) == (
            "answer",
            "asylum-how-to-apply",
            1.0,
        ), question
