"""Whether a message has any word the bot has seen: a check on the crisis classifier's probability.

The classifier's crisis probability runs high far from anything it was trained on: a line of made-up words
("vesoj zubod") got the emergency reply 44% of the time. A message none of whose words (by their first letters,
as the lexical index stems them) occurs anywhere in the knowledge base, the crisis lexicon and exemplars, the
small talk or the bot's own texts is out of what that probability knows, and it is not trusted there. The crisis
lexicon and the nearness to a crisis exemplar are not gated: they still catch such a message when they can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.classifier import stem
from bot.core.knowledge import KnowledgeBase
from bot.core.text import fold

_WORD = re.compile(r"\w+")
MIN_LENGTH = 3  # shorter tokens (articles, "ok", "da") say nothing of whether a message means something


def words_of(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if len(w) >= MIN_LENGTH and not w.isdigit()]


class Vocabulary:
    def __init__(self, knowledge: KnowledgeBase, texts: Iterable[str] = ()) -> None:
        """Every word of the knowledge base in every language, and `texts` (the catalogs' messages)."""
        sources: list[str] = list(texts)
        for entry in knowledge.entries.values():
            sources += entry.titles.values()
            sources += entry.answers.values()
            sources += [q for questions in entry.questions.values() for q in questions]
            sources += [k for keywords in entry.keywords.values() for k in keywords]
        for category in knowledge.crisis:
            sources += [p.replace("*", "") for p in category.phrases]
            sources += category.exemplars
        sources += [p.replace("*", "") for kind in knowledge.smalltalk for p in kind.phrases]
        sources += knowledge.out_of_scope
        self._stems = frozenset(stem(word) for text in sources for word in words_of(text))

    def familiar(self, *forms: str) -> bool:
        """Does any form of the message (as written, its other-script reading) have a word the bot knows?"""
        return any(stem(word) in self._stems for form in forms for word in words_of(form))
