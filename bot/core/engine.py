"""Engine.handle(Inbound) -> list[Outbound]: the conversation, the same on every channel.

What a message means is the Understander's (pure, shared); the engine adds the person's stored language,
commands, button presses, the consultants' desk and the conversation log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot.config import BotSection
from bot.core.actions import Action
from bot.core.event_chat import EventChat, local_clock
from bot.core.handoff import Desk
from bot.core.knowledge import Status
from bot.core.outreach import OutreachStore
from bot.core.payloads import (
    AskConsultant,
    ChooseLanguage,
    EventButton,
    EventList,
    Feedback,
    HandoffReason,
    NoneOfThese,
    Payload,
    RememberStatus,
    SetStatus,
    ShowEntry,
    ShowTopic,
    StatusAnswer,
    SubscribeCity,
    SubscribeTopic,
    TopicMenu,
    unpack,
)
from bot.core.replies import Message
from bot.core.state import Turn, UserState, UserStore
from bot.core.text import clean_input, fold
from bot.core.tickets import TicketStatus
from bot.core.understanding import LanguageSource, Understander, Understanding
from bot.types import Address, Inbound, Outbound

log = logging.getLogger(__name__)
STATUS_VALUES = {s.value for s in Status}


def _saved_status(state: UserState) -> Status | None:
    """The status the person let the bot remember (a value the code no longer knows counts as none)."""
    return Status(state.legal_status) if state.legal_status in STATUS_VALUES else None


Command = Callable[[UserStore, Address, UserState, str], Awaitable[Message]]  # store, who, their state, language


async def _done(message: Message) -> Message:
    """A command's reply that needs no waiting."""
    return message


TICKET_REASONS = {  # a consultant button's reason, as the ticket records it
    HandoffReason.ASKED: "asked_human",
    HandoffReason.NOT_HELPFUL: "negative_feedback",
    HandoffReason.LOW_CONFIDENCE: "low_confidence",
}


class Engine:
    def __init__(
        self,
        understander: Understander,
        bot: BotSection,
        store: UserStore | None = None,
        desk: Desk | None = None,
        outreach: OutreachStore | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`outreach`: subscriptions and event sign-ups (none: no /events); `clock`: local now, for events."""
        self.bot = bot
        self.store = store
        self.desk = desk
        self.outreach = outreach
        self.clock = clock or local_clock("Europe/Sofia")
        self.use(understander)
        self._command_table = self._commands()

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
        if inbound.payload is not None:
            return await self._press(store, inbound, state, payload)
        if inbound.attachment is not None:
            return await self._attachment(inbound, state, text)
        if text.startswith("/"):
            return await self._command(store, inbound, state, text)
        # the encoder takes milliseconds of CPU: in a thread, so other chats go on meanwhile
        understanding = await asyncio.to_thread(
            self.understand,
            text,
            state.language if state.chosen else None,
            state.language,
            inbound.language_hint,
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
        routed = await self._to_desk(self.desk, inbound, state, text, understanding) if self.desk else None
        if routed is None and understanding.action is Action.ANSWER and understanding.entry is not None:
            reply = self._entry_message(understanding.lang, understanding.entry, state)
        else:
            reply = self.message_for(understanding)
        to_faq = routed is None and not understanding.asked_human
        await store.record_turn(
            inbound.address,
            Turn(
                understanding.action.value,
                understanding.entry,
                understanding.lang,
                detected_language=understanding.lang
                if understanding.language_source is LanguageSource.DETECTED and understanding.lang != state.language
                else None,
                question=text
                if to_faq and self.desk is not None and understanding.action is not Action.SMALLTALK
                else None,
                unanswered=(text, understanding.confidence)
                if to_faq and understanding.action in (Action.HANDOFF, Action.SUGGEST)
                else None,
            ),
        )
        return routed or [self.outbound(inbound, understanding.lang, reply)]

    def _entry_message(self, language: str, entry_id: str, state: UserState) -> Message:
        """An entry's answer for the person's saved status; if it depends on a status nobody saved, the question."""
        saved = _saved_status(state)
        if self.knowledge.entries[entry_id].variants and saved is None:
            return self.status.ask(language, entry_id)
        return self.replies.answer(language, entry_id, saved)

    async def _to_desk(
        self, desk: Desk, inbound: Inbound, state: UserState, text: str, understanding: Understanding
    ) -> list[Outbound] | None:
        """Tickets come before the FAQ, safety before tickets: an emergency is answered, then queued as urgent."""
        lang = understanding.lang
        if understanding.action is Action.EMERGENCY:
            ack = await desk.open(inbound.address, lang, "high_risk", understanding.topic, [text], urgent=True)
            first = self.replies.emergency(lang, understanding.category or "", offer_consultant=False)
            return [self.outbound(inbound, lang, first), self.outbound(inbound, lang, ack)]
        ticket = await desk.current(inbound.address) if state.has_tickets else None
        if ticket is not None and not (
            ticket.status == TicketStatus.CLOSED and understanding.action is Action.SMALLTALK
        ):
            return [self.outbound(inbound, lang, await desk.join(ticket, text, lang))]
        if understanding.asked_human:
            return [self.outbound(inbound, lang, await desk.open(inbound.address, lang, "asked_human", None, []))]
        return None

    async def _press(
        self, store: UserStore, inbound: Inbound, state: UserState, payload: Payload | None
    ) -> list[Outbound]:
        """A button (None: one this version cannot read)."""
        language = self._fallback_language(inbound, state)
        message = await self._pressed(store, inbound, state, language, payload) if payload is not None else None
        if message is None:
            log.info("%s: stale or unknown button payload", inbound.address.channel)
            message = self.replies.stale_button(language)
        elif isinstance(payload, ChooseLanguage):
            language = payload.language
        return [self.outbound(inbound, language, message)]

    async def _pressed(
        self, store: UserStore, inbound: Inbound, state: UserState, language: str, payload: Payload
    ) -> Message | None:
        """What a button does; None when what it names is gone (an entry, a topic, a language, a ticket)."""
        entries, address = self.knowledge.entries, inbound.address
        match payload:
            case ShowEntry(entry) if entry in entries:
                await store.log_event(address, "answer", entry, language)
                return self._entry_message(language, entry, state)
            case ShowTopic(topic) if topic in self.knowledge.topics:
                return self.replies.topic(language, topic)
            case ChooseLanguage(chosen) if chosen in self.bot.languages:
                await store.set_language(address, chosen, chosen=True)
                return self.replies.language_set(chosen)
            case TopicMenu():
                return self.replies.topics(language)
            case AskConsultant() | NoneOfThese():
                await store.log_event(address, "handoff", None, language)
                if self.desk is None:
                    return self.replies.handoff_unavailable(language)
                reason = payload.reason if isinstance(payload, AskConsultant) else HandoffReason.LOW_CONFIDENCE
                return await self.desk.open(address, language, TICKET_REASONS[reason], None, [])
            case Feedback(helpful, ticket, entry) if ticket is not None or entry in entries:
                return await self._feedback(store, address, language, helpful, entry, ticket)
            case StatusAnswer(status, entry) if entry in entries:
                await store.log_event(address, "answer", entry, language)
                answer = self.replies.answer(language, entry, status)
                if status is None:
                    return answer
                return Message(answer.text, (self.status.remember_button(language, status), *answer.buttons))
            case RememberStatus(status):
                await store.set_legal_status(address, status.value)
                return self.status.saved(language, status)
            case SetStatus(status):
                await store.set_legal_status(address, status.value if status is not None else None)
                return self.status.saved(language, status) if status is not None else self.status.cleared(language)
            case EventList() | EventButton() | SubscribeCity() | SubscribeTopic() if self.events is not None:
                return await self.events.press(address, language, payload)
        return None

    async def _attachment(self, inbound: Inbound, state: UserState, caption: str) -> list[Outbound]:
        """Media cannot be read here, but a consultant can open it: while a ticket is open, it joins the ticket."""
        language = self._fallback_language(inbound, state)
        if self.desk is not None:
            ticket = await self.desk.current(inbound.address) if state.has_tickets else None
            if ticket is not None and ticket.status != TicketStatus.CLOSED:
                note = f"[{inbound.attachment}] {caption}".strip()
                return [self.outbound(inbound, language, await self.desk.join(ticket, note, language))]
        return [self.outbound(inbound, language, self.replies.media(language))]

    async def _feedback(
        self,
        store: UserStore,
        address: Address,
        language: str,
        helpful: bool,
        entry_id: str | None,
        ticket_id: int | None,
    ) -> Message:
        await store.record_feedback(address, entry_id, ticket_id, helpful)
        if helpful:
            return self.replies.thanks_for_feedback(language)
        if ticket_id is not None and self.desk is not None:
            return await self.desk.open(address, language, "negative_feedback", None, [])
        return self.replies.sorry_not_helpful(language)

    async def _command(self, store: UserStore, inbound: Inbound, state: UserState, text: str) -> list[Outbound]:
        language = self._fallback_language(inbound, state)
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        argument = argument.strip()
        if command == "/start":
            if argument.startswith("lang_"):
                return await self._press(store, inbound, state, ChooseLanguage(argument[5:]))
            if argument.startswith("topic_"):
                return await self._press(store, inbound, state, ShowTopic(argument[6:]))
            return [  # two messages, as each carries its own keyboard: the languages, then the topics
                self.outbound(inbound, language, self.replies.welcome(language)),
                self.outbound(inbound, language, self.replies.topics(language)),
            ]
        handler = self._command_table.get(command)
        message = await handler(store, inbound.address, state, language) if handler else None
        return [self.outbound(inbound, language, message or self.replies.unknown_command(language))]

    def _commands(self) -> dict[str, Command]:
        """Every command but /start (which may answer with two messages); the desk's only where there is one."""
        commands: dict[str, Command] = {
            "/help": lambda store, address, state, language: _done(self.replies.help(language)),
            "/language": lambda store, address, state, language: _done(self.replies.choose_language(language)),
            "/topics": lambda store, address, state, language: _done(self.replies.topics(language)),
            "/status": lambda store, address, state, language: _done(self.status.menu(language, _saved_status(state))),
            "/privacy": lambda store, address, state, language: _done(
                self.replies.privacy(language, self.bot.retention_days)
            ),
            "/forget": self._forget,
        }
        if self.desk is not None:
            commands |= {"/consultant": self._ask_consultant, "/cancel": self._cancel}
        if self.outreach is not None:
            commands |= {
                "/events": lambda store, address, state, language: self._event_chat().events(address, language),
                "/subscribe": lambda store, address, state, language: _done(self._event_chat().subscribe(language)),
                "/unsubscribe": lambda store, address, state, language: self._event_chat().unsubscribe(
                    address, language
                ),
            }
        return commands

    def _event_chat(self) -> EventChat:
        assert self.events is not None
        return self.events

    async def _forget(self, store: UserStore, address: Address, state: UserState, language: str) -> Message:
        await store.forget(address)
        return self.replies.forgotten(language)

    async def _ask_consultant(self, store: UserStore, address: Address, state: UserState, language: str) -> Message:
        assert self.desk is not None
        await store.log_event(address, "handoff", None, language)
        return await self.desk.open(address, language, "asked_human", None, [])

    async def _cancel(self, store: UserStore, address: Address, state: UserState, language: str) -> Message:
        assert self.desk is not None
        return await self.desk.cancel(address, language)
