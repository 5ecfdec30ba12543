"""The learned half of understanding: a linear classifier over sentence embeddings, and crisis exemplars.

One multinomial logistic regression over topics is trained on every paraphrase, title and keyword of every entry
in every language at once, so an entry's paraphrases in one language help every other; within a topic, entries
are told apart by how close the message is to their paraphrases. Besides the entries it learns two
kinds of pseudo-class from the knowledge base's files: each crisis category (its exemplar sentences) and
out-of-scope chatter (the small-talk file's examples). Training costs seconds; the weights are cached by a
fingerprint of everything they were trained on, so a later start only reads them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.embeddings import SHIPPED_DIR, EmbeddingStore
from bot.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

CRISIS_PREFIX = "crisis:"
OUT_OF_SCOPE = "out_of_scope"
REGULARISATION = 16.0  # sklearn's C: little regularisation, the paraphrases are clean and few per class


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # topic ids, "crisis:<category>" and "out_of_scope"
    crisis_similarity: dict[str, float]  # category -> best cosine similarity to its exemplars
    entry_similarity: dict[str, float]  # entry id -> best cosine similarity to its paraphrases
    nearest_other: float = 0.0  # the best similarity to anything that is no crisis (entries, out-of-scope chatter)

    def crisis(self) -> tuple[str | None, float]:
        """The most likely crisis category and the summed probability of all of them."""
        crisis = {k[len(CRISIS_PREFIX) :]: p for k, p in self.probabilities.items() if k.startswith(CRISIS_PREFIX)}
        if not crisis:
            return None, 0.0
        best = max(crisis, key=crisis.__getitem__)
        return best, sum(crisis.values())


def weights_file(model_id: str, labels: list[str], texts: list[str]) -> str:
    """The file the classifier's weights are kept in: named by everything they were trained on."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{model_id}|{REGULARISATION}|balanced".encode())
    for label, text in sorted(zip(labels, texts, strict=True)):
        digest.update(f"\n{label}\t{text}".encode())
    return f"classifier-{digest.hexdigest()}.npz"


def training_classes(examples: list[tuple[str, str]], topic_of: dict[str, str]) -> list[str]:
    return [topic_of.get(label, label) for label, _ in examples]


def training_examples(knowledge: KnowledgeBase) -> list[tuple[str, str]]:
    """(label, text) for every title, paraphrase and keyword of every entry in every language, every crisis
    exemplar and phrase (wildcards dropped), and every out-of-scope example."""
    examples: list[tuple[str, str]] = []
    for entry in knowledge.entries.values():
        for language in knowledge.languages:
            texts = [
                entry.titles.get(language, ""),
                *entry.questions.get(language, ()),
                *entry.keywords.get(language, ()),
            ]
            examples += [(entry.id, t) for t in texts if t]
    for category in knowledge.crisis:
        texts = [*category.exemplars, *(p.replace("*", "") for p in category.phrases)]
        examples += [(CRISIS_PREFIX + category.id, t) for t in texts if t.strip()]
    examples += [(OUT_OF_SCOPE, t) for t in knowledge.out_of_scope]
    return list(dict.fromkeys(examples))


class SemanticModel:
    def __init__(
        self,
        store: EmbeddingStore,
        examples: list[tuple[str, str]],
        topic_of: dict[str, str],
        cache_dir: Path | None,
        progress: bool = False,
    ) -> None:
        """`examples`: (label, text) pairs; a label is an entry id, "crisis:<category>" or "out_of_scope".
        The classifier learns topics (`topic_of` maps entry ids to theirs); entries are told apart within a
        topic by their paraphrases' similarity."""
        texts = [t for _, t in examples]
        labels = [label for label, _ in examples]
        self.store = store
        matrix = store.matrix(texts, progress=progress)
        classes = training_classes(examples, topic_of)
        self.classes, self.weights, self.bias = self._trained(store.encoder.model_id, classes, texts, matrix, cache_dir)
        order = sorted(range(len(labels)), key=labels.__getitem__)
        self._rows = matrix[order]
        self._spans: dict[str, tuple[int, int]] = {}
        for position, index in enumerate(order):
            start, _ = self._spans.get(labels[index], (position, position))
            self._spans[labels[index]] = (start, position + 1)
        self._crisis = [label for label in self._spans if label.startswith(CRISIS_PREFIX)]
        self._entries_of: dict[str, list[str]] = {}
        for entry_id, topic in topic_of.items():
            if entry_id in self._spans:
                self._entries_of.setdefault(topic, []).append(entry_id)
        # one unit centroid per entry: the first, cheap pass that keeps the cost flat as entries multiply
        self._entry_ids = [e for entries in self._entries_of.values() for e in entries]
        centroids = (
            np.stack([self._rows[slice(*self._spans[e])].mean(axis=0) for e in self._entry_ids])
            if self._entry_ids
            else np.zeros((0, matrix.shape[1] if matrix.size else 1), np.float32)
        )
        self._centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-6)
        self._entry_index = {e: i for i, e in enumerate(self._entry_ids)}

    @classmethod
    def of(
        cls, knowledge: KnowledgeBase, store: EmbeddingStore, cache_dir: Path | None, progress: bool = False
    ) -> SemanticModel:
        """The model of a knowledge base: its training examples and its entries' topics."""
        topic_of = {e.id: e.topic for e in knowledge.entries.values()}
        return cls(store, training_examples(knowledge), topic_of, cache_dir, progress)

    @staticmethod
    def _trained(
        model_id: str, labels: list[str], texts: list[str], matrix: np.ndarray, cache_dir: Path | None
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        name = weights_file(model_id, labels, texts)
        for folder in (SHIPPED_DIR, cache_dir):  # the shipped knowledge base's weights ship with the package
            if folder is not None and (folder / name).is_file():
                with np.load(folder / name) as data:
                    return data["classes"].tolist(), data["weights"], data["bias"]
        path = cache_dir / name if cache_dir is not None else None
        from sklearn.linear_model import LogisticRegression  # only when training: a warm start skips the import

        # balanced: the crisis lexicon alone has thousands of phrases, and no class may win by its size
        model = LogisticRegression(C=REGULARISATION, max_iter=2000, class_weight="balanced")
        model.fit(matrix, labels)
        classes = [str(c) for c in model.classes_]
        weights, bias = model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob("classifier-*.npz"):
                old.unlink()
            np.savez(path, classes=np.array(classes), weights=weights, bias=bias)
        return classes, weights, bias

    def predict(self, vectors: np.ndarray, topics: int = 2, candidates: int = 8) -> Prediction:
        """For the embeddings of one message (as written, and transliterated when it is): the more confident
        form's class probabilities; similarities for the crisis exemplars and for the `candidates` entries of
        the `topics` likeliest topics closest by centroid, so the cost stays flat as the knowledge base grows."""
        logits = vectors @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        chosen = probabilities[int(probabilities.max(axis=1).argmax())]
        ranked = [self.classes[i] for i in np.argsort(-chosen)]
        likely = [c for c in ranked if c in self._entries_of][:topics]
        pool = [self._entry_index[e] for topic in likely for e in self._entries_of[topic]]
        near = (vectors @ self._centroids[pool].T).max(axis=0) if pool else np.zeros(0)
        closest = [self._entry_ids[pool[i]] for i in np.argsort(-near)[:candidates]]
        crisis = {label[len(CRISIS_PREFIX) :]: self._similarity(vectors, label) for label in self._crisis}
        entries = {e: self._similarity(vectors, e) for e in closest}
        others = [*entries.values(), self._similarity(vectors, OUT_OF_SCOPE) if OUT_OF_SCOPE in self._spans else 0.0]
        return Prediction(dict(zip(self.classes, chosen.tolist(), strict=True)), crisis, entries, max(others))

    def _similarity(self, vectors: np.ndarray, label: str) -> float:
        start, end = self._spans[label]
        return float((vectors @ self._rows[start:end].T).max())
