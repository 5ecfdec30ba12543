"""Which configured language a message is written in.

A character n-gram naive Bayes model, trained at start-up on the knowledge base itself (questions, keywords,
titles; answers are long and added time, not accuracy), the interface catalogs and the function words, so that
adding a language is adding its text, not code. Latin-script Russian, Ukrainian and Bulgarian are learned from a
transliteration of their own text; languages the bot does not speak from samples (bot/data/foreign.yaml).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import yaml

from bot.core.text import cyrillic_to_latin, letters_lower, script_of

FOREIGN_FILE = Path(__file__).resolve().parent.parent / "data" / "foreign.yaml"
_SMOOTHING = 0.5
WORD_WEIGHT = 4.0  # a whole known word outweighs its letters: "благодаря" is Bulgarian even if "ря" is not
TRANSLIT_PRIOR = -3.0  # log-odds against reading Latin text as transliterated Cyrillic: it takes some evidence
_TEMPERATURE = 2.0  # naive Bayes is overconfident; soften it so a two-word message is not "certain"


@dataclass(frozen=True)
class Detection:
    language: str | None
    confidence: float
    translit: bool = False  # a Cyrillic language typed in Latin letters
    foreign: bool = False  # a language the bot does not speak (bot/data/foreign.yaml)


@dataclass
class _Profile:
    language: str
    translit: bool
    counts: Counter[str]
    foreign: bool = False
    # every seen gram's smoothed log-probability, whole words already weighted, and the two values all unseen
    # grams share: computed once, so that scoring a message is a lookup per gram
    log_probs: dict[str, float] = field(default_factory=dict)
    unseen_letters: float = 0.0
    unseen_word: float = 0.0

    def fit(self, vocabulary: int, weight: float = 1.0) -> None:
        denominator = sum(self.counts.values()) * weight + _SMOOTHING * vocabulary
        self.log_probs = {
            gram: math.log((count * weight + _SMOOTHING) / denominator) * (WORD_WEIGHT if gram[0] == "<" else 1.0)
            for gram, count in self.counts.items()
        }
        self.unseen_letters = math.log(_SMOOTHING / denominator)
        self.unseen_word = self.unseen_letters * WORD_WEIGHT

    def score(self, letters: list[str], words: list[str]) -> float:
        get = self.log_probs.get
        return (
            sum(map(get, letters, repeat(self.unseen_letters)))
            + sum(map(get, words, repeat(self.unseen_word)))
            + (TRANSLIT_PRIOR if self.translit else 0.0)
        )


def _grams(text: str) -> list[str]:
    """Character 1-3 grams of each word (with its edges), plus the whole word: a known word is the strongest
    evidence."""
    grams: list[str] = []
    for word in text.split():
        grams.append(f"<{word}>")
        grams.extend(word)
        padded = f" {word} "
        grams.extend(padded[i : i + 2] for i in range(len(padded) - 1))
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def foreign_samples(path: Path = FOREIGN_FILE) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


class LanguageDetector:
    def __init__(self, samples: dict[str, list[str]], foreign: dict[str, str] | None = None) -> None:
        """`samples` maps each configured language to texts written in it; `foreign` languages the bot does not
        speak to a sample of each, so that they are recognised rather than guessed as one it speaks."""
        self._profiles: dict[str, list[_Profile]] = {}
        vocabulary: set[str] = set()
        for language, text in (foreign or {}).items():
            lowered = letters_lower(text)
            self._add(script_of(lowered), _Profile(language, False, Counter(_grams(lowered)), True), vocabulary)
        for language, texts in samples.items():
            text = letters_lower(" ".join(dict.fromkeys(texts)))  # a repeated text teaches nothing new
            script = script_of(text[:5000])
            self._add(script, _Profile(language, False, Counter(_grams(text))), vocabulary)
            if script == "cyrillic":
                self._add("latin", _Profile(language, True, Counter(_grams(cyrillic_to_latin(text)))), vocabulary)
        spoken = [sum(p.counts.values()) for ps in self._profiles.values() for p in ps if not p.foreign]
        typical = sorted(spoken)[len(spoken) // 2] if spoken else 0
        for profiles in self._profiles.values():
            for profile in profiles:
                # a short sample stands for a whole language: weigh it like the others, or every unseen gram
                # would sink it under the smoothing that the big profiles can afford
                profile.fit(
                    max(len(vocabulary), 1), typical / max(sum(profile.counts.values()), 1) if profile.foreign else 1.0
                )

    def _add(self, script: str, profile: _Profile, vocabulary: set[str]) -> None:
        vocabulary.update(profile.counts)
        self._profiles.setdefault(script, []).append(profile)

    def languages_for_script(self, script: str) -> list[str]:
        return [p.language for p in self._profiles.get(script, []) if not p.translit and not p.foreign]

    def detect(self, text: str) -> Detection:
        lowered = letters_lower(text)
        profiles = self._profiles.get(script_of(lowered), [])
        grams = _grams(lowered)
        if not profiles or not grams:
            return Detection(None, 0.0)
        if len(profiles) == 1:
            only = profiles[0]
            return Detection(only.language, 1.0, only.translit, only.foreign)
        letters = [g for g in grams if g[0] != "<"]
        words = [g for g in grams if g[0] == "<"]
        scores = [p.score(letters, words) for p in profiles]
        best = max(scores)
        weights = [math.exp((s - best) / _TEMPERATURE) for s in scores]
        top = max(range(len(profiles)), key=lambda i: scores[i])
        best_profile = profiles[top]
        return Detection(
            best_profile.language, weights[top] / sum(weights), best_profile.translit, best_profile.foreign
        )
