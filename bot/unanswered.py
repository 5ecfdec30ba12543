"""What people asked that the FAQ did not answer well, grouped by meaning, each group with its nearest entry:
the admins' list of what to add next, shared by `kb unanswered` and the console's workshop."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.core.understanding import Understander
from bot.storage.users import UnansweredQuestion

GROUP_SIMILARITY = 0.86  # questions at least this close (cosine) are one group
PARAPHRASE_SIMILARITY = 0.85  # a group this close to an entry's paraphrases is more of its wording


@dataclass
class Group:
    centroid: np.ndarray
    questions: list[UnansweredQuestion] = field(default_factory=list)
    entry: str = "-"
    similarity: float = 0.0

    @property
    def newest(self) -> UnansweredQuestion:
        return max(self.questions, key=lambda q: q.at)

    @property
    def languages(self) -> list[str]:
        return sorted({q.language for q in self.questions})

    @property
    def fits_entry(self) -> bool:
        """Close enough to its nearest entry to be more of that entry's wording, not a new entry."""
        return self.similarity >= PARAPHRASE_SIMILARITY


def group(questions: list[UnansweredQuestion], understanding: Understander) -> list[Group] | None:
    """Groups, largest first; None when the sentence encoder is unavailable (the caller lists them one by one)."""
    encoder, model = understanding.encoder, understanding.semantic
    if not questions or encoder is None or model is None:
        return None if questions else []
    vectors = encoder.encode([q.text for q in questions], timeout=120.0)
    if vectors is None:
        return None
    groups: list[Group] = []
    for question, vector in zip(questions, vectors, strict=True):
        found = next((g for g in groups if float(g.centroid @ vector) >= GROUP_SIMILARITY), None)
        if found is None:
            found = Group(vector.copy())
            groups.append(found)
        else:
            found.centroid = found.centroid + (vector - found.centroid) / (len(found.questions) + 1)
            found.centroid /= max(float(np.linalg.norm(found.centroid)), 1e-6)
        found.questions.append(question)
    groups.sort(key=lambda g: len(g.questions), reverse=True)
    for each in groups:
        prediction = model.predict(each.centroid[None, :])
        each.entry, each.similarity = max(prediction.entry_similarity.items(), key=lambda kv: kv[1], default=("-", 0.0))
    return groups
