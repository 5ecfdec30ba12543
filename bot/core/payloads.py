"""Button payloads: one small frozen dataclass per kind, packed into a short string and read back.

A payload is the tag of its kind and its fields joined by ':' (`e:health-gp`, `f:+:12`, `s:tp:health-gp`). Telegram
allows 64 bytes of callback data, so `pack()` refuses more. `unpack()` gives None for anything it cannot read (a
button of an older version, a forged callback): the engine then answers politely and changes nothing. Whether the
entry, topic or language a payload names still exists is the feature's question, not the parser's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from bot.core.knowledge import Status
from bot.core.outreach import ANY

MAX_BYTES = 64  # Telegram's limit for callback data
UNKNOWN_STATUS = "-"  # "I don't know / I'd rather not say", or no status


class PayloadTooLong(ValueError):
    """A button whose payload Telegram would refuse: a knowledge-base id is too long."""


STATUSES: dict[str, Status | None] = {UNKNOWN_STATUS: None} | {s.code: s for s in Status}


def _status_code(status: Status | None) -> str:
    return status.code if status is not None else UNKNOWN_STATUS


@dataclass(frozen=True)
class Payload:
    """The base of every kind: its tag and its fields, in order."""

    TAG: ClassVar[str]

    def tag(self) -> str:
        return self.TAG

    def fields(self) -> tuple[str, ...]:
        return ()

    def pack(self) -> str:
        packed = ":".join((self.tag(), *self.fields()))
        if len(packed.encode()) > MAX_BYTES:
            raise PayloadTooLong(f"button payload {packed!r} is longer than {MAX_BYTES} bytes")
        return packed


@dataclass(frozen=True)
class ShowEntry(Payload):
    TAG: ClassVar[str] = "e"
    entry: str

    def fields(self) -> tuple[str, ...]:
        return (self.entry,)


@dataclass(frozen=True)
class ShowTopic(Payload):
    TAG: ClassVar[str] = "t"
    topic: str

    def fields(self) -> tuple[str, ...]:
        return (self.topic,)


@dataclass(frozen=True)
class ChooseLanguage(Payload):
    TAG: ClassVar[str] = "l"
    language: str

    def fields(self) -> tuple[str, ...]:
        return (self.language,)


@dataclass(frozen=True)
class TopicMenu(Payload):
    TAG: ClassVar[str] = "m"


class HandoffReason(enum.Enum):
    """Why a person pressed a consultant button; its value is the payload's field ('' for none)."""

    ASKED = ""  # the "Ask a consultant" button
    LOW_CONFIDENCE = "l"  # the offer after no good answer
    NOT_HELPFUL = "n"  # the offer after 👎 on an answer


@dataclass(frozen=True)
class AskConsultant(Payload):
    TAG: ClassVar[str] = "h"
    reason: HandoffReason = HandoffReason.ASKED

    def fields(self) -> tuple[str, ...]:
        return (self.reason.value,) if self.reason.value else ()


@dataclass(frozen=True)
class NoneOfThese(Payload):
    """None of the suggested entries: a consultant, as after no good answer."""

    TAG: ClassVar[str] = "n"


@dataclass(frozen=True)
class Feedback(Payload):
    """👍 or 👎 on a consultant's answer (`ticket`) or on an FAQ answer (`entry`): exactly one of the two."""

    TAG: ClassVar[str] = "f"
    helpful: bool
    ticket: int | None = None
    entry: str | None = None

    def __post_init__(self) -> None:
        if (self.ticket is None) == (self.entry is None):
            raise ValueError("feedback is on a ticket or on an entry")

    def fields(self) -> tuple[str, ...]:
        sign = "+" if self.helpful else "-"
        return (sign, str(self.ticket)) if self.ticket is not None else (sign, "e", str(self.entry))


@dataclass(frozen=True)
class StatusAnswer(Payload):
    """The answer to "which status?" asked for an entry; `status` None: "I don't know / I'd rather not say"."""

    TAG: ClassVar[str] = "s"
    status: Status | None
    entry: str

    def fields(self) -> tuple[str, ...]:
        return (_status_code(self.status), self.entry)


@dataclass(frozen=True)
class RememberStatus(Payload):
    """Consent to keep the status just given."""

    TAG: ClassVar[str] = "sr"
    status: Status

    def fields(self) -> tuple[str, ...]:
        return (self.status.code,)


@dataclass(frozen=True)
class SetStatus(Payload):
    """The status chosen in /status; None drops the saved one."""

    TAG: ClassVar[str] = "st"
    status: Status | None

    def fields(self) -> tuple[str, ...]:
        return (_status_code(self.status),)


class EventAct(enum.Enum):
    """What a button on an event does; its value is the payload's tag."""

    SHOW = "ev"
    ATTEND = "ea"  # "I'll come"
    REMIND = "er"  # "Remind me"
    CANCEL = "ex"  # give up the place and the reminders


@dataclass(frozen=True)
class EventList(Payload):
    TAG: ClassVar[str] = "el"


@dataclass(frozen=True)
class EventButton(Payload):
    """A button on one event; its tag says which act."""

    TAG: ClassVar[str] = "ev"
    act: EventAct
    event: str

    def tag(self) -> str:
        return self.act.value

    def fields(self) -> tuple[str, ...]:
        return (self.event,)


@dataclass(frozen=True)
class SubscribeCity(Payload):
    """/subscribe's first answer: a city id, or None for any city."""

    TAG: ClassVar[str] = "sc"
    city: str | None

    def fields(self) -> tuple[str, ...]:
        return (self.city or ANY,)


@dataclass(frozen=True)
class SubscribeTopic(Payload):
    """/subscribe's second answer: the city chosen before and a topic id, or None for all topics; `also` adds
    the topic to the ones chosen before instead of replacing them (its own tag)."""

    TAG: ClassVar[str] = "sb"
    city: str | None
    topic: str | None
    also: bool = False

    def tag(self) -> str:
        return "sa" if self.also else self.TAG

    def fields(self) -> tuple[str, ...]:
        return (self.city or ANY, self.topic or ANY)


def _any(value: str) -> str | None:
    return None if value == ANY else value


def _read(tag: str, fields: list[str]) -> Payload | None:
    match tag, fields:
        case "e", [entry] if entry:
            return ShowEntry(entry)
        case "t", [topic] if topic:
            return ShowTopic(topic)
        case "l", [language] if language:
            return ChooseLanguage(language)
        case "m", []:
            return TopicMenu()
        case "n", []:
            return NoneOfThese()
        case "h", []:
            return AskConsultant()
        case "h", [reason] if reason in {r.value for r in HandoffReason if r.value}:
            return AskConsultant(HandoffReason(reason))
        case "f", [("+" | "-") as sign, ticket] if ticket.isascii() and ticket.isdigit():
            return Feedback(sign == "+", ticket=int(ticket))
        case "f", [("+" | "-") as sign, "e", entry] if entry:
            return Feedback(sign == "+", entry=entry)
        case "s", [code, entry] if entry and code in STATUSES:
            return StatusAnswer(STATUSES[code], entry)
        case "sr", [code] if STATUSES.get(code) is not None:
            return RememberStatus(Status(STATUSES[code]))
        case "st", [code] if code in STATUSES:
            return SetStatus(STATUSES[code])
        case "el", []:
            return EventList()
        case ("ev" | "ea" | "er" | "ex") as act, [event] if event:
            return EventButton(EventAct(act), event)
        case "sc", [city] if city:
            return SubscribeCity(_any(city))
        case "sb", [city, topic] if city and topic:
            return SubscribeTopic(_any(city), _any(topic))
        case "sa", [city, topic] if city and topic and topic != ANY:
            return SubscribeTopic(_any(city), topic, also=True)
    return None


def unpack(payload: str) -> Payload | None:
    """The payload a button carried, or None for one this version does not know."""
    if len(payload.encode()) > MAX_BYTES:
        return None
    tag, *fields = payload.split(":")
    return _read(tag, fields)
