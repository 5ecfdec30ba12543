"""Function words per language, from the package's data file `bot/data/languages.yaml`, in folded form."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.text import fold

LANGUAGES_FILE = Path(__file__).resolve().parent.parent / "data" / "languages.yaml"

FUNCTION_WORDS: dict[str, str] = {
    str(lang): str(words)
    for lang, words in yaml.safe_load(LANGUAGES_FILE.read_text(encoding="utf-8"))["function_words"].items()
}
STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(fold(text).split()) for lang, text in FUNCTION_WORDS.items()}
