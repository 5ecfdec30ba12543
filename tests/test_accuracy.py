"""The understanding step on the labelled dev set in tests/data (a set we tuned on: these are dev figures; the
hold-out figure is in the README, measured once)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.core.engine import Engine
from bot.core.semantic import SemanticModel, training_examples
from bot.evaluation import Tally, evaluate, load_cases
from tests.conftest import LANGUAGES, ROOT

DEV = ROOT / "tests" / "data" / "dev.jsonl"


@pytest.fixture(scope="module")
def dev(engine: Engine) -> Tally:
    return evaluate(engine, load_cases(DEV, tuple(engine.knowledge.topics))).total


@pytest.mark.parametrize("name", ["dev.jsonl", "holdout.jsonl"])
def test_every_emergency_gets_112_and_no_more_than_1_percent_are_wrong_answers(engine: Engine, name: str) -> None:
    """The hold-out set was measured once as it came (README); these two checks hold on it since its fixes."""
    total = evaluate(engine, load_cases(ROOT / "tests" / "data" / name, tuple(engine.knowledge.topics))).total
    assert total.emergencies >= 60 and total.emergency_hits == total.emergencies
    assert total.wrong_answers <= 0.01 * total.topical


def test_dev_set_figures(dev: Tally) -> None:
    assert dev.topical >= 400
    assert dev.wrong_answers <= 0.01 * dev.topical
    assert dev.topic_right >= 0.90 * dev.topical
    assert dev.rejected >= 0.95 * dev.out_of_scope
    assert dev.false_alarms <= 0.03 * (dev.topical + dev.out_of_scope + dev.smalltalk + dev.foreign)
    assert dev.lang_right >= 0.98 * dev.labelled_lang
    assert dev.foreign_hits >= 0.8 * dev.foreign


def test_the_dev_set_covers_every_topic_in_every_language(engine: Engine) -> None:
    cases = load_cases(DEV, tuple(engine.knowledge.topics))
    covered = {(c.lang, c.expect) for c in cases}
    assert {(lang, topic) for lang in LANGUAGES for topic in engine.knowledge.topics} <= covered
    for lang in LANGUAGES:
        assert sum(c.lang == lang and c.expect == "emergency" for c in cases) >= 15, lang
    assert {c.expect for c in cases} >= {"out_of_scope", "smalltalk", "emergency", "foreign"}


@pytest.mark.parametrize("removed", ["uk", "fa"])
def test_a_language_without_paraphrases_still_reaches_its_topics(engine: Engine, removed: str) -> None:
    """Cross-lingual: with every title, paraphrase and keyword in `removed` taken out of training, its
    questions are classified from the other languages' paraphrases alone."""
    understander = engine.understander
    assert understander.semantic is not None and understander.encoder is not None
    knowledge = engine.knowledge
    kept = {
        entry_id: replace(
            entry,
            titles={k: v for k, v in entry.titles.items() if k != removed},
            questions={k: v for k, v in entry.questions.items() if k != removed},
            keywords={k: v for k, v in entry.keywords.items() if k != removed},
        )
        for entry_id, entry in knowledge.entries.items()
    }
    store = understander.semantic.store
    model = SemanticModel(
        store,
        training_examples(replace(knowledge, entries=kept)),
        {e.id: e.topic for e in kept.values()},
        cache_dir=None,
    )
    cases = [c for c in load_cases(DEV, tuple(knowledge.topics)) if c.lang == removed and c.expect in knowledge.topics]
    vectors = understander.encoder.encode([c.text for c in cases], timeout=60.0)
    assert vectors is not None
    right = 0
    for case, vector in zip(cases, vectors, strict=True):
        probabilities = model.predict(np.asarray(vector)[None, :]).probabilities
        topics = {t: p for t, p in probabilities.items() if t in knowledge.topics}
        right += max(topics, key=topics.__getitem__) == case.expect
    print(f"\n{removed}: {right}/{len(cases)} = {right / len(cases):.1%} of the topic questions reach their topic")
    assert right >= 0.75 * len(cases)
