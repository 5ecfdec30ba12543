"""Question -> FAQ entries ranked by a 0..1 confidence, and the decision that follows from it.

Per language, an inverted index from word stems to entries narrows the candidates; a misspelled word is mapped
to its nearest stem with rapidfuzz. Each candidate is scored on how much of the message its vocabulary explains
(weighted by rarity), and the best few are re-scored with rapidfuzz against their paraphrases. The cost grows
with the number of entries sharing the message's words, not with the size of the knowledge base.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.config import ClassifierSection
from bot.core.actions import Action
from bot.core.knowledge import KnowledgeBase
from bot.core.stopwords import STOPWORDS
from bot.core.text import fold

STEM_CHARS = 5
FUZZY_MIN_LEN = 4
FUZZY_CUTOFF = 80.0
RESCORE_TOP = 12
OOV_WEIGHT = 0.75  # an unknown word counts this much of the rarest known word: it is evidence of another topic
_AR_PREFIXES = ("وال", "بال", "فال", "كال", "کال", "لل", "ال")

PHRASE_BONUS = 0.06  # every word of a multi-word keyword ("refugee status") in the message: a strong sign
W_COVERAGE = 0.55
W_PARAPHRASE = 0.25
W_SIMILARITY = 0.20


def stem(token: str) -> str:
    """A crude prefix stem: Slavic and Arabic inflect at the end; five letters keep the root and drop the rest."""
    if token.isdigit():
        return token
    for prefix in _AR_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            token = token[len(prefix) :]
            break
    return token[:STEM_CHARS]


def sorted_words(text: str) -> str:
    """The words in sorted order: fuzz.ratio of two such strings is their token_sort_ratio."""
    return " ".join(sorted(text.split()))


def content_words(folded: str, language: str) -> list[str]:
    stop = STOPWORDS.get(language, frozenset())
    return list(dict.fromkeys(token for token in folded.split() if token not in stop))


def content_stems(folded: str, language: str) -> list[str]:
    return list(dict.fromkeys(stem(token) for token in content_words(folded, language)))


@dataclass(frozen=True)
class Match:
    entry_id: str
    topic: str
    score: float


@dataclass
class _Doc:
    entry: int
    text: str
    stems: frozenset[str]
    weight: float  # the idf mass of its stems


@dataclass
class _Index:
    """One language's view of the knowledge base."""

    language: str
    entry_ids: list[str] = field(default_factory=list)
    stems: list[set[str]] = field(default_factory=list)
    docs: list[list[_Doc]] = field(default_factory=list)
    # per entry, its docs' words in sorted order: token_sort_ratio without sorting them again for every message
    sorted_docs: list[list[str]] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    # every known word by (first letter, length): a misspelling is compared only with words that could reach
    # the cutoff, so the cost stays flat as the knowledge base grows; a wrong first letter is not forgiven
    words: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    phrases: list[list[frozenset[str]]] = field(default_factory=list)  # per entry: its multi-word keywords' stems
    max_idf: float = 1.0

    def build(self, texts: dict[str, list[str]], keywords: dict[str, list[str]]) -> None:
        postings: dict[str, set[int]] = defaultdict(set)
        words: set[str] = set()
        folded_docs: list[list[tuple[str, list[str]]]] = []
        for entry_id, entry_texts in texts.items():
            index = len(self.entry_ids)
            self.entry_ids.append(entry_id)
            bag: set[str] = set()
            folded = []
            for text in entry_texts:
                doc_text = fold(text)
                doc_words = content_words(doc_text, self.language)
                words.update(doc_words)
                doc_stems = list(dict.fromkeys(stem(w) for w in doc_words))
                bag.update(doc_stems)
                folded.append((doc_text, doc_stems))
            for s in bag:
                postings[s].add(index)
            self.stems.append(bag)
            folded_docs.append(folded)
            phrases = [frozenset(content_stems(fold(k), self.language)) for k in keywords.get(entry_id, ())]
            self.phrases.append([p for p in phrases if len(p) > 1])
        total = max(len(self.entry_ids), 1)
        self.postings = {s: sorted(ids) for s, ids in postings.items()}
        self.idf = {s: math.log((total + 1) / (len(ids) + 0.5)) for s, ids in self.postings.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        for word in sorted(words):
            if len(word) >= FUZZY_MIN_LEN and not word.isdigit():
                self.words.setdefault((word[0], len(word)), []).append(word)
        for index, folded in enumerate(folded_docs):
            self.docs.append([_Doc(index, t, frozenset(s), sum(self.idf[x] for x in s) or 1.0) for t, s in folded if s])
            self.sorted_docs.append([sorted_words(doc.text) for doc in self.docs[-1]])

    def _resolve(self, word: str) -> tuple[str | None, float]:
        """The known stem a query word stands for, and how sure that is (1.0 unless misspelled)."""
        query_stem = stem(word)
        if query_stem in self.idf:
            return query_stem, 1.0
        if len(word) >= FUZZY_MIN_LEN and not word.isdigit():
            spread = max(2, len(word) // 5)
            candidates = [
                w for n in range(len(word) - spread, len(word) + spread + 1) for w in self.words.get((word[0], n), ())
            ]
            found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if found is not None:  # a near miss is weaker evidence than the word itself: 80 -> 0.6, 100 -> 1.0
                return stem(found[0]), (found[1] / 100.0 - 0.5) * 2
        return None, 0.0

    def score(self, folded: str) -> dict[str, float]:
        words = content_words(folded, self.language)
        if not words:
            return {}
        query = list(dict.fromkeys(stem(w) for w in words))
        resolved: list[tuple[str, float]] = []
        total = 0.0
        for word in dict.fromkeys(words):
            known, similarity = self._resolve(word)
            if known is None:
                total += OOV_WEIGHT * self.max_idf
                continue
            weight = self.idf[known]
            total += weight
            resolved.append((known, weight * similarity))
        coverage: dict[int, float] = defaultdict(float)
        for known, weight in resolved:
            for entry in self.postings[known]:
                coverage[entry] += weight
        if not coverage:
            return {}
        top = sorted(coverage, key=coverage.__getitem__, reverse=True)[:RESCORE_TOP]
        query_stems = {k for k, _ in resolved}
        query_text = sorted_words(" ".join(query))
        results: dict[str, float] = {}
        idf = self.idf.__getitem__
        for entry in top:
            docs = self.docs[entry]
            best_doc = max((sum(map(idf, doc.stems & query_stems)) / doc.weight for doc in docs), default=0.0)
            closest = process.extractOne(query_text, self.sorted_docs[entry], scorer=fuzz.ratio)
            best_similarity = closest[1] / 100.0 if closest is not None else 0.0
            phrase = PHRASE_BONUS if any(p <= query_stems for p in self.phrases[entry]) else 0.0
            results[self.entry_ids[entry]] = (
                W_COVERAGE * coverage[entry] / total + W_PARAPHRASE * best_doc + W_SIMILARITY * best_similarity + phrase
            )
        return results


class Classifier:
    def __init__(self, knowledge: KnowledgeBase) -> None:
        self._topic_of = {e.id: e.topic for e in knowledge.entries.values()}
        self._indexes: dict[str, _Index] = {}
        for language in knowledge.languages:
            texts = {
                e.id: list(e.questions.get(language, ())) + list(e.keywords.get(language, ()))
                for e in knowledge.entries.values()
            }
            keywords = {e.id: list(e.keywords.get(language, ())) for e in knowledge.entries.values()}
            index = _Index(language)
            index.build(texts, keywords)
            self._indexes[language] = index

    def rank(self, searches: list[tuple[str, str]], primary: str | None = None) -> list[Match]:
        """Score each (text, language) search; an entry keeps its best score, the primary language wins ties."""
        best: dict[str, float] = {}
        for text, language in searches:
            index = self._indexes.get(language)
            if index is None:
                continue
            factor = 1.0 if primary in (None, language) else 0.97
            for entry_id, score in index.score(fold(text)).items():
                best[entry_id] = max(best.get(entry_id, 0.0), min(score * factor, 1.0))
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        return [Match(entry_id, self._topic_of[entry_id], round(score, 4)) for entry_id, score in ranked]


@dataclass(frozen=True)
class Decision:
    action: Action  # answer, suggest or handoff
    matches: tuple[Match, ...]


def decide(matches: list[Match], settings: ClassifierSection) -> Decision:
    """Answer only when sure and clearly ahead; offer choices when unsure; a person when lost."""
    if not matches or matches[0].score < settings.suggest_threshold:
        return Decision(Action.HANDOFF, tuple(matches[:1]))
    best = matches[0]  # the first is the best; the rest need not be in order of score
    runner_up = max((m.score for m in matches[1:]), default=0.0)
    if best.score >= settings.answer_threshold and best.score - runner_up >= settings.answer_margin:
        return Decision(Action.ANSWER, (best,))
    floor = max(settings.suggest_threshold * 0.85, best.score - 0.25)
    shown = [m for m in matches[: settings.max_suggestions] if m.score >= floor]
    return Decision(Action.SUGGEST, tuple(shown))
