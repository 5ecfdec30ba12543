"""Text clean-up for matching: one place that decides which spellings count as the same word.

Users type on phones in a hurry: Arabic and Persian keyboards give different letters for the same sound, people
skip diacritics, write Russian in Latin letters, and paste control or bidi characters. Everything that compares
text goes through here, so the knowledge base and the user's message are folded the same way.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

TABLES_FILE = Path(__file__).resolve().parent.parent / "data" / "text.yaml"
_TABLES = yaml.safe_load(TABLES_FILE.read_text(encoding="utf-8"))
MAX_INPUT_CHARS = 2000  # enough for any real question; the rest of a 20,000-character paste is ignored

# zero-width characters, direction marks and bidi overrides or isolates: dropped
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u061c\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: becomes a space
_SCRIPTS = {  # letters of each script, counted by `script_of`; the first of equal counts wins
    "arabic": re.compile("[\u0600-\u06ff\ufb50-\ufeff\u0750-\u077f]"),
    "cyrillic": re.compile("[\u0400-\u04ff]"),
    "latin": re.compile("[A-Za-z\u00c0-\u024f]"),
}

_ARABIC_FOLD = str.maketrans(_TABLES["fold"])
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

_TRANSLIT_MULTI = tuple((str(a), str(b)) for a, b in _TABLES["translit_multi"])
_TRANSLIT_SINGLE = str.maketrans(_TABLES["translit_single"])
_TRANSLIT_RE = re.compile("|".join(src for src, _ in _TRANSLIT_MULTI))
_TRANSLIT_MAP = dict(_TRANSLIT_MULTI)
_VOWEL_Y = re.compile(r"(?<=[аеиоуыэюя])ы(?![аеиоуыэюя])")

_TO_LATIN = str.maketrans(_TABLES["to_latin"])


def clean_input(text: str) -> str:
    """Drop what a person cannot see (control, zero-width, bidi override) and cap the length."""
    visible = _CONTROL.sub(" ", _INVISIBLE.sub("", text[: MAX_INPUT_CHARS * 2]))
    return " ".join(visible.split())[:MAX_INPUT_CHARS]


def fold(text: str) -> str:
    """Lower-case, unify letter variants and digits, strip diacritics and tashkeel; keep letters and digits."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC_FOLD).translate(_DIGITS)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", stripped)))


def letters_lower(text: str) -> str:
    """Lower-case words with their diacritics kept: ї, є, ъ and پ tell languages apart, so detection needs them."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_DIGITS)
    return " ".join(_WORD.findall(text))


def script_of(text: str) -> str:
    """The dominant script of a text: 'arabic', 'cyrillic', 'latin' or 'none' (digits, emoji, nothing)."""
    counts = {script: len(letters.findall(text)) for script, letters in _SCRIPTS.items()}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "none"


def latin_to_cyrillic(text: str) -> str:
    """Read Latin letters as informal Russian/Ukrainian/Bulgarian transliteration ('gde strahovka')."""
    text = _TRANSLIT_RE.sub(lambda m: _TRANSLIT_MAP[m.group(0)], text.lower())
    return _VOWEL_Y.sub("й", text.translate(_TRANSLIT_SINGLE))


def cyrillic_to_latin(text: str) -> str:
    return text.lower().translate(_TO_LATIN)
