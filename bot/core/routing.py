"""Feature routers, as aiogram's are: each feature declares the commands, buttons and texts it handles, and the
engine tries the routers in order. Adding an action is a handler in one router, not a branch in the engine.

A handler gets the update's Context (who, their state, the language resolved once for the whole update) and
answers with a Message in that language, with Outbounds when it needs more (two messages, another language), or
with None: a button's None means what it names is gone (the person gets the stale-button reply); a text's None
lets the next router try.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.payloads import Payload
from bot.core.replies import Message
from bot.core.state import UserState, UserStore
from bot.core.understanding import Understanding
from bot.types import Address, Inbound, Outbound

Render = Callable[[str, Message], str]


@dataclass(frozen=True)
class Context:
    """One update as every handler sees it; `language` is the language middleware's (the stored language, else
    the channel's hint, else the default) and `text` the cleaned text."""

    inbound: Inbound
    store: UserStore
    state: UserState
    language: str
    text: str
    render: Render

    @property
    def address(self) -> Address:
        return self.inbound.address

    def reply(self, message: Message, language: str | None = None) -> Outbound:
        chosen = language or self.language
        return Outbound(self.inbound.address, self.render(chosen, message), message.buttons, chosen)


Reply = Message | list[Outbound] | None
CommandHandler = Callable[[Context, str], Awaitable[Reply]]  # the context and what follows the command
PressHandler = Callable[[Context, Any], Awaitable[Reply]]  # the context and the (typed) payload
TextHandler = Callable[[Context, Understanding], Awaitable[Reply]]
MediaHandler = Callable[[Context], Awaitable[Reply]]


class Router:
    """One feature's handlers: commands by name, buttons by payload class, texts and media tried in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, CommandHandler] = {}
        self.presses: dict[type[Payload], PressHandler] = {}
        self.texts: list[TextHandler] = []
        self.media: list[MediaHandler] = []

    def command(self, *names: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            self.commands.update(dict.fromkeys(names, handler))
            return handler

        return register

    def press(self, *kinds: type[Payload]) -> Callable[[PressHandler], PressHandler]:
        def register(handler: PressHandler) -> PressHandler:
            self.presses.update(dict.fromkeys(kinds, handler))
            return handler

        return register

    def text(self, handler: TextHandler) -> TextHandler:
        self.texts.append(handler)
        return handler

    def attachment(self, handler: MediaHandler) -> MediaHandler:
        self.media.append(handler)
        return handler


def outbounds(context: Context, reply: Message | list[Outbound]) -> list[Outbound]:
    return reply if isinstance(reply, list) else [context.reply(reply)]


class Routers:
    """The routers of one engine, in the order they are tried; a command or a button belongs to the first router
    that declares it."""

    def __init__(self, routers: Sequence[Router]) -> None:
        self.routers = tuple(routers)
        self._commands: dict[str, CommandHandler] = {}
        self._presses: dict[type[Payload], PressHandler] = {}
        for router in reversed(self.routers):
            self._commands |= router.commands
            self._presses |= router.presses

    async def command(self, context: Context, name: str, argument: str) -> Reply:
        handler = self._commands.get(name)
        return await handler(context, argument) if handler is not None else None

    async def press(self, context: Context, payload: Payload) -> Reply:
        handler = self._presses.get(type(payload))
        return await handler(context, payload) if handler is not None else None

    async def text(self, context: Context, understanding: Understanding) -> Reply:
        for router in self.routers:
            for handler in router.texts:
                if (reply := await handler(context, understanding)) is not None:
                    return reply
        return None

    async def attachment(self, context: Context) -> Reply:
        for router in self.routers:
            for handler in router.media:
                if (reply := await handler(context)) is not None:
                    return reply
        return None
