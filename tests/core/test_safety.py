from __future__ import annotations

import pytest

from bot.core.engine import Engine
from bot.core.knowledge import load_knowledge
from bot.core.safety import SafetyCheck
from bot.core.text import fold
from bot.core.understanding import Understander
from tests.conftest import LANGUAGES, ROOT

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


# what a new user tried and got no 112 for, before the lexicon moved to knowledge/crisis.yaml and got its
# semantic layer
UNFORESEEN = [
    ("я хочу покінчити з життям", "uk"),
    ("someone is breaking into my flat right now", "en"),
    ("I have chest pain", "en"),
    ("I am pregnant and bleeding", "en"),
    ("my friend overdosed", "en"),
    ("on menya ub'et", "ru"),
    ("ya hochu umeret", "ru"),
]


@pytest.fixture(scope="module")
def safety() -> SafetyCheck:
    return SafetyCheck(load_knowledge(ROOT / "knowledge", LANGUAGES).crisis)


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


@pytest.mark.parametrize(("text", "written"), UNFORESEEN)
def test_what_a_new_user_tried_gets_112_first_in_their_language(engine: Engine, text: str, written: str) -> None:
    understanding = engine.understand(text, chosen="bg")
    assert understanding.action == "emergency" and understanding.lang == written
    message = engine.message_for(understanding)
    assert message.text == engine.replies.emergency(written, understanding.category or "").text
    assert "112" in message.text.split("\n")[0]


def test_the_lexicon_still_runs_when_the_encoder_is_down(engine: Engine) -> None:
    understander = engine.understander
    down = Understander(understander.knowledge, understander.bot, understander.settings, understander.replies._i18n)
    assert down.semantic is None
    assert down.understand("he is going to kill me").action == "emergency"
    assert down.understand("do i need health insurance").action in ("answer", "suggest")


def test_a_semantic_match_catches_wording_no_phrase_has(engine: Engine, safety: SafetyCheck) -> None:
    text = "there is a man with an axe in our corridor hitting the doors"
    assert safety.check(fold(text)) is None
    understanding = engine.understand(text)
    assert understanding.action == "emergency" and understanding.semantic


@pytest.mark.parametrize(
    "text",
    [
        "good morning",
        "thanks a lot",
        "write me a poem about the sea",
        "who won the match",
        "good evening everyone",  # the crisis classifier said suicide (0.83) before "everyone" was a greeting's
        "hello there friend",
        "привет всем",
    ],
)
def test_greetings_and_chatter_are_no_emergency(engine: Engine, text: str) -> None:
    assert engine.understand(text).action != "emergency"


@pytest.mark.parametrize("text", ["my friend overdosed", "friends help me he is beating me"])
def test_a_greetings_addressee_does_not_hide_an_emergency(engine: Engine, text: str) -> None:
    assert engine.understand(text).action == "emergency"
