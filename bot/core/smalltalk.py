"""Greetings, thanks, goodbyes and "let me talk to a person" (knowledge/smalltalk.yaml): messages that are not
questions.

A message counts as small talk only when nothing else is left once these words and function words are taken
out, so "hi, do I need health insurance?" still goes to the FAQ.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.knowledge import SmallTalkKind
from bot.core.patterns import compile_phrases
from bot.core.stopwords import STOPWORDS


@dataclass(frozen=True)
class Intent:
    kind: str  # "human", "greeting", "thanks", "bye", "ack", "yes" or "no"


class SmallTalk:
    def __init__(self, kinds: tuple[SmallTalkKind, ...]) -> None:
        """`kinds` from knowledge/smalltalk.yaml, in the order they are tried."""
        compiled = {kind.id: compile_phrases(list(kind.phrases)) for kind in kinds}
        self._human = compiled.pop("human", None)
        self._chat = [(kind, pattern) for kind, pattern in compiled.items() if pattern is not None]
        self._stop = frozenset().union(*STOPWORDS.values())

    def check(self, folded: str) -> Intent | None:
        if self._human is not None and self._human.search(folded):
            return Intent("human")
        first: str | None = None
        rest = folded
        for kind, pattern in self._chat:
            stripped = pattern.sub(" ", rest)
            if stripped != rest:
                first = first or kind
                rest = stripped
        if first and all(word in self._stop for word in rest.split()):
            return Intent(first)
        return None
