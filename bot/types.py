"""The seam between the channel-neutral core and the chat adapters.

Standard library only: adapters and the core both import this, so it must not pull either in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

PAYLOAD_MAX_BYTES = 64  # Telegram's callback_data limit; the smallest of the channels


@dataclass(frozen=True)
class Address:
    """Where a person is: a channel name and the chat id on it, both plain strings."""

    channel: str
    chat_id: str


@dataclass(frozen=True)
class Button:
    """A choice offered to the user; the payload comes back when it is pressed."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode("utf-8")) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"button payload over {PAYLOAD_MAX_BYTES} bytes: {self.payload!r}")


def storable(text: str) -> str:
    """The text with anything UTF-8 cannot hold (a lone surrogate from a JSON escape) replaced, so that one odd
    message cannot fail the database write it shares with others."""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: wrote text, pressed a button (payload), sent a command, or sent media.

    `attachment` describes media ("photo <file id>", "voice <file id>"...), which the bot cannot read but a
    consultant can open. Whatever a channel passes in, text fields come out as storable text and the hint as a
    string or None: they come from the outside world.
    """

    address: Address
    text: str = ""
    payload: str | None = None
    language_hint: str | None = None
    display_name: str | None = None
    attachment: str | None = None

    def __post_init__(self) -> None:
        for name in ("text", "payload", "display_name", "attachment"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, storable(str(value)))
        hint = self.language_hint
        object.__setattr__(self, "language_hint", storable(hint)[:16] if isinstance(hint, str) else None)


@dataclass(frozen=True)
class Received:
    """An update a chat service delivered, parsed by its channel: `inbound` is what the person did, when the
    update is for the conversation at all (a receipt or a group message is not)."""

    channel: str
    key: str  # the service's id for it: a repeat is handled once
    lane: str  # the chat it belongs to: one update at a time per chat
    body: str  # as the service sent it, to store and to resume from
    inbound: Inbound | None = None
    detail: object = None  # the channel's own parsed form (a python-telegram-bot Update, a viberbot request)


@dataclass(frozen=True)
class Outbound:
    """One message to a user, already translated; adapters only render it."""

    address: Address
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    language: str = "en"
    bulk: bool = False  # a broadcast's or a reminder's: it waits for the service's pace, a conversation does not


Handler = Callable[[Inbound], Awaitable[list[Outbound]]]


def split_message(text: str, limit: int) -> list[str]:
    """Cut a long message at paragraph, then sentence, then word boundaries so each part fits `limit`."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0)
        if cut < limit // 3:
            cut = max((window.rfind(mark) + len(mark) - 1 for mark in (". ", "! ", "? ", "。", "؟ ", "\n")), default=-1)
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class DeliveryError(Exception):
    """A channel could not deliver a message: retry later, never (permanent), or the user blocked the bot."""

    def __init__(
        self, message: str, *, blocked: bool = False, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.blocked = blocked
        self.permanent = permanent or blocked
        self.retry_after = retry_after


MEDIA_LIMIT = 20 * 1024 * 1024  # the largest file fetched for a consultant (Telegram's bots get no larger)


@dataclass(frozen=True)
class Media:
    """A file a person sent, as fetched from the service for a consultant: passed through, never stored."""

    content: bytes
    content_type: str


class MediaUnavailable(Exception):
    """The service does not give the file (gone, too large, unreachable): the console says so."""

    @classmethod
    def too_large(cls, kind: str) -> MediaUnavailable:
        return cls(f"the {kind} is larger than {MEDIA_LIMIT // 2**20} MB")


@runtime_checkable
class MediaSource(Protocol):
    """A channel that can fetch what a person sent from the reference stored in the ticket ('photo <file id>')."""

    channel: str

    async def media(self, kind: str, reference: str) -> Media: ...
