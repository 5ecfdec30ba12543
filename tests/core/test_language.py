from __future__ import annotations

import pytest

from bot.core.engine import Engine

SAMPLES = [
    ("Къде мога да науча български?", "bg"),
    ("трябва ли ми здравна осигуровка", "bg"),
    ("where do I renew my residence card", "en"),
    ("Где продлить вид на жительство?", "ru"),
    ("нужна медицинская страховка", "ru"),
    ("Де продовжити посвідку?", "uk"),
    ("чи потрібна медична страховка", "uk"),
    ("وين بجدد الاقامة", "ar"),
    ("هل التأمين الصحي اجباري", "ar"),
    ("اقامتم را کجا تمدید کنم", "fa"),
    ("بیمه درمانی اجباری است؟", "fa"),
    ("gde prodlit vnzh", "ru"),
    ("nuzhna li strahovka", "ru"),
]


@pytest.mark.parametrize(("text", "language"), SAMPLES)
def test_the_language_of_a_text_is_detected(engine: Engine, text: str, language: str) -> None:
    assert engine.understand(text).lang == language


def test_transliterated_russian_is_marked_as_such(engine: Engine) -> None:
    detection = engine.understander.detector.detect("gde mozhno poluchit strahovku")
    assert detection.language == "ru" and detection.translit


def test_the_explicit_choice_wins_over_detection(engine: Engine) -> None:
    understanding = engine.understand("где найти работу", chosen="uk")
    assert understanding.lang == "uk" and understanding.language_source == "chosen"
    assert understanding.topic == "work"


def test_an_unsure_detection_yields_to_the_earlier_language_then_the_hint_then_the_default(engine: Engine) -> None:
    assert engine.understand("ok", previous="ru").lang == "ru"
    assert engine.understand("ok", hint="uk-UA").lang == "uk"
    assert engine.understand("😀").lang == "en"
    assert engine.understand("😀", hint="de").lang == "en"
