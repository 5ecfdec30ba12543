"""`events/`: the information sessions admins announce, and the cities they take place in.

`events/cities.yaml` names each city in every language (a subscriber picks one); every other file in `events/`
lists events. Times are local, in `[handoff] timezone`: "2026-12-10 14:00". An event that took place is kept with
`past: true` (only then may it carry a bare date) and is never announced. A new event dated in the past is an
error for `kb validate`, but not one that stops the running bot: yesterday's event must not take today's answers
down; it is simply not announced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node, ScalarNode

from bot.core.knowledge.nodes import FileChecker, Problem, parse_day

EVENTS_DIR = "events"
CITIES_FILE = "cities.yaml"
_CITY_KEYS = {"id", "name"}
_EVENT_KEYS = {
    "id",
    "title",
    "description",
    "city",
    "start",
    "end",
    "place",
    "topics",
    "capacity",
    "organiser",
    "past",
}
_EVENT_REQUIRED = ("id", "title", "description", "city", "start", "end", "place", "organiser")
DESCRIPTION_MAX_CHARS = 1200


@dataclass(frozen=True)
class City:
    id: str
    names: dict[str, str]

    def name(self, language: str, fallback: str) -> str:
        return self.names.get(language) or self.names[fallback]


@dataclass(frozen=True)
class InfoEvent:
    """One session. `start`/`end` are naive local times; `dated_only`: the seeds give the day, not the hours."""

    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    city: str
    start: dt.datetime
    end: dt.datetime
    place: str
    topics: tuple[str, ...]
    organiser: str
    capacity: int | None = None
    past: bool = False
    dated_only: bool = False

    def over(self, now: dt.datetime) -> bool:
        """Taken place at local time `now` (or marked so): no longer announced."""
        return self.past or self.end <= now

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it is announced in: those its title and description are written in."""
        return tuple(lang for lang in self.titles if lang in self.descriptions)

    def title(self, language: str, fallback: str) -> str:
        return self.titles.get(language) or self.titles[fallback]

    def description(self, language: str, fallback: str) -> str:
        return self.descriptions.get(language) or self.descriptions[fallback]


def _moment(checker: FileChecker, node: Node, what: str) -> tuple[dt.datetime, bool] | None:
    """A local date and time ('2026-12-10 14:00'), or a bare date (ISO, or '10 Nov 2020' as the entries write
    it); True when it was a bare date."""
    value = str(node.value).strip() if isinstance(node, ScalarNode) else ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        day = parse_day(value)
        if day is None:
            checker.problem(node, f"{what}: '{value}' is not a local date and time like 2026-12-10 14:00")
            return None
        return dt.datetime.combine(day, dt.time()), True
    if moment.tzinfo is not None:
        checker.problem(node, f"{what}: '{value}' carries a time zone; write local time ([handoff] timezone)")
        return None
    return moment, len(value) <= 10


def load_cities(checker: FileChecker, root: Node) -> dict[str, City]:
    table = checker.mapping(root, "the file")
    if table is None:
        return {}
    checker.keys(table, root, "the file", {"cities"}, ("cities",))
    cities: dict[str, City] = {}
    for node, item in checker.records(table, "cities", "city"):
        checker.keys(item, node, "city", _CITY_KEYS, tuple(sorted(_CITY_KEYS)))
        city_id = checker.slug(item["id"][1], "id") if "id" in item else None
        names = checker.texts_by_language(*item["name"], "name", True, 60) if "name" in item else {}
        if city_id is None or not names:
            continue
        if city_id in cities:
            checker.problem(item["id"][1], f"duplicate city id '{city_id}'")
            continue
        cities[city_id] = City(city_id, names)
    return cities


class EventReader:
    """Reads the event files of one knowledge base, checking what they name against its topics and cities."""

    def __init__(self, cities: dict[str, City], topics: set[str], fallback: str) -> None:
        self.cities = cities
        self.topics = topics
        self.fallback = fallback
        self.events: dict[str, InfoEvent] = {}
        self._first: dict[str, str] = {}

    def read(self, checker: FileChecker, root: Node) -> None:
        table = checker.mapping(root, "the file")
        if table is None:
            return
        checker.keys(table, root, "the file", {"events"}, ("events",))
        for node, item in checker.records(table, "events", "event"):
            event = self._event(checker, node, item)
            if event is None:
                continue
            if event.id in self.events:
                checker.problem(item["id"][1], f"duplicate event id '{event.id}' (first in {self._first[event.id]})")
                continue
            self.events[event.id] = event
            self._first[event.id] = str(checker.path)

    def _event(self, checker: FileChecker, node: Node, item: dict[str, tuple[Node, Node]]) -> InfoEvent | None:
        checker.keys(item, node, "event", _EVENT_KEYS, _EVENT_REQUIRED)
        event_id = checker.slug(item["id"][1], "id") if "id" in item else None
        what = f"event {event_id or '?'}"
        titles = checker.texts_by_language(*item["title"], f"{what}: title", False, 120) if "title" in item else {}
        descriptions = (
            checker.texts_by_language(*item["description"], f"{what}: description", False, DESCRIPTION_MAX_CHARS)
            if "description" in item
            else {}
        )
        for key, texts in (("title", titles), ("description", descriptions)):
            if key in item and self.fallback not in texts:
                checker.problem(item[key][0], f"{what}: {key} needs at least the default language '{self.fallback}'")
        for lang in set(titles) ^ set(descriptions):
            checker.problem(node, f"{what}: language '{lang}' has a title or a description but not both")
        for lang in set(titles) | set(descriptions):
            if lang not in checker.languages:
                checker.problem(node, f"{what}: language '{lang}' is not configured ([bot] languages)", error=False)
        city = checker.slug(item["city"][1], f"{what}: city") if "city" in item else None
        if city is not None and city not in self.cities:
            known = ", ".join(self.cities) or "none"
            checker.problem(item["city"][1], f"{what}: city '{city}' is not in {EVENTS_DIR}/{CITIES_FILE} ({known})")
            city = None
        topics = checker.text_list(item["topics"][1], f"{what}: topics") if "topics" in item else ()
        for topic in topics:
            if topic not in self.topics:
                checker.problem(item["topics"][1], f"{what}: topic '{topic}' is not in topics.yaml")
        past = checker.flag(item["past"][1], f"{what}: past") if "past" in item else False
        start = _moment(checker, item["start"][1], f"{what}: start") if "start" in item else None
        end = _moment(checker, item["end"][1], f"{what}: end") if "end" in item else None
        capacity = self._capacity(checker, item["capacity"][1], what) if "capacity" in item else None
        place = checker.text(item["place"][1], f"{what}: place", 200) if "place" in item else None
        organiser = checker.text(item["organiser"][1], f"{what}: organiser", 120) if "organiser" in item else None
        if start is None or end is None:
            return None
        (begins, bare), (ends, _) = start, end
        if ends < begins:
            checker.problem(item["end"][1], f"{what}: end {ends:%Y-%m-%d %H:%M} is before its start")
            return None
        if bare and not past:
            checker.problem(item["start"][1], f"{what}: an upcoming event needs a time, like 2026-12-10 14:00")
            return None
        if past and begins.date() > checker.today:
            checker.problem(item["past"][1], f"{what}: marked past, but it starts on {begins:%Y-%m-%d}")
        elif not past and begins.date() < checker.today:
            checker.problems.append(
                Problem(
                    str(checker.path),
                    node.start_mark.line + 1,
                    f"{what}: starts on {begins:%Y-%m-%d}, in the past: a new event needs a future date "
                    "(one that took place is kept with `past: true`); it is not announced",
                    blocks_bot=False,
                )
            )
        if event_id is None or city is None or place is None or organiser is None or not titles:
            return None
        if self.fallback not in titles or self.fallback not in descriptions:
            return None
        return InfoEvent(
            event_id, titles, descriptions, city, begins, ends, place, topics, organiser, capacity, past, bare
        )

    @staticmethod
    def _capacity(checker: FileChecker, node: Node, what: str) -> int | None:
        value = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            checker.problem(node, f"{what}: capacity '{value}' must be a whole number of places, at least 1")
            return None
        return int(value)


def event_files(directory: Path) -> list[Path]:
    """The files that list events: every YAML file in events/ but the cities."""
    folder = directory / EVENTS_DIR
    return sorted(p for p in folder.glob("*.yaml") if p.name != CITIES_FILE) if folder.is_dir() else []
