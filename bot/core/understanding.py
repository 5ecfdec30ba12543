"""Text -> Understanding: what a message asks, in which language, and what the bot should say to it.

Pure and stateless, built once per knowledge base and shared (the CLI's `ask`, the evaluation, every
conversation). The order is fixed: the crisis lexicon, the encoder, the semantic crisis layer, small talk, then
the FAQ: a message that is one of an entry's questions word for word (as folded) is answered by it, because an
admin wrote it there; any other, by the learned classifier and the lexical matcher combined. When the encoder is
down (or switched off) the lexicon and the lexical matcher still answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from bot.config import BotSection, ClassifierSection
from bot.core.actions import Action
from bot.core.classifier import Classifier, Match, decide
from bot.core.encoder import Encoder
from bot.core.event_chat import EventReplies
from bot.core.knowledge import KnowledgeBase
from bot.core.knowledge.model import fallback_language
from bot.core.language import Detection, LanguageDetector, foreign_samples
from bot.core.replies import Message, Replies
from bot.core.safety import SafetyCheck
from bot.core.semantic import OUT_OF_SCOPE, Prediction, SemanticModel
from bot.core.smalltalk import SmallTalk
from bot.core.status import StatusReplies
from bot.core.stopwords import FUNCTION_WORDS
from bot.core.text import clean_input, fold, latin_to_cyrillic, script_of
from bot.core.vocabulary import Vocabulary
from bot.i18n import I18n, is_rtl, isolate_ltr_runs

EMERGENCY_TOPIC = {
    "violence": "violence",
    "child": "violence",
    "trafficking": "trafficking",
    "medical": "health",
    "suicide": "health",
}


SIMILAR_FLOOR, SIMILAR_SPAN = 0.80, 0.15  # e5's cosines between questions: 0.80 is unrelated, 0.95 the same ask
SHARPNESS = 0.08  # how decisively the closest entry takes its topic's probability


def _closeness(similarity: float) -> float:
    return min(max((similarity - SIMILAR_FLOOR) / SIMILAR_SPAN, 0.0), 1.0)


class LanguageSource(str, enum.Enum):
    """Why the reply is in the language it is in."""

    CHOSEN = "chosen"  # the person picked it
    DETECTED = "detected"  # the message is written in it
    PREVIOUS = "previous"  # the person wrote in it before
    HINT = "hint"  # the platform's language for the person
    DEFAULT = "default"  # none of those: [bot] default_language


@dataclass(frozen=True)
class Understanding:
    lang: str
    action: Action
    topic: str | None = None
    entry: str | None = None
    confidence: float = 0.0
    suggestions: tuple[str, ...] = ()
    category: str | None = None  # an emergency's crisis category
    kind: str | None = None  # small talk's kind: greeting, thanks, help, ..., foreign_language, out_of_scope
    asked_human: bool = False  # the person asked for a consultant in words
    language_source: LanguageSource = LanguageSource.DEFAULT
    semantic: bool = False  # the encoder took part


@dataclass(frozen=True)
class _Reading:
    """One message as the steps see it."""

    text: str
    folded: str
    forms: tuple[str, ...]  # as written, and transliterated to Cyrillic when it reads as such
    lang: str
    why: LanguageSource
    searches: list[tuple[str, str]]
    foreign: bool  # written in a language the bot does not speak, and nobody chose one
    detection: Detection  # what the detector made of the text, whoever's language the reply is in

    @property
    def romanised(self) -> bool:
        """Latin letters for a language of another script ("ar-latn"): the encoder cannot read it."""
        return (self.detection.language or "").endswith("-latn")


def _written_questions(knowledge: KnowledgeBase) -> dict[str, str]:
    """Every entry's questions, folded, to the entry; one two entries share belongs to neither."""
    owners: dict[str, set[str]] = {}
    for entry in knowledge.entries.values():
        for questions in entry.questions.values():
            for question in questions:
                owners.setdefault(fold(question), set()).add(entry.id)
    return {text: next(iter(ids)) for text, ids in owners.items() if len(ids) == 1}


class Understander:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        bot: BotSection,
        classifier: ClassifierSection,
        i18n: I18n,
        encoder: Encoder | None = None,
        semantic: SemanticModel | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.bot = bot
        self.settings = classifier
        self.replies = Replies(knowledge, i18n, bot.languages)
        self.status = StatusReplies(i18n)
        self.events = EventReplies(knowledge, i18n, fallback_language(bot.languages))
        self.safety = SafetyCheck(knowledge.crisis)
        self.smalltalk = SmallTalk(knowledge.smalltalk)
        self.classifier = Classifier(knowledge)
        self.detector = LanguageDetector(self._language_samples(i18n), foreign_samples())
        self.encoder = encoder if semantic is not None else None
        self.semantic = semantic
        self._written = _written_questions(knowledge)
        self.vocabulary = Vocabulary(knowledge, (text for language in bot.languages for text in i18n.texts(language)))

    def _language_samples(self, i18n: I18n) -> dict[str, list[str]]:
        samples: dict[str, list[str]] = {language: list(i18n.texts(language)) for language in self.bot.languages}
        for entry in self.knowledge.entries.values():
            for language in self.bot.languages:
                samples[language].extend(entry.questions.get(language, ()))
                samples[language].extend(entry.keywords.get(language, ()))
                samples[language].append(entry.titles.get(language, ""))
        for topic in self.knowledge.topics.values():
            for language in self.bot.languages:
                samples[language].append(topic.titles.get(language, ""))
        for language, words in FUNCTION_WORDS.items():
            if language in samples:
                samples[language].append(words)
        return samples

    # -- understanding -------------------------------------------------------------------------------------

    def _read(self, text: str, chosen: str | None, previous: str | None, hint: str | None) -> _Reading:
        """The reply language, why it was picked, and the (text, language) searches for the lexical matcher."""
        detection = self.detector.detect(text)
        forms = [text]
        # one Latin word ("ok", "sos", "visa") says nothing of a language: it keeps the person's, or the hint
        one_latin_word = script_of(text) == "latin" and len(text.split()) < 2
        hint = (hint or "").split("-")[0].lower() or None
        if detection.foreign and not one_latin_word:
            known = next((c for c in (chosen, previous) if c in self.bot.languages), None)
            reply = known or (hint if hint in self.bot.languages else self.bot.default_language)
            why = (
                LanguageSource.CHOSEN
                if known == chosen and known is not None
                else LanguageSource.PREVIOUS
                if known
                else LanguageSource.DEFAULT
            )
            searches = [(text, lang) for lang in self.detector.languages_for_script("latin")]
            return _Reading(
                text, fold(text), (text,), reply, why, searches or [(text, reply)], known is None, detection
            )
        if detection.translit:
            cyrillic = latin_to_cyrillic(text)
            forms.append(cyrillic)
            searches = [(cyrillic, lang) for lang in self.detector.languages_for_script("cyrillic")]
            searches += [(text, lang) for lang in self.detector.languages_for_script("latin")]
        elif detection.language is not None:
            searches = [(text, detection.language)]
            searches += [
                (text, lang)
                for lang in self.detector.languages_for_script(script_of(text))
                if lang != detection.language
            ]
        else:
            searches = []
        confident = (
            detection.language is not None
            and detection.confidence >= self.settings.language_confidence
            and not one_latin_word
        )
        if chosen in self.bot.languages:
            reply, why = chosen, LanguageSource.CHOSEN
        elif confident and detection.language is not None:
            reply, why = detection.language, LanguageSource.DETECTED
        elif previous in self.bot.languages:
            reply, why = previous, LanguageSource.PREVIOUS
        elif hint in self.bot.languages:
            reply, why = hint, LanguageSource.HINT
        elif detection.language is not None and not one_latin_word:
            reply, why = detection.language, LanguageSource.DETECTED
        else:
            reply, why = self.bot.default_language, LanguageSource.DEFAULT
        return _Reading(text, fold(text), tuple(forms), reply, why, searches or [(text, reply)], False, detection)

    def _emergency_language(self, reading: _Reading, chosen: str | None) -> str:
        """An emergency reply is in the language the person wrote in when that is clear, else their choice."""
        detection = reading.detection
        written = (detection.language or "").split("-")[0]  # Latin-letter Arabic is answered in Arabic
        if (
            written in self.bot.languages
            and detection.confidence >= self.settings.language_confidence
            and len(reading.text.split()) > 1
        ):
            return written
        return reading.lang if chosen is None else chosen

    def understand(
        self, text: str, chosen: str | None = None, previous: str | None = None, hint: str | None = None
    ) -> Understanding:
        reading = self._read(clean_input(text), chosen, previous, hint)
        lang, why = reading.lang, reading.why
        if not reading.folded:
            kind = "help" if "?" in text or "؟" in text else "empty"  # a lone "?" asks what the bot is for
            return Understanding(lang, Action.SMALLTALK, kind=kind, language_source=why)
        alert = self.safety.check(*(fold(form) for form in reading.forms))
        if alert is not None:
            return self._emergency(reading, chosen, alert.category, 1.0, semantic=False)
        prediction = self._predict(reading) if not reading.romanised else None
        intent = self.smalltalk.check(reading.folded)
        # a message that is all greeting or thanks has nothing a semantic match could mean: short texts sit
        # close to everything in embedding space, and "good morning" must not get 112
        if prediction is not None and (intent is None or intent.kind == "human"):
            category, probability = prediction.crisis()
            similar = max(prediction.crisis_similarity.items(), key=lambda kv: kv[1], default=(None, 0.0))
            # close to a crisis exemplar, and closer to it than to any question the desk answers
            if (
                similar[0] is not None
                and similar[1] >= self.settings.crisis_similarity
                and similar[1] - prediction.nearest_other >= self.settings.crisis_margin
            ):
                return self._emergency(reading, chosen, similar[0], similar[1], semantic=True)
            # the probability alone, only for a message with a word the bot knows (see bot.core.vocabulary)
            if (
                category is not None
                and probability >= self.settings.crisis_probability
                and self.vocabulary.familiar(*reading.forms)
            ):
                return self._emergency(reading, chosen, category, probability, semantic=True)
        semantic = prediction is not None
        if reading.foreign:
            return Understanding(
                lang, Action.SMALLTALK, kind="foreign_language", language_source=why, semantic=semantic
            )
        if intent is not None and intent.kind == "human":
            return Understanding(
                lang, Action.HANDOFF, asked_human=True, confidence=1.0, language_source=why, semantic=semantic
            )
        if intent is not None:
            return Understanding(
                lang, Action.SMALLTALK, kind=intent.kind, confidence=1.0, language_source=why, semantic=semantic
            )
        written = self._written.get(reading.folded)
        if written is not None:
            entry = self.knowledge.entries[written]
            return Understanding(
                lang, Action.ANSWER, entry.topic, entry.id, 1.0, language_source=why, semantic=semantic
            )
        matches = self._ranked(reading, prediction)
        if prediction is not None and self._out_of_scope(prediction, matches):
            return Understanding(
                lang,
                Action.SMALLTALK,
                kind="out_of_scope",
                confidence=prediction.probabilities.get(OUT_OF_SCOPE, 0.0),
                language_source=why,
                semantic=True,
            )
        decision = decide(matches, self.settings)
        best = decision.matches[0] if decision.matches else None
        return Understanding(
            lang,
            decision.action,
            topic=best.topic if best else None,
            entry=best.entry_id if best else None,
            confidence=best.score if best else 0.0,
            suggestions=tuple(m.entry_id for m in decision.matches) if decision.action is Action.SUGGEST else (),
            language_source=why,
            semantic=semantic,
        )

    def _emergency(
        self, reading: _Reading, chosen: str | None, category: str, confidence: float, semantic: bool
    ) -> Understanding:
        return Understanding(
            self._emergency_language(reading, chosen),
            Action.EMERGENCY,
            EMERGENCY_TOPIC.get(category),
            category=category,
            confidence=round(min(confidence, 1.0), 4),
            language_source=reading.why,
            semantic=semantic,
        )

    def _predict(self, reading: _Reading) -> Prediction | None:
        if self.encoder is None or self.semantic is None:
            return None
        vectors = self.encoder.encode(list(reading.forms))
        if vectors is None:
            return None
        return self.semantic.predict(np.asarray(vectors, dtype=np.float32))

    def _ranked(self, reading: _Reading, prediction: Prediction | None) -> list[Match]:
        """Entries by confidence: the classifier's probability blended with the lexical score when the encoder
        took part, the lexical score alone when it did not."""
        lexical = self.classifier.rank(reading.searches, primary=reading.searches[0][1])
        if prediction is None:
            return lexical
        entries, settings = self.knowledge.entries, self.settings
        lexical_score = {m.entry_id: m.score for m in lexical}
        closeness = {e: _closeness(s) for e, s in prediction.entry_similarity.items()}
        scores = {
            e: (1 - settings.lexical_weight) * c + settings.lexical_weight * lexical_score.get(e, 0.0)
            for e, c in closeness.items()
        }
        for entry_id, score in lexical_score.items():  # a lexical match stays a candidate
            scores.setdefault(entry_id, settings.lexical_weight * score)
        by_topic: dict[str, list[str]] = {}
        for entry_id in scores:
            by_topic.setdefault(entries[entry_id].topic, []).append(entry_id)
        confidence: dict[str, tuple[float, float]] = {}  # entry -> (its topic's belief, its own confidence)
        classifier_weight = 1 - settings.lexical_weight - settings.similarity_weight
        for topic, members in by_topic.items():
            # the topic: what the classifier, the lexical matcher and the nearest paraphrase say of it
            belief = (
                classifier_weight * prediction.probabilities.get(topic, 0.0)
                + settings.lexical_weight * max(lexical_score.get(e, 0.0) for e in members)
                + settings.similarity_weight * max(closeness.get(e, 0.0) for e in members)
            )
            # shared out among its entries by how close each is
            weights = np.exp((np.array([scores[e] for e in members]) - max(scores[e] for e in members)) / SHARPNESS)
            for entry_id, share in zip(members, weights / weights.sum(), strict=True):
                confidence[entry_id] = (belief, belief * float(share))
        # the likeliest topic's entries first: a topic whose belief is split between two close entries must not
        # lose to a less likely topic with a single one
        ranked = sorted(confidence.items(), key=lambda kv: kv[1], reverse=True)
        return [Match(e, entries[e].topic, round(min(c, 1.0), 4)) for e, (_, c) in ranked if c > 0]

    def _out_of_scope(self, prediction: Prediction, matches: list[Match]) -> bool:
        best = matches[0].score if matches else 0.0
        return (
            prediction.probabilities.get(OUT_OF_SCOPE, 0.0) >= self.settings.out_of_scope
            and best < self.settings.answer_threshold
        )

    # -- replies -------------------------------------------------------------------------------------------

    def message_for(self, understanding: Understanding, with_desk: bool = False) -> Message:
        """What to say; `with_desk`: consultants can be reached from this chat."""
        lang = understanding.lang
        if understanding.action == Action.EMERGENCY:
            return self.replies.emergency(lang, understanding.category or "")
        if understanding.action == Action.SMALLTALK:
            return self.replies.smalltalk(lang, understanding.kind or "")
        if understanding.action == Action.ANSWER and understanding.entry:
            return self.replies.answer(lang, understanding.entry)
        if understanding.action == Action.SUGGEST:
            return self.replies.suggest(lang, understanding.suggestions)
        if understanding.asked_human and not with_desk:
            return self.replies.handoff_unavailable(lang)
        return self.replies.handoff_offer(lang)

    def render_text(self, language: str, message: Message) -> str:
        return isolate_ltr_runs(message.text) if is_rtl(language) else message.text
