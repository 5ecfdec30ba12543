"""What the knowledge base is once loaded: frozen records the rest of the bot reads and never changes."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from bot.core.knowledge.events import City, InfoEvent

REVIEW_WARNING_DAYS = 30
FALLBACK_LANGUAGE = "en"


def fallback_language(languages: tuple[str, ...]) -> str:
    """The language a text written in only some languages falls back to: English where it is configured."""
    return FALLBACK_LANGUAGE if FALLBACK_LANGUAGE in languages else languages[0]


class Status(str, enum.Enum):
    """A person's standing in law, on which some answers depend. The value is what files and the database hold."""

    ASYLUM_SEEKER = "asylum_seeker"
    INTERNATIONAL_PROTECTION = "international_protection"
    TEMPORARY_PROTECTION = "temporary_protection"
    RESIDENCE_PERMIT = "residence_permit"
    EU_CITIZEN = "eu_citizen"

    @property
    def code(self) -> str:
        """Two letters for button payloads (Telegram allows 64 bytes, entry ids take up to 48)."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: str) -> Status | None:
        return next((s for s, c in _CODES.items() if c == code), None)


_CODES = {
    Status.ASYLUM_SEEKER: "as",
    Status.INTERNATIONAL_PROTECTION: "ip",
    Status.TEMPORARY_PROTECTION: "tp",
    Status.RESIDENCE_PERMIT: "rp",
    Status.EU_CITIZEN: "eu",
}


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    where: str  # a URL or a seed file name
    date: str  # the date the page shows, as it shows it ("undated" when none)
    verify: bool
    quotes: tuple[str, ...]  # the page's exact words wherever it prints a phone number


@dataclass(frozen=True)
class Organisation:
    id: str
    names: dict[str, str]
    phones: tuple[str, ...]
    hours: dict[str, str]
    purpose: dict[str, str]
    sources: tuple[str, ...]
    review_by: dt.date | None = None

    def line(self, language: str, fallback: str) -> str:
        """'Name: 0800 18 676 (9:00–21:00)' in `language`: what a `{contact:id}` becomes."""
        name = self.names.get(language) or self.names[fallback]
        hours = self.hours.get(language) or self.hours.get(fallback)
        phones = ", ".join(self.phones)
        text = f"{name}: {phones}" if phones else name
        return f"{text} ({hours})" if hours and phones else text


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    titles: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    variants: dict[Status, dict[str, str]]
    sources: tuple[str, ...]
    reviewed: dt.date
    review_by: dt.date | None = None
    verify: bool = False  # rests on a source marked verify
    related: tuple[str, ...] = ()

    def answer_for(self, language: str, status: Status | None) -> str:
        by_language = self.variants.get(status, self.answers) if status is not None else self.answers
        return by_language.get(language) or self.answers[language]


@dataclass(frozen=True)
class Topic:
    id: str
    titles: dict[str, str]
    entries: tuple[str, ...]


@dataclass(frozen=True)
class CrisisCategory:
    id: str
    contacts: tuple[str, ...]
    phrases: tuple[str, ...]  # every language's, in bot.core.patterns' syntax
    exemplars: tuple[str, ...]  # whole sentences for the semantic layer


@dataclass(frozen=True)
class SmallTalkKind:
    id: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    languages: tuple[str, ...]
    topics: dict[str, Topic] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    crisis: tuple[CrisisCategory, ...] = ()  # in priority order: the first that matches names the hotline
    smalltalk: tuple[SmallTalkKind, ...] = ()
    out_of_scope: tuple[str, ...] = ()  # examples of chatter the desk does not take
    cities: dict[str, City] = field(default_factory=dict)
    events: dict[str, InfoEvent] = field(default_factory=dict)

    def upcoming(self, now: dt.datetime) -> list[InfoEvent]:
        """What is announced at local time `now`: events not marked past that have not ended, soonest first."""
        return sorted((e for e in self.events.values() if not e.over(now)), key=lambda e: e.start)

    def due(self, today: dt.date) -> list[tuple[str, dt.date]]:
        """(entry or organisation id, review date) of what is due for review within REVIEW_WARNING_DAYS."""
        dated = [(e.id, e.review_by) for e in self.entries.values()]
        dated += [(o.id, o.review_by) for o in self.organisations.values()]
        soon = today + dt.timedelta(days=REVIEW_WARNING_DAYS)
        return sorted(((i, d) for i, d in dated if d is not None and d <= soon), key=lambda x: x[1])
