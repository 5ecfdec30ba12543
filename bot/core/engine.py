"""Engine.handle(Inbound) -> list[Outbound]: the conversation, the same on every channel.

Understanding a message runs in a fixed order: safety, small talk, FAQ match, decision. `understand` is pure
(no state), which is what `migrant-bot ask` and the evaluation use; `handle` adds the user's stored language,
commands, button presses and the conversation log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import BotSection, ClassifierSection
from bot.core import replies as payloads
from bot.core.classifier import Classifier, decide
from bot.core.flood import FloodGate, Verdict
from bot.core.handoff import Desk
from bot.core.knowledge import KnowledgeBase
from bot.core.language import LanguageDetector
from bot.core.replies import Message, Replies
from bot.core.safety import SafetyCheck
from bot.core.smalltalk import INTENTS, SmallTalk
from bot.core.state import Turn, UserState, UserStore
from bot.core.stopwords import FUNCTION_WORDS
from bot.core.text import clean_input, fold, latin_to_cyrillic, script_of
from bot.i18n import RTL_LANGUAGES, I18n, isolate_ltr_runs
from bot.types import Address, Inbound, Outbound

log = logging.getLogger(__name__)

EMERGENCY_TOPIC = {"violence": "violence", "child": "violence", "trafficking": "trafficking", "medical": "health",
                   "suicide": "health"}


@dataclass(frozen=True)
class Understanding:
    lang: str
    action: str  # answer, suggest, handoff, emergency, smalltalk
    topic: str | None = None
    entry: str | None = None
    confidence: float = 0.0
    suggestions: tuple[str, ...] = ()
    detail: str | None = None  # the emergency category, small-talk kind, or "asked_human"
    language_source: str = "default"  # chosen, detected, previous, hint or default


class Engine:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        bot: BotSection,
        classifier: ClassifierSection,
        i18n: I18n,
        store: UserStore | None = None,
        desk: Desk | None = None,
        flood: FloodGate | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.bot = bot
        self.settings = classifier
        self.store = store
        self.desk = desk
        self.flood = flood
        self.replies = Replies(knowledge, i18n, bot.languages)
        self.safety = SafetyCheck()
        self.smalltalk = SmallTalk()
        self.classifier = Classifier(knowledge)
        self.detector = LanguageDetector(self._language_samples(i18n))

    def _language_samples(self, i18n: I18n) -> dict[str, list[str]]:
        samples: dict[str, list[str]] = {language: list(i18n.texts(language)) for language in self.bot.languages}
        for entry in self.knowledge.entries.values():
            for language in self.bot.languages:
                samples[language].extend(entry.questions.get(language, ()))
                samples[language].extend(entry.keywords.get(language, ()))
                samples[language].append(entry.answers.get(language, ""))
        for topic in self.knowledge.topics.values():
            for language in self.bot.languages:
                samples[language].append(topic.titles.get(language, ""))
        for language, words in FUNCTION_WORDS.items():
            if language in samples:
                samples[language].append(words)
        for by_language in INTENTS.values():
            for language, phrases in by_language.items():
                if language in samples:
                    samples[language].extend(phrases)
        return samples

    # -- understanding -------------------------------------------------------------------------------------

    def _pick_language(
        self, text: str, chosen: str | None, previous: str | None, hint: str | None
    ) -> tuple[str, str, list[tuple[str, str]]]:
        """Return the reply language, why it was picked, and the (text, language) searches to run."""
        detection = self.detector.detect(text)
        if detection.translit:
            cyrillic = latin_to_cyrillic(text)
            searches = [(cyrillic, lang) for lang in self.detector.languages_for_script("cyrillic")]
            searches += [(text, lang) for lang in self.detector.languages_for_script("latin")]
        elif detection.language is not None:
            searches = [(text, detection.language)]
            searches += [(text, lang) for lang in self.detector.languages_for_script(script_of(text))
                         if lang != detection.language]
        else:
            searches = []
        confident = detection.language is not None and detection.confidence >= self.settings.language_confidence
        hint = (hint or "").split("-")[0].lower() or None
        if chosen in self.bot.languages:
            reply, why = chosen, "chosen"
        elif confident and detection.language is not None:
            reply, why = detection.language, "detected"
        elif previous in self.bot.languages:
            reply, why = previous, "previous"
        elif hint in self.bot.languages:
            reply, why = hint, "hint"
        elif detection.language is not None:
            reply, why = detection.language, "detected"
        else:
            reply, why = self.bot.default_language, "default"
        return reply, why, searches or [(text, reply)]

    def understand(
        self, text: str, chosen: str | None = None, previous: str | None = None, hint: str | None = None
    ) -> Understanding:
        text = clean_input(text)
        folded = fold(text)
        lang, why, searches = self._pick_language(text, chosen, previous, hint)
        if not folded:
            return Understanding(lang, "smalltalk", detail="empty", language_source=why)
        alert = self.safety.check(folded)
        if alert is not None:
            return Understanding(lang, "emergency", EMERGENCY_TOPIC.get(alert.category), detail=alert.category,
                                 confidence=1.0, language_source=why)
        intent = self.smalltalk.check(folded)
        if intent is not None and intent.kind == "human":
            return Understanding(lang, "handoff", detail="asked_human", confidence=1.0, language_source=why)
        if intent is not None:
            return Understanding(lang, "smalltalk", detail=intent.kind, confidence=1.0, language_source=why)
        matches = self.classifier.rank(searches, primary=searches[0][1])
        decision = decide(matches, self.settings)
        best = decision.matches[0] if decision.matches else None
        return Understanding(
            lang,
            decision.action,
            topic=best.topic if best else None,
            entry=best.entry_id if best else None,
            confidence=best.score if best else 0.0,
            suggestions=tuple(m.entry_id for m in decision.matches) if decision.action == "suggest" else (),
            language_source=why,
        )

    # -- replies -------------------------------------------------------------------------------------------

    def message_for(self, understanding: Understanding) -> Message:
        lang = understanding.lang
        if understanding.action == "emergency":
            return self.replies.emergency(lang, understanding.detail or "")
        if understanding.action == "smalltalk":
            return self.replies.smalltalk(lang, understanding.detail or "")
        if understanding.action == "answer" and understanding.entry:
            return self.replies.answer(lang, understanding.entry)
        if understanding.action == "suggest":
            return self.replies.suggest(lang, understanding.suggestions)
        if understanding.detail == "asked_human":
            return self.replies.handoff_unavailable(lang) if self.desk is None else self.replies.handoff_offer(lang)
        return self.replies.handoff_offer(lang)

    def render_text(self, language: str, message: Message) -> str:
        return isolate_ltr_runs(message.text) if language in RTL_LANGUAGES else message.text

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

    def _fallback_language(self, inbound: Inbound, state: UserState | None = None) -> str:
        if state is not None and state.language in self.bot.languages:
            return state.language
        hint = (inbound.language_hint or "").split("-")[0].lower()
        return hint if hint in self.bot.languages else self.bot.default_language

    async def _handle(self, inbound: Inbound) -> list[Outbound]:
        store = self.store
        if store is None:
            raise RuntimeError("Engine.handle needs a store; use understand() for stateless use")
        state = await store.touch(inbound.address, inbound.dedupe_key)
        if state is None:
            log.info("%s: an update seen before, ignored", inbound.address.channel)
            return []
        text = clean_input(inbound.text)
        if self.flood is not None:
            verdict = self.flood.check(inbound.address)
            if verdict is not Verdict.PASS and self.safety.check(fold(text)) is None:  # danger always gets through
                language = self._fallback_language(inbound, state)
                return [self.outbound(inbound, language, self.replies.slow_down(language))] if verdict is Verdict.WARN else []
        if inbound.payload is not None:
            return await self._press(store, inbound, state, inbound.payload)
        if inbound.attachment is not None:
            return await self._attachment(inbound, state, text)
        if text.startswith("/"):
            return await self._command(store, inbound, state, text)
        understanding = self.understand(
            text,
            chosen=state.language if state.chosen else None,
            previous=state.language,
            hint=inbound.language_hint,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("message %r -> %s", text, understanding)
        log.info(
            "%s %s lang=%s entry=%s confidence=%.2f",
            inbound.address.channel, understanding.action, understanding.lang, understanding.entry,
            understanding.confidence,
        )
        routed = await self._to_desk(self.desk, inbound, state, text, understanding) if self.desk else None
        to_faq = routed is None and understanding.detail != "asked_human"
        await store.record_turn(inbound.address, Turn(
            understanding.action, understanding.entry, understanding.lang,
            detected_language=understanding.lang
            if understanding.language_source == "detected" and understanding.lang != state.language else None,
            question=text if to_faq and self.desk is not None and understanding.action != "smalltalk" else None,
            unanswered=(text, understanding.confidence)
            if to_faq and understanding.action in ("handoff", "suggest") else None,
        ))
        return routed or [self.outbound(inbound, understanding.lang, self.message_for(understanding))]

    async def _to_desk(
        self, desk: Desk, inbound: Inbound, state: UserState, text: str, understanding: Understanding
    ) -> list[Outbound] | None:
        """Tickets come before the FAQ, safety before tickets: an emergency is answered, then queued as urgent."""
        lang = understanding.lang
        if understanding.action == "emergency":
            ack = await desk.open(inbound.address, lang, "high_risk", understanding.topic, [text], urgent=True)
            return [self.outbound(inbound, lang, self.message_for(understanding)), self.outbound(inbound, lang, ack)]
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
        if payload.startswith(payloads.ENTRY) and value in self.knowledge.entries:
            await store.log_event(inbound.address, "answer", value, language)
            message = self.replies.answer(language, value)
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
                message = await self.desk.open(inbound.address, language, reason.get(payload, "low_confidence"), None, [])
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
