"""Engine.handle(Inbound) -> list[Outbound]: the conversation, the same on every channel.

What a message means is the Understander's (pure, shared); the engine adds the person's stored language,
commands, button presses, the consultants' desk and the conversation log.
"""

from __future__ import annotations

import asyncio
import logging

from bot.config import BotSection
from bot.core import replies as payloads
from bot.core import status as status_payloads
from bot.core.handoff import Desk
from bot.core.knowledge import Status
from bot.core.replies import Message
from bot.core.state import Turn, UserState, UserStore
from bot.core.text import clean_input, fold
from bot.core.understanding import Understander, Understanding
from bot.types import Address, Inbound, Outbound

log = logging.getLogger(__name__)
STATUS_VALUES = {s.value for s in Status}


def _saved_status(state: UserState) -> Status | None:
    """The status the person let the bot remember (a value the code no longer knows counts as none)."""
    return Status(state.legal_status) if state.legal_status in STATUS_VALUES else None


class Engine:
    def __init__(
        self,
        understander: Understander,
        bot: BotSection,
        store: UserStore | None = None,
        desk: Desk | None = None,
    ) -> None:
        self.understander = understander
        self.knowledge = understander.knowledge
        self.replies = understander.replies
        self.status = understander.status
        self.bot = bot
        self.store = store
        self.desk = desk

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
        creates = inbound.payload is None or inbound.payload.startswith(payloads.LANGUAGE)
        state = await store.touch(inbound.address, create=creates)
        if state is None:
            log.info("%s: a button pressed by nobody we know: the welcome", inbound.address.channel)
            language = self._fallback_language(inbound)
            return [self.outbound(inbound, language, self.replies.welcome(language))]
        if inbound.payload is not None:
            return await self._press(store, inbound, state, inbound.payload)
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
            understanding.action,
            understanding.lang,
            understanding.entry,
            understanding.confidence,
        )
        routed = await self._to_desk(self.desk, inbound, state, text, understanding) if self.desk else None
        if routed is None and understanding.action == "answer" and understanding.entry is not None:
            reply = self._entry_message(understanding.lang, understanding.entry, state)
        else:
            reply = self.message_for(understanding)
        to_faq = routed is None and understanding.detail != "asked_human"
        await store.record_turn(
            inbound.address,
            Turn(
                understanding.action,
                understanding.entry,
                understanding.lang,
                detected_language=understanding.lang
                if understanding.language_source == "detected" and understanding.lang != state.language
                else None,
                question=text if to_faq and self.desk is not None and understanding.action != "smalltalk" else None,
                unanswered=(text, understanding.confidence)
                if to_faq and understanding.action in ("handoff", "suggest")
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

    async def _status_press(self, store: UserStore, inbound: Inbound, language: str, payload: str) -> Message | None:
        """The status buttons (bot.core.status), or None when the payload is no valid one of them."""
        if payload.startswith(status_payloads.ASKED):
            code, _, entry_id = payload[len(status_payloads.ASKED) :].partition(":")
            status = Status.from_code(code)
            if entry_id not in self.knowledge.entries or (status is None and code != status_payloads.UNKNOWN):
                return None
            await store.log_event(inbound.address, "answer", entry_id, language)
            answer = self.replies.answer(language, entry_id, status)
            if status is None:
                return answer
            return Message(answer.text, (self.status.remember_button(language, status),) + answer.buttons)
        code = payload.partition(":")[2]
        status = Status.from_code(code)
        if payload.startswith(status_payloads.REMEMBER) and status is not None:
            await store.set_legal_status(inbound.address, status.value)
            return self.status.saved(language, status)
        if payload.startswith(status_payloads.SET) and (status is not None or code == status_payloads.UNKNOWN):
            await store.set_legal_status(inbound.address, status.value if status is not None else None)
            return self.status.saved(language, status) if status is not None else self.status.cleared(language)
        return None

    async def _to_desk(
        self, desk: Desk, inbound: Inbound, state: UserState, text: str, understanding: Understanding
    ) -> list[Outbound] | None:
        """Tickets come before the FAQ, safety before tickets: an emergency is answered, then queued as urgent."""
        lang = understanding.lang
        if understanding.action == "emergency":
            ack = await desk.open(inbound.address, lang, "high_risk", understanding.topic, [text], urgent=True)
            first = self.replies.emergency(lang, understanding.detail or "", offer_consultant=False)
            return [self.outbound(inbound, lang, first), self.outbound(inbound, lang, ack)]
        ticket = await desk.current(inbound.address) if state.has_tickets else None
        if ticket is not None and not (ticket.status == "closed" and understanding.action == "smalltalk"):
            return [self.outbound(inbound, lang, await desk.join(ticket, text, lang))]
        if understanding.detail == "asked_human":
            return [self.outbound(inbound, lang, await desk.open(inbound.address, lang, "asked_human", None, []))]
        return None

    async def _press(self, store: UserStore, inbound: Inbound, state: UserState, payload: str) -> list[Outbound]:
        language = self._fallback_language(inbound, state)
        value = payload.partition(":")[2]
        message: Message
        status_message = await self._status_press(store, inbound, language, payload)
        if status_message is not None:
            message = status_message
        elif payload.startswith(payloads.ENTRY) and value in self.knowledge.entries:
            await store.log_event(inbound.address, "answer", value, language)
            message = self._entry_message(language, value, state)
        elif payload.startswith(payloads.TOPIC) and value in self.knowledge.topics:
            message = self.replies.topic(language, value)
        elif payload.startswith(payloads.LANGUAGE) and value in self.bot.languages:
            await store.set_language(inbound.address, value, chosen=True)
            language = value
            message = self.replies.language_set(value)
        elif payload == payloads.MENU:
            message = self.replies.topics(language)
        elif payload in (payloads.HANDOFF, payloads.ACCEPT_OFFER, payloads.AFTER_THUMBS_DOWN, payloads.NONE_OF_THESE):
            await store.log_event(inbound.address, "handoff", None, language)
            if self.desk is None:
                message = self.replies.handoff_unavailable(language)
            else:
                reason = {payloads.HANDOFF: "asked_human", payloads.AFTER_THUMBS_DOWN: "negative_feedback"}
                message = await self.desk.open(
                    inbound.address, language, reason.get(payload, "low_confidence"), None, []
                )
        elif payload.startswith(payloads.FEEDBACK) and self._feedback_target(value) is not None:
            message = await self._feedback(store, inbound, language, value)
        else:
            log.info("%s: stale or unknown button payload", inbound.address.channel)
            message = self.replies.stale_button(language)
        return [self.outbound(inbound, language, message)]

    async def _attachment(self, inbound: Inbound, state: UserState, caption: str) -> list[Outbound]:
        """Media cannot be read here, but a consultant can open it: while a ticket is open, it joins the ticket."""
        language = self._fallback_language(inbound, state)
        if self.desk is not None:
            ticket = await self.desk.current(inbound.address) if state.has_tickets else None
            if ticket is not None and ticket.status != "closed":
                note = f"[{inbound.attachment}] {caption}".strip()
                return [self.outbound(inbound, language, await self.desk.join(ticket, note, language))]
        return [self.outbound(inbound, language, self.replies.media(language))]

    def _feedback_target(self, value: str) -> tuple[str | None, int | None] | None:
        """'+:12' is a ticket, '+:e:<entry>' an FAQ entry; anything else is a stale button."""
        target = value[2:]
        if value[:2] not in ("+:", "-:"):
            return None
        if target.isdigit():
            return None, int(target)
        if target.startswith("e:") and target[2:] in self.knowledge.entries:
            return target[2:], None
        return None

    async def _feedback(self, store: UserStore, inbound: Inbound, language: str, value: str) -> Message:
        target = self._feedback_target(value)
        assert target is not None
        entry_id, ticket_id = target
        helpful = value.startswith("+")
        await store.record_feedback(inbound.address, entry_id, ticket_id, helpful)
        if helpful:
            return self.replies.thanks_for_feedback(language)
        if ticket_id is not None and self.desk is not None:
            return await self.desk.open(inbound.address, language, "negative_feedback", None, [])
        return self.replies.sorry_not_helpful(language)

    async def _command(self, store: UserStore, inbound: Inbound, state: UserState, text: str) -> list[Outbound]:
        language = self._fallback_language(inbound, state)
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        argument = argument.strip()
        if command == "/start":
            if argument.startswith("lang_"):
                return await self._press(store, inbound, state, payloads.LANGUAGE + argument[5:])
            if argument.startswith("topic_"):
                return await self._press(store, inbound, state, payloads.TOPIC + argument[6:])
            return [  # two messages, as each carries its own keyboard: the languages, then the topics
                self.outbound(inbound, language, self.replies.welcome(language)),
                self.outbound(inbound, language, self.replies.topics(language)),
            ]
        elif command == "/help":
            message = self.replies.help(language)
        elif command == "/language":
            message = self.replies.choose_language(language)
        elif command == "/topics":
            message = self.replies.topics(language)
        elif command == "/status":
            message = self.status.menu(language, _saved_status(state))
        elif command == "/privacy":
            message = self.replies.privacy(language, self.bot.retention_days)
        elif command == "/consultant" and self.desk is not None:
            await store.log_event(inbound.address, "handoff", None, language)
            message = await self.desk.open(inbound.address, language, "asked_human", None, [])
        elif command == "/cancel" and self.desk is not None:
            message = await self.desk.cancel(inbound.address, language)
        elif command == "/forget":
            await store.forget(inbound.address)
            message = self.replies.forgotten(language)
        else:
            message = self.replies.unknown_command(language)
        return [self.outbound(inbound, language, message)]
