"""The encoder's worker process: a crash or a hang costs one message's semantic understanding, never the bot."""

from __future__ import annotations

import random
import sys
import unicodedata
from pathlib import Path

import pytest

from bot.core.encoder import MAX_CHARS, WorkerEncoder, prepared
from bot.core.engine import Engine
from bot.core.state import MemoryStore
from bot.core.text import clean_input
from bot.types import Address, Inbound
from tests.fakes import encoder_worker

FAKE = [sys.executable, encoder_worker.__file__]


def fake(tmp_path: Path) -> tuple[WorkerEncoder, Path]:
    starts = tmp_path / "starts"
    return WorkerEncoder([*FAKE, str(starts)]), starts


def started(starts: Path) -> int:
    return len(starts.read_text().splitlines()) if starts.exists() else 0


def test_prepared_text_is_nfkc_without_controls_and_capped() -> None:
    assert prepared("ﷺ") == unicodedata.normalize("NFKC", "ﷺ")
    assert prepared("a\u200fb\x00c\u202e d") == "a b c d"
    assert len(prepared("ﷺ" * 5000)) == MAX_CHARS


def test_a_crash_costs_one_message_then_the_worker_is_restarted(tmp_path: Path) -> None:
    encoder, starts = fake(tmp_path)
    try:
        assert encoder.encode(["hello"]) is not None
        assert encoder.encode(["please crash"]) is None
        assert encoder.encode(["hello again"]) is not None
        assert started(starts) == 2
    finally:
        encoder.close()


def test_a_text_that_crashed_the_worker_is_never_sent_again(tmp_path: Path) -> None:
    """The same update comes again after a restart: it must not kill the worker a second time."""
    encoder, starts = fake(tmp_path)
    try:
        assert encoder.encode(["crash here"]) is None
        assert encoder.encode(["crash here"]) is None
        assert started(starts) == 1
    finally:
        encoder.close()


def test_a_hang_is_timed_out_and_the_next_message_is_encoded(tmp_path: Path) -> None:
    encoder, starts = fake(tmp_path)
    try:
        assert encoder.encode(["hang on"], timeout=0.5) is None
        assert encoder.encode(["next"]) is not None
        assert started(starts) == 2
    finally:
        encoder.close()


def test_repeated_deaths_rest_the_engine_instead_of_a_restart_loop(tmp_path: Path) -> None:
    encoder, starts = fake(tmp_path)
    try:
        for n in range(3):
            assert encoder.encode([f"crash {n}"]) is None
        assert encoder.encode(["fine"]) is None  # resting: not started a fourth time
        assert started(starts) == 3
    finally:
        encoder.close()


def test_the_bundled_engine_survives_the_input_that_aborted_it() -> None:
    encoder = WorkerEncoder()
    try:
        vectors = encoder.encode(["ﷺ" * 50, "x" * 20000])
        assert vectors is not None and vectors.shape == (2, 384)
    finally:
        encoder.close()


def _fuzz(rng: random.Random) -> str:
    pools = [
        "ﷺﷻ﷽ﾟｶ㍿㌀ﬁ",  # compatibility characters whose NFKC form is long
        "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",  # bidi marks
        "".join(map(chr, range(0, 32))) + "\x7f\x85",  # control characters
        "\u0301\u0308\u0651\u064b\u0670\u20dd",  # lone combining marks
        "помощ help مساعدة کمک 112 ",
    ]
    length = rng.choice([1, 5, 50, 600, 3000, 10000])
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


@pytest.mark.asyncio
async def test_fuzzed_unicode_gets_an_answer_and_the_bot_lives(engine: Engine) -> None:
    rng = random.Random(20261202)
    bot = Engine(engine.understander, engine.bot, MemoryStore())
    address = Address("console", "fuzz")
    encoder = engine.understander.encoder
    assert encoder is not None
    for _ in range(40):
        text = _fuzz(rng)
        replies = await bot.handle(Inbound(address, text=text))
        assert all(r.text for r in replies)
        assert replies or not clean_input(text)  # only a message of invisible characters goes unanswered
    assert encoder.encode(["is the encoder still there"]) is not None
    [first, *_] = await bot.handle(Inbound(address, text="I want to kill myself"))
    assert "112" in first.text
