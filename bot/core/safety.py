"""Crisis detection's first layer: the phrases of `knowledge/crisis.yaml`, matched before anything else.

The lexicon errs towards recall: a false alarm costs one extra message with 112 in it, a miss can cost a life.
Every language's phrases are checked at once: a person in danger may write in a language the detector gets
wrong, or mix two. It needs no encoder, so it runs even when the semantic layer is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.knowledge import CrisisCategory
from bot.core.patterns import compile_phrases


@dataclass(frozen=True)
class Alert:
    category: str


class SafetyCheck:
    def __init__(self, categories: tuple[CrisisCategory, ...]) -> None:
        """`categories` in priority order: when several match, the first names the hotline."""
        self._patterns = []
        for category in categories:
            pattern = compile_phrases(list(category.phrases))
            if pattern is not None:
                self._patterns.append((category.id, pattern))

    def check(self, *folded: str) -> Alert | None:
        """The first category any of the folded forms (as written, transliterated) matches."""
        for category, pattern in self._patterns:
            if any(pattern.search(text) for text in folded):
                return Alert(category)
        return None
