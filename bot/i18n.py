"""Interface text in the user's language: one Babel Translations per language, loaded once.

Catalogs live in translations/<lang>/LC_MESSAGES/messages.po and are compiled in memory at start, so an admin
who fixes a translation only edits the .po file and restarts; there is no build step to forget.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
_LTR_ISOLATE = "\u2066"
_POP_ISOLATE = "\u2069"


@lru_cache(maxsize=64)
def is_rtl(language: str) -> bool:
    """Written right to left, as Babel's locale data says (no list of our own to forget a language in)."""
    try:
        return Locale.parse(language).text_direction == "rtl"
    except (ValueError, UnknownLocaleError):
        return False


class CatalogError(Exception):
    """A configured language's catalog is missing or unreadable: the bot would answer it in English, so it stops."""


def _load(language: str, directory: Path) -> tuple[NullTranslations, list[str]]:
    path = directory / language / "LC_MESSAGES" / "messages.po"
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    except FileNotFoundError as exc:
        raise CatalogError(f"{path}: the catalog of the configured language {language!r} is missing") from exc
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog of {language!r}: {exc}") from exc
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer), [str(m.string) for m in catalog if m.id and m.string]


class I18n:
    def __init__(self, languages: tuple[str, ...], directory: Path = TRANSLATIONS_DIR) -> None:
        loaded = {language: _load(language, directory) for language in languages}
        self._translations = {language: pair[0] for language, pair in loaded.items()}
        self._texts = {language: pair[1] for language, pair in loaded.items()}

    def texts(self, language: str) -> list[str]:
        """Every translated interface string: everyday text in that language, which language detection learns from."""
        return self._texts.get(language, [])

    def gettext(self, language: str) -> Callable[[str], str]:
        translations = self._translations.get(language) or NullTranslations()
        return translations.gettext

    def ngettext(self, language: str) -> Callable[[str, str, int], str]:
        """The form for a count, by the language's own plural rules (Russian has three)."""
        translations = self._translations.get(language) or NullTranslations()
        return translations.ngettext


@lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """A language's name in that language ('українська'), from Babel's locale data."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:]


def isolate_ltr_runs(text: str) -> str:
    """In right-to-left text, wrap runs of digits and Latin (phone numbers, e-mails) in LTR isolates.

    Without this, '0800 18 676' inside Arabic can be shown as '676 18 0800'.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            body = "".join(run).rstrip(" .-_:/")
            tail = "".join(run)[len(body) :]
            out.append(f"{_LTR_ISOLATE}{body}{_POP_ISOLATE}{tail}" if body else tail)
            run.clear()

    for ch in text:
        if (ch.isascii() and (ch.isalnum() or ch in "+@/")) or (run and ch in " .-_/:" and ch.isascii()):
            run.append(ch)
        else:
            flush()
            out.append(ch)
    flush()
    return "".join(out)
