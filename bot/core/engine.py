"""Engine.handle(Inbound) -> list[Outbound]: the conversation, the same on every channel.

What a message means is the Understander's (pure, shared). The engine reads the person's state and resolves
their language once per update, then hands the update to the feature routers (bot/core/features.py): a button
to the router that declares its payload, a command to the one that declares its name, a text (once understood)
and media to each in turn until one answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from bot.config import BotSection
from bot.core.event_chat import EventChat, local_clock
from bot.core.features import FEATURES, Feature
from bot.core.handoff import Desk
from bot.core.outreach import OutreachStore
from bot.core.payloads import ChooseLanguage, Payload, unpack
from bot.core.replies import Message
from bot.core.routing import Context, Routers, outbounds
from bot.core.state import UserState, UserStore
from bot.core.text import clean_input, fold
from bot.core.understanding import Understander, Understanding
from bot.types import Address, Inbound, Outbound

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        understander: Understander,
        bot: BotSection,
        store: UserStore | None = None,
        desk: Desk | None = None,
        outreach: OutreachStore | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        features: Sequence[Feature] = FEATURES,
    ) -> None:
        """`outreach`: subscriptions and event sign-ups (none: no /events); `clock`: local now, for events;
        `features`: the routers, in the order they are tried (each built from this engine)."""
        self.bot = bot
        self.store = store
        self.desk = desk
        self.outreach = outreach
        self.clock = clock or local_clock("Europe/Sofia")
        self.use(understander)
        self.routers = Routers([feature(self) for feature in features])

    def use(self, understander: Understander) -> None:
        """Answer from now on with this understanding step (a reloaded knowledge base): one assignment per
        part, so a conversation in progress reads either the old knowledge base or the new, never a mix of
        the two within one part."""
        self.understander = understander
        self.knowledge = understander.knowledge
        self.replies = understander.replies
        self.status = understander.status
        self.events = EventChat(understander.events, self.outreach, self.clock) if self.outreach else None

    def understand(
        self, text: str, chosen: str | None = None, previous: str | None = None, hint: str | None = None
    ) -> Understanding:
        return self.understander.understand(text, chosen, previous, hint)

    def message_for(self, understanding: Understanding) -> Message:
        return self.understander.message_for(understanding, with_desk=self.desk is not None)

    def render_text(self, language: str, message: Message) -> str:
        return self.understander.render_text(language, message)

    def outbound(self, inbound: Inbound, language: str, message: Message) -> Outbound:
        return Outbound(inbound.address, self.render_text(language, message), message.buttons, language)

    async def choose_language(self, address: Address, language: str) -> None:
        """Record a language choice made outside the chat (such as `migrant-bot chat --lang uk`)."""
        if self.store is not None and language in self.bot.languages:
            await self.store.set_language(address, language, chosen=True)

    # -- the conversation ----------------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Never raises: a failure is logged (without the message text) and the user gets an apology."""
        try:
            return await self._handle(inbound)
        except Exception:
            log.exception("failed to handle a message from channel %s", inbound.address.channel)
            language = self._fallback_language(inbound)
            return [self.outbound(inbound, language, self.replies.apology(language))]

    async def flooded(self, inbound: Inbound) -> list[Outbound]:
        """The one notice a person writing too fast gets, in their language; their messages are not read."""
        state = await self.store.touch(inbound.address, create=False) if self.store is not None else None
        language = self._fallback_language(inbound, state)
        return [self.outbound(inbound, language, self.replies.slow_down(language))]

    def is_emergency(self, text: str) -> bool:
        """The crisis check alone, cheap enough for every message that arrives, flood or not."""
        return self.understander.safety.check(fold(clean_input(text))) is not None

    async def deactivate(self, address: Address) -> None:
        """The person blocked the bot or left: send them nothing more."""
        if self.store is not None:
            await self.store.deactivate(address)

    def _fallback_language(self, inbound: Inbound, state: UserState | None = None) -> str:
        if state is not None and state.language in self.bot.languages:
            return state.language
        hint = (inbound.language_hint or "").split("-")[0].lower()
        return hint if hint in self.bot.languages else self.bot.default_language

    async def _handle(self, inbound: Inbound) -> list[Outbound]:
        store = self.store
        if store is None:
            raise RuntimeError("Engine.handle needs a store; use understand() for stateless use")
        text = clean_input(inbound.text)
        if inbound.payload is None and inbound.attachment is None and not text:
            return []  # a blank message says nothing and changes nothing
        # a button from before /forget must not bring the person back: only the language menu creates a user
        payload = unpack(inbound.payload) if inbound.payload is not None else None
        creates = inbound.payload is None or isinstance(payload, ChooseLanguage)
        state = await store.touch(inbound.address, create=creates)
        if state is None:
            log.info("%s: a button pressed by nobody we know: the welcome", inbound.address.channel)
            language = self._fallback_language(inbound)
            return [self.outbound(inbound, language, self.replies.welcome(language))]
        # the language middleware: resolved once, for every router
        context = Context(inbound, store, state, self._fallback_language(inbound, state), text, self.render_text)
        if inbound.payload is not None:
            return await self.press(context, payload)
        if inbound.attachment is not None:
            return outbounds(context, await self.routers.attachment(context) or self.replies.media(context.language))
        if text.startswith("/"):
            command, _, argument = text.partition(" ")
            reply = await self.routers.command(context, command.split("@")[0].lower(), argument.strip())
            return outbounds(context, reply or self.replies.unknown_command(context.language))
        # the encoder takes milliseconds of CPU: in a thread, so other chats go on meanwhile
        understanding = await asyncio.to_thread(
            self.understand, text, state.language if state.chosen else None, state.language, inbound.language_hint
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("message %r -> %s", text, understanding)
        log.info(
            "%s %s lang=%s entry=%s confidence=%.2f",
            inbound.address.channel,
            understanding.action.value,
            understanding.lang,
            understanding.entry,
            understanding.confidence,
        )
        reply = await self.routers.text(context, understanding)
        assert reply is not None, "the FAQ router answers every text"
        return outbounds(context, reply)

    async def press(self, context: Context, payload: Payload | None) -> list[Outbound]:
        """A button (None: one this version cannot read); what it names being gone gets the stale-button reply."""
        reply = await self.routers.press(context, payload) if payload is not None else None
        if reply is None:
            log.info("%s: stale or unknown button payload", context.address.channel)
            reply = self.replies.stale_button(context.language)
        return outbounds(context, reply)

    def event_chat(self) -> EventChat:
        assert self.events is not None, "the events router exists only with an outreach store"
        return self.events
