"""The seam between the channel-neutral core and the chat adapters.

Standard library only: adapters and the core both import this, so it must not pull either in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: wrote text, pressed a button (payload), sent a command, or sent media.

    `attachment` describes media ("photo <file id>", "voice <file id>"...), which the bot cannot read but a
    consultant can open.
    """

    address: Address
    text: str = ""
    payload: str | None = None
    language_hint: str | None = None
    display_name: str | None = None
    attachment: str | None = None
    dedupe_key: str | None = None  # the service's id for this event (Telegram update_id): handled once


@dataclass(frozen=True)
class Outbound:
    """One message to a user, already translated; adapters only render it."""

    address: Address
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    language: str = "en"


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
