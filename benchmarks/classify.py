"""Speed of the understanding step: per free-text message, the whole step and the encoder alone, and peak memory.

Runs the dev set's messages through the Understander (crisis lexicon, encoder, semantic crisis layer, small talk,
language, classifier and lexical matcher, decision) on the real knowledge base and on synthetic copies of it x10
and x100, each scale in its own process so peak memory is its own. A synthetic entry copies a real one with one
word of each paraphrase replaced by a made-up word (the lexical index grows as a larger base would) and its
paraphrases' vectors moved by a little noise (so as not to embed 700,000 texts); the topic classifier's weights
are the real ones, since topics do not multiply with entries. Also times `migrant-bot ask TEXT` end to end.

    python -m benchmarks.classify            # the table
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.app import understander
from bot.config import load_config
from bot.core.embeddings import EmbeddingStore
from bot.core.knowledge import KnowledgeBase, Topic
from bot.core.semantic import SemanticModel, training_examples
from bot.core.understanding import Understander
from bot.evaluation import load_cases
from bot.i18n import I18n
from bot.tables import format_table

ROOT = Path(__file__).resolve().parent.parent

PASSES = 2


def _mutate(word: str, rng: random.Random) -> str:
    letters = list(word)
    for _ in range(2):
        letters[rng.randrange(len(letters))] = rng.choice(word)
    return "".join(letters) + rng.choice(word)


def replicate(knowledge: KnowledgeBase, scale: int, seed: int = 7) -> tuple[KnowledgeBase, dict[str, str]]:
    """The knowledge base x`scale`, and each synthetic paraphrase's original (whose vector it borrows)."""
    rng = random.Random(seed)
    entries = dict(knowledge.entries)
    topics = {t: list(topic.entries) for t, topic in knowledge.topics.items()}
    original: dict[str, str] = {}
    for copy in range(1, scale):
        for entry in knowledge.entries.values():
            questions = {}
            for language, texts in entry.questions.items():
                varied = []
                for text in texts:
                    words = text.split()
                    i = rng.randrange(len(words))
                    words[i] = _mutate(words[i], rng)
                    varied.append(" ".join(words))
                    original[varied[-1]] = text
                questions[language] = tuple(varied)
            new_id = f"{entry.id[:40]}-v{copy}"
            entries[new_id] = replace(entry, id=new_id, questions=questions, related=())
            topics[entry.topic].append(new_id)
    scaled = replace(
        knowledge,
        entries=entries,
        topics={t: Topic(t, knowledge.topics[t].titles, tuple(ids)) for t, ids in topics.items()},
    )
    return scaled, original


class BorrowingStore:
    """Vectors of the real store; a synthetic text gets its original's, moved by a little noise."""

    def __init__(self, real: EmbeddingStore, original: dict[str, str], rng: np.random.Generator) -> None:
        self.real, self.original, self.rng, self.encoder = real, original, rng, real.encoder

    def matrix(self, texts: list[str], progress: bool = False) -> np.ndarray:
        base = self.real.matrix([self.original.get(t, t) for t in texts])
        noisy = base + self.rng.normal(0, 0.02, base.shape).astype(np.float32)
        return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def child(scale: int) -> dict[str, float]:
    config = load_config(ROOT / "bot.toml", env={})
    real = understander(config, progress=False)
    assert real.semantic is not None and real.encoder is not None
    started = time.perf_counter()
    knowledge, original = replicate(real.knowledge, scale)
    weights = (real.semantic.classes, real.semantic.weights, real.semantic.bias)

    class Scaled(SemanticModel):
        @staticmethod
        def _trained(*_: object) -> tuple[list[str], np.ndarray, np.ndarray]:
            return weights

    store = BorrowingStore(real.semantic.store, original, np.random.default_rng(7))
    semantic = Scaled(
        store,
        training_examples(knowledge),
        {e.id: e.topic for e in knowledge.entries.values()},
        None,
    )
    engine = Understander(knowledge, config.bot, config.classifier, I18n(config.bot.languages), real.encoder, semantic)
    build = time.perf_counter() - started
    messages = [c.text for c in load_cases(ROOT / "tests" / "data" / "dev.jsonl", tuple(knowledge.topics))]
    for text in messages[:50]:
        engine.understand(text)
    whole: list[float] = []
    encoder: list[float] = []
    run_started = time.perf_counter()
    for _ in range(PASSES):
        for text in messages:
            t0 = time.perf_counter_ns()
            engine.understand(text)
            whole.append((time.perf_counter_ns() - t0) / 1e6)
            t0 = time.perf_counter_ns()
            real.encoder.encode([text])
            encoder.append((time.perf_counter_ns() - t0) / 1e6)
    elapsed = time.perf_counter() - run_started
    whole.sort()
    encoder.sort()
    return {
        "entries": len(knowledge.entries),
        "build_s": build,
        "p50_ms": statistics.median(whole),
        "p99_ms": whole[int(len(whole) * 0.99) - 1],
        "enc_p50_ms": statistics.median(encoder),
        "enc_p99_ms": encoder[int(len(encoder) * 0.99) - 1],
        "per_s": len(whole) / elapsed,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ask_end_to_end(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(ROOT / "bot.toml"), "ask", "do I need health insurance"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - t0)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    rows = []
    for scale in (1, 10, 100):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.classify", "--child", str(scale)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout)
        rows.append(
            [
                f"x{scale}",
                int(r["entries"]),
                f"{r['build_s']:.1f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['enc_p50_ms']:.1f}",
                f"{r['enc_p99_ms']:.1f}",
                f"{r['peak_mib']:.0f}",
            ]
        )
    print(
        f"understanding step (dev set messages x{PASSES} passes, one process per scale; the encoder's worker "
        "process is not in peak memory)"
    )
    print(
        format_table(
            ["kb", "entries", "build s", "step p50 ms", "step p99 ms", "encoder p50 ms", "encoder p99 ms", "peak MiB"],
            rows,
        )
    )
    times = ask_end_to_end()
    print(
        f"\n`migrant-bot ask TEXT`, start to printed answer, 5 runs: median {statistics.median(times):.2f} s,"
        f" max {times[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
