from __future__ import annotations

from bot.core.text import MAX_INPUT_CHARS, clean_input, cyrillic_to_latin, fold, latin_to_cyrillic, script_of


def test_arabic_and_persian_letter_variants_fold_together() -> None:
    assert fold("كيف") == fold("کیف")
    assert fold("بیمه") == fold("بيمه")
    assert fold("مدرسة") == fold("مدرسه")
    assert fold("أريد") == fold("اريد") == fold("إريد")


def test_tashkeel_and_tatweel_are_ignored() -> None:
    assert fold("مَرْحَبًا") == fold("مرحبا")
    assert fold("مـــرحبا") == fold("مرحبا")


def test_eastern_digits_become_ascii() -> None:
    assert fold("١١٢") == "112"
    assert fold("۱۱۲") == "112"


def test_case_punctuation_yo_and_latin_diacritics_fold() -> None:
    assert fold("Ещё, ОДИН!") == "еще один"
    assert fold("Café  São") == "cafe sao"


def test_clean_input_removes_controls_and_bidi_overrides_and_caps_length() -> None:
    assert clean_input("a\u202eb\x00c\u200b d\n e") == "ab c d e"
    assert len(clean_input("x" * 20_000)) == MAX_INPUT_CHARS
    assert clean_input("   ") == ""


def test_transliteration_reads_latin_russian_as_cyrillic() -> None:
    assert latin_to_cyrillic("gde rabota") == "где работа"
    assert latin_to_cyrillic("strahovka") == "страховка"
    assert cyrillic_to_latin("где можно") == "gde mozhno"


def test_script_of() -> None:
    assert script_of("hello") == "latin"
    assert script_of("привет") == "cyrillic"
    assert script_of("سلام") == "arabic"
    assert script_of("😀 112") == "none"
