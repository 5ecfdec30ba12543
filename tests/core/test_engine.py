from __future__ import annotations

import pytest

from bot.app import build_engine
from bot.config import Config
from bot.core.engine import Engine
from bot.core.features import FEATURES
from bot.core.knowledge import Status
from bot.core.replies import Message
from bot.core.routing import Context, Reply, Router
from bot.core.state import MemoryStore, UserState
from bot.i18n import I18n
from bot.types import Address, Inbound, Outbound
from tests.conftest import LANGUAGES

ME = Address("test", "42")


@pytest.fixture
def chat(config: Config) -> Engine:
    """The shared understanding step, with a fresh in-memory store per test."""
    return build_engine(config, MemoryStore())


async def say(chat: Engine, text: str = "", payload: str | None = None, hint: str | None = None) -> Outbound:
    [reply] = await chat.handle(Inbound(ME, text=text, payload=payload, language_hint=hint))
    return reply


async def test_a_question_gets_its_answer_with_follow_up_buttons(chat: Engine) -> None:
    reply = await say(chat, "when can I change my GP?")
    entry = chat.knowledge.entries["health-gp-change"]
    assert reply.text == entry.answers["en"]
    payloads = [b.payload for b in reply.buttons]
    assert [f"e:{r}" for r in entry.related] == payloads[: len(entry.related)]
    assert "h" in payloads and "m" in payloads
    labels = [b.label for b in reply.buttons]
    assert chat.knowledge.entries[entry.related[0]].titles["en"] in labels  # a title, not a raw paraphrase


async def test_an_emergency_puts_112_first_in_every_language(chat: Engine) -> None:
    for language in LANGUAGES:
        understanding = chat.understand("he will kill me", chosen=language)
        text = chat.render_text(language, chat.message_for(understanding))
        assert understanding.action == "emergency"
        assert "112" in text.split("\n")[0], language
        assert "0800 18 676" in text, language


async def test_buttons_navigate_topics_entries_and_back(chat: Engine) -> None:
    menu = await say(chat, "/topics")
    assert [b.payload for b in menu.buttons][:2] == ["t:residence", "t:asylum"]
    topic = await say(chat, payload="t:work")
    assert "e:work-labour-rights" in [b.payload for b in topic.buttons]
    answer = await say(chat, payload="e:work-labour-rights")
    assert answer.text.startswith(chat.knowledge.entries["work-labour-rights"].answers["en"][:40])
    back = await say(chat, payload="m")
    assert back.buttons == menu.buttons


async def test_a_chosen_language_sticks_even_when_another_is_written(chat: Engine) -> None:
    await say(chat, payload="l:uk")
    reply = await say(chat, "my employer does not pay my salary")
    assert reply.language == "uk"
    assert reply.text == chat.knowledge.entries["work-labour-rights"].answers["uk"]


async def test_a_detected_language_is_remembered_for_short_follow_ups(chat: Engine) -> None:
    await say(chat, "как найти работу в болгарии")
    reply = await say(chat, "ok")
    assert reply.language == "ru"


async def test_start_offers_languages_then_topics_in_the_platforms_language(chat: Engine) -> None:
    welcome, topics = await chat.handle(Inbound(ME, text="/start", language_hint="ar"))
    assert welcome.language == topics.language == "ar"
    assert [b.payload for b in welcome.buttons] == [f"l:{code}" for code in LANGUAGES]
    assert [b.label for b in welcome.buttons][3] == "Українська"
    assert next(b.payload for b in topics.buttons) == "t:residence"


async def test_deep_links_choose_a_language_or_open_a_topic(chat: Engine) -> None:
    assert (await say(chat, "/start lang_bg")).language == "bg"
    topic = await say(chat, "/start topic_health")
    assert "e:health-insurance-obligatory" in [b.payload for b in topic.buttons]


async def test_forget_erases_everything_about_the_user(chat: Engine) -> None:
    store = chat.store
    assert isinstance(store, MemoryStore)
    await say(chat, payload="l:ru")
    await say(chat, "how do I get a fishing licence in Bulgaria")
    assert store.unanswered and store.events
    await say(chat, "/forget")
    assert ME not in store.users and not store.events and not store.unanswered


async def test_unanswered_questions_are_kept_for_admins_and_answers_are_logged_without_text(chat: Engine) -> None:
    store = chat.store
    assert isinstance(store, MemoryStore)
    await say(chat, "when can I change my GP?")
    await say(chat, "how do I get a fishing licence in Bulgaria")
    assert next((e[1], e[2]) for e in store.events) == ("answer", "health-gp-change")
    assert [e[1] for e in store.events] == ["answer", "handoff"]
    assert [u[1] for u in store.unanswered] == ["how do I get a fishing licence in Bulgaria"]


async def test_an_old_or_garbled_button_gets_a_polite_reply(chat: Engine) -> None:
    await say(chat, "hello")
    for payload in ["e:no-such-entry", "t:pets", "l:xx", "zzz", ""]:
        reply = await say(chat, payload=payload)
        assert reply.text == chat.replies.stale_button("en").text


async def test_a_button_from_someone_unknown_gets_the_welcome_and_creates_nobody(chat: Engine) -> None:
    store = chat.store
    assert isinstance(store, MemoryStore)
    for payload in ["f:+:e:health-insurance-obligatory", "f:-:12", "h", "e:work-find-job"]:
        reply = await say(chat, payload=payload, hint="uk")
        assert reply.text == chat.replies.welcome("uk").text
    assert store.users == {} and store.feedback == [] and store.events == []
    await say(chat, payload="l:uk")  # the welcome's own buttons do create the user
    assert store.users[ME] == UserState("uk", True)


@pytest.mark.parametrize("text", ["", "   ", "\u202e\u0000\u0007", "\u200b\u200f"])
async def test_a_blank_message_gets_no_reply_and_changes_nothing(chat: Engine, text: str) -> None:
    assert await chat.handle(Inbound(ME, text=text)) == []
    assert chat.store is not None and chat.store.users == {}  # type: ignore[attr-defined]  # a MemoryStore


@pytest.mark.parametrize(
    "text",
    [
        "😀😀😀",
        "x" * 20_000,
        "<b>hi</b><script>alert(1)</script>",
        "**bold** [link](http://x)",
        "привет hello مرحبا",
        "/nonsense",
        "\ud800 lone surrogate",
    ],
)
async def test_bad_input_gets_a_short_reply_not_a_crash(chat: Engine, text: str) -> None:
    reply = await say(chat, text)
    assert reply.text and len(reply.text) < 1500


async def test_a_failure_inside_gives_an_apology_in_the_users_language(chat: Engine, config: Config) -> None:
    class Broken(MemoryStore):
        async def touch(self, address: Address, create: bool = True) -> UserState | None:
            raise RuntimeError("database is down")

    reply = await say(Engine(chat.understander, config.bot, Broken()), "hello", hint="ru")
    assert reply.text == chat.replies.apology("ru").text
    assert "112" in reply.text


async def test_privacy_names_the_retention_period_and_the_status(chat: Engine, config: Config) -> None:
    reply = await say(chat, "/privacy")
    assert str(config.bot.retention_days) in reply.text and "/status" in reply.text


async def test_an_answer_that_depends_on_status_asks_once_then_answers_for_it(chat: Engine) -> None:
    store = chat.store
    assert isinstance(store, MemoryStore)
    entry = chat.knowledge.entries["health-insurance-obligatory"]
    question = await say(chat, "do I need health insurance?")
    payloads = [b.payload for b in question.buttons]
    assert payloads == [f"s:{code}:{entry.id}" for code in ("as", "ip", "tp", "rp", "eu")] + [f"s:-:{entry.id}"]
    answer = await say(chat, payload=f"s:tp:{entry.id}")
    assert answer.text == entry.variants[Status.TEMPORARY_PROTECTION]["en"]
    assert answer.buttons[0].payload == "sr:tp"  # the one extra button: remember it
    assert store.users[ME].legal_status is None  # not remembered without agreement
    general = await say(chat, payload=f"s:-:{entry.id}")
    assert general.text == entry.answers["en"] and "sr:" not in " ".join(b.payload for b in general.buttons)


async def test_a_remembered_status_answers_directly_and_status_shows_and_forgets_it(chat: Engine) -> None:
    store = chat.store
    assert isinstance(store, MemoryStore)
    entry = chat.knowledge.entries["health-insurance-obligatory"]
    await say(chat, "do I need health insurance?")
    await say(chat, payload=f"s:ip:{entry.id}")
    saved = await say(chat, payload="sr:ip")
    assert "Refugee or humanitarian status" in saved.text and store.users[ME].legal_status == "international_protection"
    again = await say(chat, "do I need health insurance?")
    assert again.text == entry.variants[Status.INTERNATIONAL_PROTECTION]["en"]
    menu = await say(chat, "/status")
    assert "Refugee or humanitarian status" in menu.text and "st:-" in [b.payload for b in menu.buttons]
    await say(chat, payload="st:-")
    assert store.users[ME].legal_status is None
    await say(chat, payload="st:as")
    assert store.users[ME].legal_status == "asylum_seeker"
    await say(chat, "/forget")
    assert ME not in store.users


@pytest.mark.parametrize("payload", ["s:zz:health-insurance-obligatory", "s:tp:no-such-entry", "sr:zz", "st:", "st:xx"])
async def test_a_bad_status_button_is_a_stale_button(chat: Engine, payload: str) -> None:
    reply = await say(chat, "hello")
    reply = await say(chat, payload=payload)
    assert reply.text == chat.replies.stale_button("en").text


def test_right_to_left_replies_isolate_numbers(engine: Engine) -> None:
    understanding = engine.understand("زوجي رح يقتلني")
    text = engine.render_text("ar", engine.message_for(understanding))
    assert "\u2066112\u2069" in text
    assert "\u20660800 18 676\u2069" in text


def test_every_language_has_its_interface_text(config: Config) -> None:
    i18n = I18n(config.bot.languages)
    seen = {i18n.gettext(language)("Ask a consultant") for language in LANGUAGES}
    assert len(seen) == len(LANGUAGES)


async def test_an_action_is_one_router_added_to_the_engine_and_the_first_router_declaring_it_wins(
    config: Config,
) -> None:
    def ping(engine: Engine) -> Router:
        router = Router("ping")

        @router.command("/ping", "/help")
        async def pong(context: Context, argument: str) -> Reply:
            return Message(f"pong {argument} ({context.language})")

        return router

    plain = build_engine(config, MemoryStore())
    first = Engine(plain.understander, config.bot, MemoryStore(), features=(ping, *FEATURES))
    last = Engine(plain.understander, config.bot, MemoryStore(), features=(*FEATURES, ping))
    assert (await say(first, "/ping  me", hint="uk")).text == "pong me (uk)"
    assert (await say(first, "/help")).text == "pong  (en)"
    assert (await say(last, "/help")).text == (await say(plain, "/help")).text != "pong  (en)"
    assert (await say(plain, "/ping")).text == plain.render_text("en", plain.replies.unknown_command("en"))
