"""Text -> Understanding: what a message asks, in which language, and what the bot should say to it.

Pure and stateless, built once per knowledge base and shared (the CLI's `ask`, the evaluation, every
conversation): a fixed order of safety, small talk, FAQ match and decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import BotSection, ClassifierSection
from bot.core.classifier import Classifier, decide
from bot.core.knowledge import KnowledgeBase
from bot.core.language import LanguageDetector
from bot.core.replies import Message, Replies
from bot.core.safety import SafetyCheck
from bot.core.smalltalk import INTENTS, SmallTalk
from bot.core.stopwords import FUNCTION_WORDS
from bot.core.text import clean_input, fold, latin_to_cyrillic, script_of
from bot.i18n import RTL_LANGUAGES, I18n, isolate_ltr_runs

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


class Understander:
    def __init__(self, knowledge: KnowledgeBase, bot: BotSection, classifier: ClassifierSection, i18n: I18n) -> None:
        self.knowledge = knowledge
        self.bot = bot
        self.settings = classifier
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
        # one Latin word ("ok", "sos", "visa") says nothing of a language: it keeps the person's, or the hint
        one_latin_word = script_of(text) == "latin" and len(text.split()) < 2
        confident = (detection.language is not None and detection.confidence >= self.settings.language_confidence
                     and not one_latin_word)
        hint = (hint or "").split("-")[0].lower() or None
        if chosen in self.bot.languages:
            reply, why = chosen, "chosen"
        elif confident and detection.language is not None:
            reply, why = detection.language, "detected"
        elif previous in self.bot.languages:
            reply, why = previous, "previous"
        elif hint in self.bot.languages:
            reply, why = hint, "hint"
        elif detection.language is not None and not one_latin_word:
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
            kind = "help" if "?" in text or "؟" in text else "empty"  # a lone "?" asks what the bot is for
            return Understanding(lang, "smalltalk", detail=kind, language_source=why)
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

    def message_for(self, understanding: Understanding, with_desk: bool = False) -> Message:
        """What to say; `with_desk`: consultants can be reached from this chat."""
        lang = understanding.lang
        if understanding.action == "emergency":
            return self.replies.emergency(lang, understanding.detail or "")
        if understanding.action == "smalltalk":
            return self.replies.smalltalk(lang, understanding.detail or "")
        if understanding.action == "answer" and understanding.entry:
            return self.replies.answer(lang, understanding.entry)
        if understanding.action == "suggest":
            return self.replies.suggest(lang, understanding.suggestions)
        if understanding.detail == "asked_human" and not with_desk:
            return self.replies.handoff_unavailable(lang)
        return self.replies.handoff_offer(lang)

    def render_text(self, language: str, message: Message) -> str:
        return isolate_ltr_runs(message.text) if language in RTL_LANGUAGES else message.text

