"""Speed of the understanding step: per-message latency, throughput and peak memory.

Runs the dev set's messages through Engine.understand (safety, small talk, language, FAQ match, decision) on the
real knowledge base and on synthetic copies of it x10 and x100, each scale in its own process so peak memory is
its own. Synthetic entries copy a real entry with one word of each paraphrase replaced by a made-up word, so the
vocabulary and the posting lists grow as a larger real base would. Also times `migrant-bot ask TEXT` end to end.

    python benchmarks/classify.py            # the table
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

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/queue.py would shadow the standard library's queue module: use the repository root instead
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"] + [str(ROOT)]

from bot.config import load_config  # noqa: E402
from bot.core.engine import Engine  # noqa: E402
from bot.core.knowledge import KnowledgeBase, Topic, load_knowledge  # noqa: E402
from bot.evaluation import load_cases  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.tables import format_table  # noqa: E402

PASSES = 5


def _mutate(word: str, rng: random.Random) -> str:
    letters = list(word)
    for _ in range(2):
        letters[rng.randrange(len(letters))] = rng.choice(word)
    return "".join(letters) + rng.choice(word)


def replicate(knowledge: KnowledgeBase, scale: int, seed: int = 7) -> KnowledgeBase:
    rng = random.Random(seed)
    entries = dict(knowledge.entries)
    topics = {t: list(topic.entries) for t, topic in knowledge.topics.items()}
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
                questions[language] = tuple(varied)
            new_id = f"{entry.id[:40]}-v{copy}"
            entries[new_id] = replace(entry, id=new_id, questions=questions, related=())
            topics[entry.topic].append(new_id)
    return KnowledgeBase(
        knowledge.languages,
        {t: Topic(t, knowledge.topics[t].titles, tuple(ids)) for t, ids in topics.items()},
        entries,
    )


def child(scale: int) -> dict[str, float]:
    config = load_config(ROOT / "bot.toml", env={})
    started = time.perf_counter()
    knowledge = replicate(load_knowledge(config.knowledge_path, config.bot.languages), scale)
    engine = Engine(knowledge, config.bot, config.classifier, I18n(config.bot.languages))
    build = time.perf_counter() - started
    messages = [c.text for c in load_cases(ROOT / "tests" / "data" / "dev.jsonl")]
    for text in messages:
        engine.understand(text)
    timings: list[float] = []
    run_started = time.perf_counter()
    for _ in range(PASSES):
        for text in messages:
            t0 = time.perf_counter_ns()
            engine.understand(text)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
    elapsed = time.perf_counter() - run_started
    timings.sort()
    return {
        "entries": len(knowledge.entries),
        "build_s": build,
        "p50_ms": statistics.median(timings),
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "max_ms": timings[-1],
        "per_s": len(timings) / elapsed,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ask_end_to_end(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(ROOT / "bot.toml"), "ask", "do I need health insurance"],
            check=True, capture_output=True, cwd=ROOT,
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
        out = subprocess.run([sys.executable, __file__, "--child", str(scale)], check=True, capture_output=True, text=True)
        r = json.loads(out.stdout)
        rows.append([f"x{scale}", int(r["entries"]), f"{r['build_s']:.2f}", f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}",
                     f"{r['max_ms']:.2f}", f"{r['per_s']:.0f}", f"{r['peak_mib']:.0f}"])
    print("understanding step (dev set messages x5 passes, one process per scale)")
    print(format_table(["kb", "entries", "build s", "p50 ms", "p99 ms", "max ms", "msg/s", "peak MiB"], rows))
    times = ask_end_to_end()
    print(f"\n`migrant-bot ask TEXT`, start to printed answer, 5 runs: median {statistics.median(times):.2f} s,"
          f" max {times[-1]:.2f} s")


if __name__ == "__main__":
    main()
