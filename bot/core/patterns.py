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
_ANY = r"\S*"


def _word(token: str) -> list[str]:
    r"""A pattern word as regex atoms: its letters one by one (for the trie), `\S*` where the star stands."""
    core = [re.escape(letter) for letter in fold(token.strip("*")).replace(" ", "")]
    return ([_ANY] if token.startswith("*") else []) + core + ([_ANY] if token.endswith("*") else [])


def _trie(alternatives: list[list[str]]) -> str:
    """The alternatives as one regex shaped like a trie (a shared start written once), which Python's engine
    runs in a fraction of a flat alternation's time: at each position it tries one branch per first letter, not
    every phrase. It matches exactly what `(?:alt1|alt2|...)` matches."""
    ends = any(not atoms for atoms in alternatives)
    branches: dict[str, list[list[str]]] = {}
    for atoms in alternatives:
        if atoms:
            branches.setdefault(atoms[0], []).append(atoms[1:])
    if not branches:
        return ""
    body = "|".join(first + _trie(rests) for first, rests in branches.items())
    return f"(?:{body})?" if ends else f"(?:{body})" if len(branches) > 1 else body


def compile_phrases(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex that matches any of the phrases inside folded text, on word boundaries."""
    alternatives = []
    for phrase in phrases:
        words = [_word(token) for token in phrase.split()]
        atoms = [atom for number, word in enumerate(words) for atom in ([_GAP] if number else []) + word]
        if atoms:
            alternatives.append(atoms)
    if not alternatives:
        return None
    return re.compile(r"(?:^|\s)(?:" + _trie(alternatives) + r")(?=\s|$)")
