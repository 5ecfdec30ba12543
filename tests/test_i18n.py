from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import TRANSLATIONS_DIR, isolate_ltr_runs, language_name
from tests.conftest import LANGUAGES, ROOT

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def template_ids() -> set[str]:
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_the_template_holds_every_string_in_the_source() -> None:
    in_source = {message for _, _, message, _, _ in extract_from_dir(ROOT / "bot") if message}
    assert in_source == template_ids(), "run: pybabel extract --no-location -o bot/translations/messages.pot bot/"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_is_complete_and_not_fuzzy(language: str) -> None:
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages = {m.id: m for m in catalog if m.id}
    missing = template_ids() - messages.keys()
    assert not missing, f"{language}: missing {sorted(missing)}"
    for message in messages.values():
        assert message.string, f"{language}: empty translation for {message.id!r}"
        assert not message.fuzzy, f"{language}: fuzzy translation for {message.id!r}"
        assert set(PLACEHOLDER.findall(str(message.id))) == set(PLACEHOLDER.findall(str(message.string))), message.id


def test_language_names_come_from_babel_in_their_own_language() -> None:
    assert [language_name(code) for code in LANGUAGES] == [
        "Български",
        "English",
        "Русский",
        "Українська",
        "العربية",
        "فارسی",
    ]


def test_ltr_runs_are_isolated_without_swallowing_punctuation() -> None:
    assert isolate_ltr_runs("اتصل بـ 0800 20 100.") == "اتصل بـ \u20660800 20 100\u2069."
    assert isolate_ltr_runs("البريد hrlawyer@blhr.org، شكرا") == "البريد \u2066hrlawyer@blhr.org\u2069، شكرا"
