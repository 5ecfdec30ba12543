"""The shipped index is current: a fresh clone embeds nothing and trains nothing before its first answer."""

from __future__ import annotations

from bot.app import bundled_encoder
from bot.core.embeddings import SHIPPED_DIR, EmbeddingStore
from bot.core.knowledge import load_knowledge
from bot.core.semantic import training_classes, training_examples, weights_file
from tests.conftest import LANGUAGES, ROOT

HOW = "the knowledge base changed: run `migrant-bot kb index` and commit bot/data/index/"


def test_every_text_of_the_knowledge_base_has_a_shipped_vector_and_its_weights_ship_too() -> None:
    knowledge = load_knowledge(ROOT / "knowledge", LANGUAGES)
    examples = training_examples(knowledge)
    texts = [t for _, t in examples]
    encoder = bundled_encoder()
    assert EmbeddingStore(encoder, cache_dir=None).missing(texts) == [], HOW
    classes = training_classes(examples, {e.id: e.topic for e in knowledge.entries.values()})
    assert (SHIPPED_DIR / weights_file(encoder.model_id, classes, texts)).is_file(), HOW
    assert len(list(SHIPPED_DIR.glob("classifier-*.npz"))) == 1  # no stale weights left behind
