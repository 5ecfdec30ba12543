"""What the bot says, per action, in the user's language: text through gettext, FAQ text from the knowledge base.

Buttons carry the payloads of bot.core.payloads, packed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from babel.dates import format_date

from bot.core.knowledge import KnowledgeBase, Status
from bot.core.payloads import (
    AskConsultant,
    ChooseLanguage,
    EventList,
    Feedback,
    HandoffReason,
    NoneOfThese,
    ShowEntry,
    ShowTopic,
    TopicMenu,
)
from bot.i18n import I18n, language_name
from bot.types import Button


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[Button, ...] = ()


class Replies:
    def __init__(self, knowledge: KnowledgeBase, i18n: I18n, languages: tuple[str, ...]) -> None:
        self.knowledge = knowledge
        self._i18n = i18n
        self._languages = languages

    def _(self, language: str) -> Callable[[str], str]:
        return self._i18n.gettext(language)

    def entry_label(self, entry_id: str, language: str) -> str:
        """A button label for an entry: its title, a well-formed question."""
        return self.knowledge.entries[entry_id].titles[language]

    def _consultant_button(self, language: str) -> Button:
        _ = self._(language)
        return Button(_("Ask a consultant"), AskConsultant().pack())

    def _topics_button(self, language: str) -> Button:
        _ = self._(language)
        return Button(_("Topics"), TopicMenu().pack())

    def topic_buttons(self, language: str) -> tuple[Button, ...]:
        return tuple(Button(t.titles[language], ShowTopic(t.id).pack()) for t in self.knowledge.topics.values())

    def language_buttons(self) -> tuple[Button, ...]:
        return tuple(Button(language_name(code), ChooseLanguage(code).pack()) for code in self._languages)

    def answer(
        self, language: str, entry_id: str, status: Status | None = None, today: dt.date | None = None
    ) -> Message:
        """The entry's answer for `status` (its general answer when it has no variant for it); past its
        `review_by` date, a notice that it may have changed since."""
        entry = self.knowledge.entries[entry_id]
        related = tuple(
            Button(self.entry_label(r, language), ShowEntry(r).pack())
            for r in entry.related
            if r in self.knowledge.entries
        )
        helpful = tuple(Button(sign, Feedback(sign == "👍", entry=entry_id).pack()) for sign in ("👍", "👎"))
        text = entry.answer_for(language, status)
        if entry.review_by is not None and entry.review_by < (today or dt.date.today()):
            _ = self._(language)
            notice = _(
                "This information was due to be checked again on {date} and may have changed since. "
                "A consultant can confirm it for you, free."
            )
            text += "\n\n" + notice.format(date=format_date(entry.review_by, "long", locale=language))
        return Message(text, related + helpful + (self._consultant_button(language), self._topics_button(language)))

    def thanks_for_feedback(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("Thank you for telling us!"))

    def sorry_not_helpful(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _("Sorry that did not help. A consultant can answer you personally, for free."),
            (
                Button(_("Ask a consultant"), AskConsultant(HandoffReason.NOT_HELPFUL).pack()),
                self._topics_button(language),
            ),
        )

    def media(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _("I can only read text messages. Please write your question in words, or choose a topic."),
            self.topic_buttons(language),
        )

    def slow_down(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("You are writing very fast. Please wait a minute; I will read your next messages then."))

    def suggest(self, language: str, entry_ids: tuple[str, ...]) -> Message:
        _ = self._(language)
        buttons = tuple(Button(self.entry_label(e, language), ShowEntry(e).pack()) for e in entry_ids)
        return Message(
            _("I am not sure I understood. Did you mean one of these?"),
            buttons + (Button(_("None of these — ask a consultant"), NoneOfThese().pack()),),
        )

    def handoff_offer(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _("I do not have a reliable answer to that. A consultant can answer you personally, for free."),
            (
                Button(_("Ask a consultant"), AskConsultant(HandoffReason.LOW_CONFIDENCE).pack()),
                self._topics_button(language),
            ),
        )

    def handoff_unavailable(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _(
                'Consultants cannot answer in this chat yet. The lines under "Hotlines and contacts" in the '
                "topics can help you. If you are in danger, call 112."
            ),
            (Button(self.knowledge.topics["contacts"].titles[language], ShowTopic("contacts").pack()),)
            if "contacts" in self.knowledge.topics
            else (),
        )

    def emergency(self, language: str, category: str, offer_consultant: bool = True) -> Message:
        """112 first; `offer_consultant` is false when an urgent ticket was opened for the person already."""
        _ = self._(language)
        lines = [
            _(
                "If you or someone else is in danger, call 112 now. It is free, works from any phone, "
                "and operators speak several languages."
            )
        ]
        advice = {
            "suicide": _("You are not alone. If you can, stay near someone you trust until help comes."),
            "medical": _("Emergency medical care is given to everyone who needs it, insured or not."),
        }.get(category)
        if advice:
            lines.append(advice)
        contacts = next((c.contacts for c in self.knowledge.crisis if c.id == category), ())
        organisations = self.knowledge.organisations  # the loader kept only contacts that exist
        lines += ["☎ " + organisations[c].line(language, self._languages[0]) for c in contacts]
        return Message("\n\n".join(lines), (self._consultant_button(language),) if offer_consultant else ())

    def smalltalk(self, language: str, kind: str) -> Message:
        if kind == "help":
            return self.help(language)
        _ = self._(language)
        if kind == "foreign_language":
            return Message(
                _("Sorry, I do not speak that language yet. Please choose one of these:"), self.language_buttons()
            )
        text = {
            "out_of_scope": _(
                "I can only help with questions about living in Bulgaria as a migrant or refugee: "
                "documents, asylum, health, work, school and where to find help. Choose a topic:"
            ),
            "greeting": _("Hello! Ask me your question in your own words, or choose a topic."),
            "thanks": _("You are welcome! Anything else? Choose a topic or write your question."),
            "ack": _("Good. Anything else? Choose a topic or write your question."),
            "yes": _("Please write your question in a few words, or choose a topic."),
            "no": _("All right. Write any time you have a question."),
            "bye": _("Take care! Write any time you have a question."),
        }.get(kind) or _("I can only read text. Please write your question in words, or choose a topic.")
        return Message(text, self.topic_buttons(language))

    def topics(self, language: str) -> Message:
        """The topics, and the info sessions where the knowledge base announces any."""
        _ = self._(language)
        events = (Button(_("Info sessions"), EventList().pack()),) if self.knowledge.cities else ()
        return Message(_("Choose a topic:"), self.topic_buttons(language) + events)

    def topic(self, language: str, topic_id: str) -> Message:
        topic = self.knowledge.topics[topic_id]
        _ = self._(language)
        buttons = tuple(Button(self.entry_label(e, language), ShowEntry(e).pack()) for e in topic.entries)
        return Message(
            _("{title}: choose a question.").format(title=topic.titles[language]),
            buttons + (Button(_("Back"), TopicMenu().pack()), self._consultant_button(language)),
        )

    def welcome(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _(
                "Hello! I answer questions of migrants, asylum seekers and refugees in Bulgaria: residence, asylum, "
                "health, work, school, and where to find help. Write your question in your own words, or choose a "
                "topic with /topics. If you are in danger, call 112."
            )
            + "\n\n"
            + _("Choose your language:"),
            self.language_buttons(),
        )

    def help(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _(
                'Write your question in a few words, for example "do I need health insurance". I answer from a '
                "checked list of questions; when I am not sure, I offer you a consultant.\n\n"
                "/topics: all topics\n/consultant: ask a person\n/cancel: withdraw your question to a person\n"
                "/language: change the language\n/status: your status, if answers should fit it\n"
                "/privacy: what we keep\n/forget: erase your data\n\n"
                "If you are in danger, call 112."
            )
            + "\n\n"
            + _("/events: info sessions\n/subscribe: their announcements\n/unsubscribe: stop them"),
            self.topic_buttons(language),
        )

    def command_menu(self, language: str) -> list[tuple[str, str]]:
        """The commands chat services show in their menu, described in `language`."""
        _ = self._(language)
        return [
            ("start", _("Start again")),
            ("help", _("How to use this bot")),
            ("topics", _("All topics")),
            ("language", _("Change the language")),
            ("consultant", _("Ask a person")),
            ("cancel", _("Withdraw your question to a person")),
            ("status", _("Your status, for answers that depend on it")),
            ("events", _("Info sessions")),
            ("subscribe", _("Announcements of info sessions")),
            ("unsubscribe", _("Stop all announcements and reminders")),
            ("privacy", _("What we keep about you")),
            ("forget", _("Erase your data")),
        ]

    def choose_language(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("Choose your language:"), self.language_buttons())

    def language_set(self, language: str) -> Message:
        _ = self._(language)
        text = _("Language: {language}. I will answer in this language from now on.").format(
            language=language_name(language)
        )
        return Message(text, self.topic_buttons(language))

    def privacy(self, language: str, retention_days: int) -> Message:
        _ = self._(language)
        ngettext = self._i18n.ngettext(language)
        return Message(
            _(
                "What we keep: your chat id, your language, when you last wrote, and which answers you were shown, "
                "not what you wrote. Questions I could not answer are kept so that the team can add them to the "
                "FAQ. If you ask for a consultant, they see your messages under a code name, never your name, "
                "number or account."
            )
            + " "
            + ngettext(
                "All of it is erased after {days} day; /forget erases it at once.",
                "All of it is erased after {days} days; /forget erases it at once.",
                retention_days,
            ).format(days=retention_days)
            + " "
            + _(
                "If you let me remember your status in law, it is kept too, until you change it with /status "
                "or erase everything with /forget."
            )
            + " "
            + _(
                "If you subscribe to announcements or sign up for an info session, that is kept as well, until "
                "/unsubscribe, a cancel, or /forget."
            )
        )

    def forgotten(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("Done: everything we stored about you has been erased."))

    def unknown_command(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("I do not know that command. Try /help."), self.topic_buttons(language))

    def stale_button(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("That button is no longer valid. Here are the topics."), self.topic_buttons(language))

    def apology(self, language: str) -> Message:
        _ = self._(language)
        return Message(
            _("Sorry, something went wrong on our side. Please try again in a moment. If you are in danger, call 112.")
        )
