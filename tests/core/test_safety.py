from __future__ import annotations

import pytest

from bot.core.safety import SafetyCheck
from bot.core.text import fold

CRISES = [
    ("he is going to kill me", "violence"),
    ("my husband is beating me now", "violence"),
    ("ще ме убие, помогнете", "violence"),
    ("он убьёт меня", "violence"),
    ("чоловік погрожує мене вбити", "violence"),
    ("زوجي رح يقتلني", "violence"),
    ("شوهرم تهدید به قتل کرده", "violence"),
    ("i want to end my life", "suicide"),
    ("не искам да живея", "suicide"),
    ("хочу покончить с собой", "suicide"),
    ("не хочу жити", "suicide"),
    ("بدي انتحر", "suicide"),
    ("میخوام خودکشی کنم", "suicide"),
    ("my child is in danger", "child"),
    ("детето ми изчезна", "child"),
    ("ребенок пропал", "child"),
    ("дитина в небезпеці", "child"),
    ("ابني في خطر", "child"),
    ("بچه ام در خطر است", "child"),
    ("they locked me in and i cant escape", "trafficking"),
    ("меня заперли", "trafficking"),
    ("my friend is not breathing", "medical"),
]

QUESTIONS = [
    "where can I report domestic violence",
    "what is the emergency number",
    "how much is health insurance",
    "телефон за жертви на насилие",
    "my employer threatens to fire me",
    "угрожают депортацией",
    "ما هو رقم الطوارئ",
    "خشونت خانگی چیست",
]


@pytest.fixture(scope="module")
def safety() -> SafetyCheck:
    return SafetyCheck()


@pytest.mark.parametrize(("text", "category"), CRISES)
def test_a_crisis_is_caught_in_every_language(safety: SafetyCheck, text: str, category: str) -> None:
    alert = safety.check(fold(text))
    assert alert is not None and alert.category == category


@pytest.mark.parametrize("text", QUESTIONS)
def test_an_informational_question_is_not_a_crisis(safety: SafetyCheck, text: str) -> None:
    assert safety.check(fold(text)) is None


def test_spelling_variants_still_match(safety: SafetyCheck) -> None:
    assert safety.check(fold("ОН УБЬЕТ МЕНЯ!!!")) is not None
    assert safety.check(fold("بدي اقتل نفسى")) is not None  # Arabic ى for ي
