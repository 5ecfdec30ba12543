"""The phrase patterns of the crisis and small-talk lexicons: the trie-shaped regex matches exactly what a plain
alternation of the phrases matches, on every message of the labelled sets and on the phrases themselves."""

from __future__ import annotations

import json
import re

from bot.core.engine import Engine
from bot.core.knowledge import KnowledgeBase
from bot.core.patterns import compile_phrases
from bot.core.text import clean_input, fold, latin_to_cyrillic
from tests.conftest import ROOT

GAP = r"(?:\s+\S+){0,2}\s+"


def plain(phrases: list[str]) -> re.Pattern[str]:
    """The lexicon as one flat alternation, written out the obvious way: the oracle."""

    def word(token: str) -> str:
        core = re.escape(fold(token.strip("*")).replace(" ", ""))
        if token.startswith("*"):
            return rf"\S*{core}\S*"
        return rf"{core}\S*" if token.endswith("*") else core

    alternatives = [GAP.join(word(t) for t in phrase.split()) for phrase in phrases if phrase.split()]
    return re.compile(r"(?:^|\s)(?:" + "|".join(alternatives) + r")(?=\s|$)")


def samples(knowledge: KnowledgeBase) -> list[str]:
    texts = [
        json.loads(line)["text"]
        for name in ("dev.jsonl", "holdout.jsonl")
        for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
    ]
    lexicon = [p for c in knowledge.crisis for p in c.phrases] + [p for k in knowledge.smalltalk for p in k.phrases]
    near_misses = [p.replace("*", "") + "x" for p in lexicon] + ["a " + p.replace("*", "") + " b" for p in lexicon]
    folded = [fold(clean_input(t)) for t in texts + lexicon + near_misses]
    return folded + [fold(latin_to_cyrillic(t)) for t in folded]


def test_the_trie_regex_matches_what_a_plain_alternation_matches(engine: Engine) -> None:
    knowledge = engine.knowledge
    texts = samples(knowledge)
    lexicons = [list(c.phrases) for c in knowledge.crisis] + [list(k.phrases) for k in knowledge.smalltalk]
    matched = 0
    for phrases in lexicons:
        fast, oracle = compile_phrases(phrases), plain(phrases)
        assert fast is not None
        for text in texts:
            found = oracle.search(text) is not None
            assert (fast.search(text) is not None) == found, (phrases[:3], text)
            matched += found
    assert matched > len(texts) // 2  # the samples exercise matches, not only misses


def test_stars_gaps_and_shared_starts() -> None:
    pattern = compile_phrases(["kill me", "kill*", "*bomb*", "help me now", "help"])
    assert pattern is not None
    for text, found in [
        ("he will kill all of me", True),
        ("killing", True),
        ("skill", False),
        ("a timebomber here", True),
        ("help", True),
        ("helpme", False),
        ("help me right now", True),
        ("helper", False),
        ("", False),
    ]:
        assert (pattern.search(text) is not None) is found, text
    assert compile_phrases([]) is None and compile_phrases(["  "]) is None
