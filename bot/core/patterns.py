"""A tiny phrase-pattern language shared by the safety and small-talk lexicons.

Lexicons are written by people, in plain words, for every language; they are folded exactly like user text
(bot.core.text.fold) so that 'убьёт' and 'убьет', or 'يقتلني' and 'یقتلنی', match the same way.
In a pattern: `word*` matches a word starting with `word`, `*word*` a word containing it, and words may have up
to two other words between them ('kill me' also matches 'kill all of me' but not a sentence apart).
"""

from __future__ import annotations

import re

from bot.core.text import fold

_GAP = r"(?:\s+\S+){0,2}\s+"


def _word(token: str) -> str:
    infix = token.startswith("*")
    prefix = token.endswith("*")
    core = re.escape(fold(token.strip("*")).replace(" ", ""))
    if infix:
        return rf"\S*{core}\S*"
    if prefix:
        return rf"{core}\S*"
    return core


def compile_phrases(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex that matches any of the phrases inside folded text, on word boundaries."""
    parts = []
    for phrase in phrases:
        tokens = phrase.split()
        if tokens:
            parts.append(_GAP.join(_word(t) for t in tokens))
    if not parts:
        return None
    return re.compile(r"(?:^|\s)(?:" + "|".join(parts) + r")(?=\s|$)")
