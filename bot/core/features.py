"""The conversation's features, one router each, in the order the engine tries them.

Each reads the engine's parts when a message comes (never when it is built): a reloaded knowledge base is what
the next message sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.actions import Action
from bot.core.knowledge import Status
from bot.core.payloads import (
    AskConsultant,
    ChooseLanguage,
    EventButton,
    EventList,
    Feedback,
    HandoffReason,
    NoneOfThese,
    RememberStatus,
    SetStatus,
    ShowEntry,
    ShowTopic,
    StatusAnswer,
    SubscribeCity,
    SubscribeTopic,
    TopicMenu,
)
from bot.core.replies import Message
from bot.core.routing import Context, Reply, Router
from bot.core.state import Turn, UserState
from bot.core.tickets import TicketStatus
from bot.core.understanding import LanguageSource, Understanding

if TYPE_CHECKING:
    from bot.core.engine import Engine

STATUS_VALUES = {s.value for s in Status}
TICKET_REASONS = {  # a consultant button's reason, as the ticket records it
    HandoffReason.ASKED: "asked_human",
    HandoffReason.NOT_HELPFUL: "negative_feedback",
    HandoffReason.LOW_CONFIDENCE: "low_confidence",
}


def saved_status(state: UserState) -> Status | None:
    """The status the person let the bot remember (a value the code no longer knows counts as none)."""
    return Status(state.legal_status) if state.legal_status in STATUS_VALUES else None


def entry_message(engine: Engine, language: str, entry_id: str, state: UserState) -> Message:
    """An entry's answer for the person's saved status; if it depends on a status nobody saved, the question."""
    saved = saved_status(state)
    if engine.knowledge.entries[entry_id].variants and saved is None:
        return engine.status.ask(language, entry_id)
    return engine.replies.answer(language, entry_id, saved)


def turn_of(context: Context, understanding: Understanding, to_faq: bool, with_desk: bool) -> Turn:
    """What an understood message leaves behind: the language it showed, the question a consultant may need next
    (where there is a desk), the question the FAQ could not answer (for the admins); the last two only when the
    FAQ, not the desk, took the message."""
    action = understanding.action
    return Turn(
        action.value,
        understanding.entry,
        understanding.lang,
        detected_language=understanding.lang
        if understanding.language_source is LanguageSource.DETECTED and understanding.lang != context.state.language
        else None,
        question=context.text if to_faq and with_desk and action is not Action.SMALLTALK else None,
        unanswered=(context.text, understanding.confidence)
        if to_faq and action in (Action.HANDOFF, Action.SUGGEST)
        else None,
    )


def navigation(engine: Engine) -> Router:
    """The welcome, help, the topics and the entries in them."""
    router = Router("navigation")

    @router.command("/start")
    async def start(context: Context, argument: str) -> Reply:
        if argument.startswith("lang_"):
            return await engine.press(context, ChooseLanguage(argument[5:]))
        if argument.startswith("topic_"):
            return await engine.press(context, ShowTopic(argument[6:]))
        return [  # two messages, as each carries its own keyboard: the languages, then the topics
            context.reply(engine.replies.welcome(context.language)),
            context.reply(engine.replies.topics(context.language)),
        ]

    @router.command("/help")
    async def help_(context: Context, argument: str) -> Reply:
        return engine.replies.help(context.language)

    @router.command("/topics")
    @router.press(TopicMenu)
    async def topics(context: Context, _: object) -> Reply:
        return engine.replies.topics(context.language)

    @router.press(ShowTopic)
    async def topic(context: Context, payload: ShowTopic) -> Reply:
        known = payload.topic in engine.knowledge.topics
        return engine.replies.topic(context.language, payload.topic) if known else None

    @router.press(ShowEntry)
    async def entry(context: Context, payload: ShowEntry) -> Reply:
        if payload.entry not in engine.knowledge.entries:
            return None
        await context.store.log_event(context.address, "answer", payload.entry, context.language)
        return entry_message(engine, context.language, payload.entry, context.state)

    return router


def language(engine: Engine) -> Router:
    router = Router("language")

    @router.command("/language")
    async def menu(context: Context, argument: str) -> Reply:
        return engine.replies.choose_language(context.language)

    @router.press(ChooseLanguage)
    async def choose(context: Context, payload: ChooseLanguage) -> Reply:
        if payload.language not in engine.bot.languages:
            return None
        await context.store.set_language(context.address, payload.language, chosen=True)
        return [context.reply(engine.replies.language_set(payload.language), payload.language)]

    return router


def status(engine: Engine) -> Router:
    """The legal status a person may let the bot remember, for answers that depend on it."""
    router = Router("status")

    @router.command("/status")
    async def menu(context: Context, argument: str) -> Reply:
        return engine.status.menu(context.language, saved_status(context.state))

    @router.press(StatusAnswer)
    async def answer(context: Context, payload: StatusAnswer) -> Reply:
        if payload.entry not in engine.knowledge.entries:
            return None
        await context.store.log_event(context.address, "answer", payload.entry, context.language)
        message = engine.replies.answer(context.language, payload.entry, payload.status)
        if payload.status is None:
            return message
        remember = engine.status.remember_button(context.language, payload.status)
        return Message(message.text, (remember, *message.buttons))

    @router.press(RememberStatus)
    async def remember(context: Context, payload: RememberStatus) -> Reply:
        await context.store.set_legal_status(context.address, payload.status.value)
        return engine.status.saved(context.language, payload.status)

    @router.press(SetStatus)
    async def set_(context: Context, payload: SetStatus) -> Reply:
        chosen = payload.status
        await context.store.set_legal_status(context.address, chosen.value if chosen is not None else None)
        return engine.status.saved(context.language, chosen) if chosen else engine.status.cleared(context.language)

    return router


def feedback(engine: Engine) -> Router:
    router = Router("feedback")

    @router.press(Feedback)
    async def rate(context: Context, payload: Feedback) -> Reply:
        if payload.ticket is None and payload.entry not in engine.knowledge.entries:
            return None
        await context.store.record_feedback(context.address, payload.entry, payload.ticket, payload.helpful)
        if payload.helpful:
            return engine.replies.thanks_for_feedback(context.language)
        if payload.ticket is not None and engine.desk is not None:
            return await engine.desk.open(context.address, context.language, "negative_feedback", None, [])
        return engine.replies.sorry_not_helpful(context.language)

    return router


def handoff(engine: Engine) -> Router:
    """The consultants' desk: asking for a person, emergencies queued as urgent, what is written while a ticket
    is open; without a desk, only the answer that there is none."""
    router = Router("handoff")

    @router.press(AskConsultant, NoneOfThese)
    async def ask(context: Context, payload: AskConsultant | NoneOfThese) -> Reply:
        await context.store.log_event(context.address, "handoff", None, context.language)
        if engine.desk is None:
            return engine.replies.handoff_unavailable(context.language)
        reason = payload.reason if isinstance(payload, AskConsultant) else HandoffReason.LOW_CONFIDENCE
        return await engine.desk.open(context.address, context.language, TICKET_REASONS[reason], None, [])

    desk = engine.desk
    if desk is None:
        return router

    @router.command("/consultant")
    async def consultant(context: Context, argument: str) -> Reply:
        return await ask(context, AskConsultant(HandoffReason.ASKED))

    @router.command("/cancel")
    async def cancel(context: Context, argument: str) -> Reply:
        return await desk.cancel(context.address, context.language)

    @router.text
    async def to_desk(context: Context, understanding: Understanding) -> Reply:
        """Tickets come before the FAQ, safety before tickets: an emergency is answered, then queued as urgent."""
        lang, text = understanding.lang, context.text
        if understanding.action is Action.EMERGENCY:
            ack = await desk.open(context.address, lang, "high_risk", understanding.topic, [text], urgent=True)
            first = engine.replies.emergency(lang, understanding.category or "", offer_consultant=False)
            reply = [context.reply(first, lang), context.reply(ack, lang)]
        elif (
            ticket := await desk.current(context.address) if context.state.has_tickets else None
        ) is not None and not (ticket.status == TicketStatus.CLOSED and understanding.action is Action.SMALLTALK):
            reply = [context.reply(await desk.join(ticket, text, lang), lang)]
        elif understanding.asked_human:
            reply = [context.reply(await desk.open(context.address, lang, "asked_human", None, []), lang)]
        else:
            return None
        await context.store.record_turn(context.address, turn_of(context, understanding, False, True))
        return reply

    @router.attachment
    async def to_ticket(context: Context) -> Reply:
        """Media cannot be read here, but a consultant can open it: while a ticket is open, it joins the ticket."""
        ticket = await desk.current(context.address) if context.state.has_tickets else None
        if ticket is None or ticket.status == TicketStatus.CLOSED:
            return None
        note = f"[{context.inbound.attachment}] {context.text}".strip()
        return await desk.join(ticket, note, context.language)

    return router


def privacy(engine: Engine) -> Router:
    router = Router("privacy")

    @router.command("/privacy")
    async def notice(context: Context, argument: str) -> Reply:
        return engine.replies.privacy(context.language, engine.bot.retention_days)

    @router.command("/forget")
    async def forget(context: Context, argument: str) -> Reply:
        await context.store.forget(context.address)
        return engine.replies.forgotten(context.language)

    return router


def events(engine: Engine) -> Router:
    """Info sessions and announcements (with an outreach store only)."""
    router = Router("events")
    if engine.outreach is None:
        return router

    @router.command("/events")
    async def listing(context: Context, argument: str) -> Reply:
        return await engine.event_chat().events(context.address, context.language)

    @router.command("/subscribe")
    async def subscribe(context: Context, argument: str) -> Reply:
        return engine.event_chat().subscribe(context.language)

    @router.command("/unsubscribe")
    async def unsubscribe(context: Context, argument: str) -> Reply:
        return await engine.event_chat().unsubscribe(context.address, context.language)

    @router.press(EventList, EventButton, SubscribeCity, SubscribeTopic)
    async def press(context: Context, payload: EventList | EventButton | SubscribeCity | SubscribeTopic) -> Reply:
        return await engine.event_chat().press(context.address, context.language, payload)

    return router


def faq(engine: Engine) -> Router:
    """The last router: what the understanding step made of a text (an answer, suggestions, small talk, an
    emergency where there is no desk), and the reply that media cannot be read."""
    router = Router("faq")

    @router.text
    async def answer(context: Context, understanding: Understanding) -> Reply:
        if understanding.action is Action.ANSWER and understanding.entry is not None:
            message = entry_message(engine, understanding.lang, understanding.entry, context.state)
        else:
            message = engine.message_for(understanding)
        to_faq = not understanding.asked_human
        await context.store.record_turn(
            context.address, turn_of(context, understanding, to_faq, engine.desk is not None)
        )
        return [context.reply(message, understanding.lang)]

    @router.attachment
    async def unreadable(context: Context) -> Reply:
        return engine.replies.media(context.language)

    return router


Feature = Callable[["Engine"], Router]
FEATURES: tuple[Feature, ...] = (navigation, language, status, feedback, handoff, privacy, events, faq)
