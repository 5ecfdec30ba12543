"""The check on the crisis classifier's probability: made-up words are not familiar, the labelled sets are."""

from __future__ import annotations

import json

import pytest

from bot.core.actions import Action
from bot.core.engine import Engine
from bot.core.vocabulary import Vocabulary
from tests.conftest import ROOT


def test_made_up_words_are_unfamiliar_and_every_labelled_emergency_is_familiar(engine: Engine) -> None:
    vocabulary = Vocabulary(engine.knowledge)
    assert not vocabulary.familiar("vesoj zubod", "весой зубод")
    assert not vocabulary.familiar("12345 ??", "ok")  # digits and short tokens say nothing
    assert vocabulary.familiar("my flat is on fire")
    cases = [
        json.loads(line)
        for name in ("dev.jsonl", "holdout.jsonl")
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
    ]
    emergencies = [c["text"] for c in cases if c["expect"] == "emergency"]
    assert len(emergencies) > 100
    assert [text for text in emergencies if not vocabulary.familiar(text)] == []


def test_made_up_words_the_crisis_probability_would_alarm_get_no_emergency(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_up = ["raroj lum", "hagevud jebal tecah", "wugap tiw gucavim"]
    assert all(engine.understand(text).action is not Action.EMERGENCY for text in made_up)
    monkeypatch.setattr(engine.understander.vocabulary, "familiar", lambda *forms: True)  # the check undone
    assert all(engine.understand(text).action is Action.EMERGENCY for text in made_up)
