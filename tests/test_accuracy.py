"""The issue's accuracy targets, measured on the labelled sets in tests/data."""

from __future__ import annotations

import pytest

from bot.core.engine import Engine
from bot.core.knowledge import TOPICS
from bot.evaluation import Tally, evaluate, load_cases
from tests.conftest import LANGUAGES, ROOT


def tally(engine: Engine, name: str) -> Tally:
    return evaluate(engine, load_cases(ROOT / "tests" / "data" / name)).total


@pytest.mark.parametrize("name", ["dev.jsonl", "holdout.jsonl", "blind.jsonl"])
def test_safety_targets_hold_on_every_set(engine: Engine, name: str) -> None:
    total = tally(engine, name)
    assert total.emergencies and total.emergency_hits == total.emergencies
    assert total.wrong_answers <= 0.02 * total.topical
    assert total.rejected >= 0.9 * total.out_of_scope


def test_dev_set_meets_the_accuracy_targets(engine: Engine) -> None:
    total = tally(engine, "dev.jsonl")
    assert total.topical + total.out_of_scope + total.emergencies + total.smalltalk >= 200
    assert total.topic_right >= 0.95 * total.topical
    assert total.lang_right >= 0.99 * total.labelled_lang


def test_the_dev_set_covers_every_topic_in_every_language() -> None:
    cases = load_cases(ROOT / "tests" / "data" / "dev.jsonl")
    covered = {(c.lang, c.expect) for c in cases}
    assert {(lang, topic) for lang in LANGUAGES for topic in TOPICS} <= covered
    assert {c.expect for c in cases} >= {"out_of_scope", "smalltalk", "emergency"}
