"""What a broadcast sends to whom, for `migrant-bot broadcast` and the web console alike: the message for each
recipient (their language's text, or the default language's with --fallback-default), the preview per channel
and language, and the refusals (nobody in the audience, a language without text)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.outreach import Recipient
from bot.types import Outbound

if TYPE_CHECKING:  # the database layer loads with the commands that use it
    from bot.storage.broadcasts import BroadcastInfo


def channel_limits() -> dict[str, int]:
    """Each channel's longest text, which a broadcast's texts are checked against: the registry's channels and
    the console chat."""
    from bot.app import channel_plugins
    from bot.channels.console import ConsoleChannel

    plugins = {plugin.name: plugin.max_length for plugin in channel_plugins()}
    return plugins | {ConsoleChannel.channel: ConsoleChannel.max_length}


class BroadcastRefused(Exception):
    """The broadcast would reach nobody, or someone in a language it has no text for."""


@dataclass(frozen=True)
class PreviewRow:
    channel: str
    language: str
    text_language: str  # the language of the text they receive
    recipients: int


def describe(info: BroadcastInfo) -> str:
    audience = info.audience
    filters = "".join(
        f"; {key}: {', '.join(values)}"
        for key, values in (
            ("channels", audience.channels),
            ("languages", audience.languages),
            ("cities", audience.cities),
            ("topics", audience.topics),
        )
        if values
    )
    who = f"the registrants of event {audience.event}" if audience.event else "subscribers" + filters
    return f"broadcast {info.id} ({info.status.value}): {info.name}; to {who}; texts in {', '.join(info.texts)}"


def message_for(info: BroadcastInfo, recipient: Recipient, default: str, fallback: bool) -> Outbound | None:
    """What `recipient` receives; None when their language has no text and no fallback is allowed."""
    language = recipient.language if recipient.language in info.texts else default if fallback else None
    if language is None or language not in info.texts:
        return None
    return Outbound(recipient.address, info.texts[language], (), language, bulk=True)


def preview(info: BroadcastInfo, recipients: list[Recipient], default: str, fallback: bool) -> list[PreviewRow]:
    """Recipients per channel and language; BroadcastRefused if nobody, or if a language has no text."""
    if not recipients:
        raise BroadcastRefused(f"broadcast {info.id}: nobody matches its audience now: nothing would be sent")
    missing = sorted({r.language for r in recipients} - set(info.texts))
    if missing and not (fallback and default in info.texts):
        counts = Counter(r.language for r in recipients if r.language in missing)
        said = ", ".join(f"{lang} ({counts[lang]})" for lang in missing)
        raise BroadcastRefused(
            f"broadcast {info.id}: no text in {said}: add them to the file and create it again, "
            f"or send the default language's text with --fallback-default"
        )
    per = Counter((r.address.channel, r.language) for r in recipients)
    return [
        PreviewRow(channel, language, language if language in info.texts else default, n)
        for (channel, language), n in sorted(per.items())
    ]
