"""What a chat channel is to the rest of the bot, and how `migrant-bot run` finds the channels it starts.

A channel is a package under bot/channels/ that gives one ChannelPlugin. The plugin reads the channel's settings and
secrets when the bot is configured (a missing token is a ConfigError before anything starts) and builds the channel
once the database is open. The channel then owns everything about its service: the HTTP routes its webhooks come
to, reaching the service at start (retrying while it is away), its loops while the bot runs, parsing what arrives,
sending, and closing its connections. Nothing outside the package names it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from starlette.routing import BaseRoute

from bot.intake import Receiver

if TYPE_CHECKING:  # the plugins are read by the composition root, which imports them lazily
    from bot.app import Runtime
    from bot.config import Config
    from bot.intake import Intake


class Channel(Receiver, Protocol):
    """A chat service as the runner drives it; parse, process and send come from Receiver."""

    channel: str  # its name: in addresses, the inbox, the outbox and the logs
    max_length: int  # the longest text one message may carry; longer ones are split by the channel

    def routes(self, intake: Intake) -> list[BaseRoute]:
        """The HTTP routes of its webhooks (none when it polls), storing what arrives through `intake`."""
        ...

    async def start(self, stop: asyncio.Event) -> bool:
        """Reach the service (set the webhook, say), trying again while it is away; False if stopped first."""
        ...

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        """Its own loops (polling, a feed) until `stop`; returns at once when it has none."""
        ...

    async def close(self) -> None:
        """Release its connections; called once, after `run` has returned."""
        ...


Factory = Callable[["Runtime"], Channel]


@dataclass(frozen=True)
class ChannelPlugin:
    """A channel as the registry knows it: its name, whether the config enables it, and how to build it."""

    name: str
    enabled: Callable[[Config], bool]
    configure: Callable[[Config, Mapping[str, str]], Factory]  # reads settings and secrets; ConfigError if wrong
    max_length: int  # its channel's longest text, which a broadcast's texts are checked against
