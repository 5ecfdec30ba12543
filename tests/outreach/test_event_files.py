"""events/ as `kb validate` checks it, the pace Telegram allows, and the broadcast file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.broadcast_file import read_broadcast
from bot.core.knowledge import check_knowledge, load_knowledge
from bot.core.knowledge.load import check_events
from bot.pacing import Pace
from bot.storage.broadcasts import Audience
from tests.conftest import LANGUAGES, ROOT
from tests.outreach.helpers import NOW, event_yaml, events_folder

TOPICS = {"health", "work", "violence"}


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in check_events(folder, LANGUAGES, TOPICS, NOW.date())[2]]


def test_the_shipped_events_are_the_seeds_past_session_and_nothing_upcoming() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    assert list(knowledge.events) == ["plovdiv-2020-insurance-violence"]
    event = knowledge.events["plovdiv-2020-insurance-violence"]
    assert event.past and event.dated_only and event.start == dt.datetime(2020, 11, 10)
    assert knowledge.upcoming(NOW) == []
    assert set(knowledge.cities) == {"sofia", "plovdiv", "burgas", "varna", "kardzhali", "harmanli"}


@pytest.mark.parametrize(
    ("event", "line", "message"),
    [
        (
            event_yaml("backwards", NOW + dt.timedelta(days=2), hours=-1),
            14,
            "event backwards: end 2026-12-12 08:00 is before its start",
        ),
        (
            event_yaml("nowhere", NOW + dt.timedelta(days=2), city="atlantis"),
            12,
            "event nowhere: city 'atlantis' is not in events/cities.yaml (sofia, plovdiv, burgas, varna, kardzhali, "
            "harmanli)",
        ),
        (
            event_yaml("odd-topic", NOW + dt.timedelta(days=2), topics="[health, cooking]"),
            17,
            "event odd-topic: topic 'cooking' is not in topics.yaml",
        ),
        (
            event_yaml("no-english", NOW + dt.timedelta(days=2), languages=("ru",)),
            18,
            "event no-english: title needs at least the default language 'en'",
        ),
        (
            event_yaml("crowd", NOW + dt.timedelta(days=2), capacity=0),
            18,
            "event crowd: capacity '0' must be a whole number of places, at least 1",
        ),
    ],
)
def test_a_bad_event_is_reported_with_its_file_and_line(tmp_path: Path, event: str, line: int, message: str) -> None:
    folder = events_folder(tmp_path, event_yaml("fine", NOW + dt.timedelta(days=1)), event)
    assert f"{folder}/events/test.yaml:{line}: {message}" in problems_of(folder)


def test_a_new_event_in_the_past_fails_validation_but_does_not_stop_the_bot(tmp_path: Path) -> None:
    base = tmp_path / "kb"
    base.mkdir()
    for path in (ROOT / "knowledge").glob("*.yaml"):
        (base / path.name).write_bytes(path.read_bytes())
    events_folder(base, event_yaml("yesterday", NOW - dt.timedelta(days=1)))
    _, problems = check_knowledge(base, LANGUAGES, NOW.date())
    errors = [str(p) for p in problems if p.error]
    assert errors == [
        f"{base}/events/test.yaml:2: event yesterday: starts on 2026-12-09, in the past: a new event needs a future "
        "date (one that took place is kept with `past: true`); it is not announced"
    ]
    assert "yesterday" in load_knowledge(base, LANGUAGES).events  # loaded, and not announced: it has ended


def test_an_upcoming_event_needs_hours_and_a_past_one_may_not_be_in_the_future(tmp_path: Path) -> None:
    folder = events_folder(tmp_path)
    (folder / "events" / "test.yaml").write_text(
        "events:\n"
        + event_yaml("bare", NOW + dt.timedelta(days=3)).replace("start: 2026-12-13 09:00", "start: 2026-12-13")
        + event_yaml("not-yet", NOW + dt.timedelta(days=3)).replace("    city:", "    past: true\n    city:"),
        encoding="utf-8",
    )
    found = problems_of(folder)
    assert any("event bare: an upcoming event needs a time, like 2026-12-10 14:00" in p for p in found), found
    assert any("event not-yet: marked past, but it starts on 2026-12-13" in p for p in found), found


def test_the_pace_spaces_the_bulk_and_lets_a_conversation_through_at_once() -> None:
    clock = [100.0]
    gap = 1 / 29
    pace = Pace(30, chat_interval=1.0, reserve=1, clock=lambda: clock[0])
    assert pace._try("chat0", bulk=True) == 0.0
    assert pace._try("chat1", bulk=True) == pytest.approx(gap / 2)  # half a gap of slack for a late waiter
    assert pace._try("someone", bulk=False) == 0.0  # the conversation never waits
    clock[0] += gap / 2
    assert pace._try("chat1", bulk=True) == 0.0
    assert pace._try("chat2", bulk=True) == pytest.approx(gap)
    clock[0] += gap
    assert pace._try("chat0", bulk=True) == pytest.approx(1.0 - 1.5 * gap)  # one a second in one chat
    clock[0] += 10
    assert pace._try("chat0", bulk=True) == 0.0


def _sent_in_one_second(replies: int) -> tuple[int, int]:
    """What a Pace(10, reserve=1) lets go in one second when `replies` replies ask at its start and bulk
    messages ask every millisecond: (bulk messages, replies that went at once)."""
    clock = [1.0]
    pace = Pace(10, reserve=1, clock=lambda: clock[0])
    at_once = sum(pace._try(f"r{n}", bulk=False) == 0.0 for n in range(replies))
    bulk = 0
    while clock[0] < 2.0:
        bulk += pace._try(f"chat{bulk}", bulk=True) == 0.0
        clock[0] += 0.001
    return bulk, at_once


def test_the_bulk_fills_what_the_conversations_leave_of_each_second() -> None:
    assert _sent_in_one_second(0) == (9, 0)  # one place a second is always left free
    assert _sent_in_one_second(4) == (5, 4)  # the replies' places are taken from the bulk, not added to it
    assert _sent_in_one_second(12) == (0, 10)  # a full second: replies beyond the limit wait, bulk waits too


def test_a_reply_in_a_full_second_waits_only_for_the_oldest_message_to_leave_it() -> None:
    clock = [0.0]
    pace = Pace(10, reserve=1, clock=lambda: clock[0])
    for n in range(9):
        assert pace._try(f"chat{n}", bulk=True) == 0.0
        clock[0] += 1 / 9
    clock[0] = 0.95
    assert pace._try("chat9", bulk=True) > 0  # the bulk leaves the last place of the second free...
    assert pace._try("someone", bulk=False) == 0.0  # ...for a reply
    assert pace._try("other", bulk=False) == pytest.approx(0.05)  # the 11th in a second: until the first leaves
    clock[0] = 1.0
    assert pace._try("other", bulk=False) == 0.0


def _broadcast_file(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "broadcast.yaml"
    path.write_text(text, encoding="utf-8")
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    draft, problems = read_broadcast(path, knowledge, {"telegram": 4096, "viber": 7000}, NOW)
    assert (draft is None) == bool(problems)
    return [str(p).removeprefix(f"{path}:") for p in problems]


def test_a_broadcast_file_is_read_into_its_texts_and_audience(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.yaml"
    path.write_text(
        "name: Friday\ntext: {en: Hello, ru: Привет}\naudience: {cities: [plovdiv], topics: [health], channels: []}\n",
        encoding="utf-8",
    )
    draft, problems = read_broadcast(path, load_knowledge(ROOT / "knowledge", LANGUAGES), {"telegram": 4096}, NOW)
    assert problems == [] and draft is not None
    assert draft.texts == {"en": "Hello", "ru": "Привет"}
    assert draft.audience == Audience(cities=("plovdiv",), topics=("health",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: A\ntext: {en: ''}\naudience: {}\n", ["2: text.en is empty"]),
        (
            "name: A\ntext:\n  en: " + "x" * 4100 + "\naudience: {channels: [telegram]}\n",
            ["3: text.en is 4100 characters, more than telegram's 4096"],
        ),
        (
            "name: A\ntext: {en: Hi}\naudience: {cities: [atlantis], topics: [cooking]}\n",
            [
                "3: audience.cities: 'atlantis' is not known (sofia, plovdiv, burgas, varna, kardzhali, harmanli)",
                "3: audience.topics: 'cooking' is not known (residence, asylum, temporary-protection, health, social, "
                "work, education, violence, trafficking, contacts)",
            ],
        ),
        (
            "name: A\ntext: {en: Hi}\naudience: {event: plovdiv-2020-insurance-violence}\n",
            ["3: audience.event: 'plovdiv-2020-insurance-violence' is over"],
        ),
        ("name: A\ntext: {xx: Hi}\naudience: {}\n", ["2: text.xx: not one of the configured languages"]),
        ("name: A\ntext: {en: Hi}\n", ["1: the file is missing 'audience'"]),
    ],
)
def test_a_bad_broadcast_file_names_its_line(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert _broadcast_file(tmp_path, text) == expected
