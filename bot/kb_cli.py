"""`migrant-bot kb ...`: what admins run on the knowledge base (validate, stats, unanswered, index)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.app import Maintenance, open_runtime, understander
from bot.cli_args import UsageError
from bot.config import Config
from bot.core.knowledge import KnowledgeBase, check_knowledge, load_knowledge
from bot.tables import format_table

GROUP_SIMILARITY = 0.86  # questions at least this close (cosine) are one group
PARAPHRASE_SIMILARITY = 0.85  # a group this close to an entry's paraphrases is more of its wording


def run(config: Config, args: argparse.Namespace) -> int:
    if args.kb_command == "validate":
        directory = Path(args.directory) if args.directory else config.knowledge_path
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such folder")
        knowledge, problems = check_knowledge(directory, config.bot.languages)
        for problem in problems:
            print(problem)
        errors = sum(p.error for p in problems)
        print(f"{len(knowledge.entries)} entries, {errors} error(s), {len(problems) - errors} warning(s)")
        return 1 if errors else 0
    if args.kb_command == "stats":
        print(stats(load_knowledge(config.knowledge_path, config.bot.languages), dt.date.today()))
        return 0
    if args.kb_command == "index":
        return _index(config)
    return asyncio.run(_unanswered(config, args.days, args.suggest))


def stats(knowledge: KnowledgeBase, today: dt.date) -> str:
    """Coverage as a grid, topic x language: entries / paraphrases / variants; then what rests on `verify`
    sources and what is due for review."""
    languages = knowledge.languages
    rows: list[list[object]] = []
    for topic in [*knowledge.topics.values(), None]:
        entries = (
            [knowledge.entries[e] for e in topic.entries] if topic is not None else list(knowledge.entries.values())
        )
        cells = []
        for lang in languages:
            answered = sum(lang in e.answers for e in entries)
            paraphrases = sum(len(e.questions.get(lang, ())) for e in entries)
            variants = sum(lang in v for e in entries for v in e.variants.values())
            cells.append(f"{answered}/{paraphrases}/{variants}")
        rows.append([topic.id if topic is not None else "all", len(entries), *cells])
    table = format_table(["topic", "entries", *languages], rows)
    lines = [
        table,
        "",
        "each cell: entries answered / paraphrases / status variants in that language",
        f"entries that rest on a source marked verify (check before going public): "
        f"{sum(e.verify for e in knowledge.entries.values())}",
        f"entries with status variants: {sum(bool(e.variants) for e in knowledge.entries.values())}",
    ]
    due = knowledge.due(today)
    lines.append(f"due for review within 30 days or past it: {len(due)}")
    lines += [f"  {what}: review by {day:%d %b %Y}" + (" (passed)" if day < today else "") for what, day in due]
    return "\n".join(lines)


def _index(config: Config) -> int:
    from bot.app import bundled_encoder
    from bot.core.embeddings import SHIPPED_DIR, EmbeddingStore
    from bot.core.semantic import SemanticModel, training_examples

    knowledge = load_knowledge(config.knowledge_path, config.bot.languages)
    store = EmbeddingStore(bundled_encoder(), config.cache_path)
    path = store.ship([text for _, text in training_examples(knowledge)])
    SemanticModel.of(knowledge, store, SHIPPED_DIR)
    print(f"wrote {path} and the classifier's weights beside it")
    return 0


@dataclass
class _Group:
    centroid: np.ndarray
    items: list[tuple[str, str]] = field(default_factory=list)  # (language, text)
    newest: tuple[dt.datetime, str] | None = None


async def _unanswered(config: Config, days: int, suggest: bool) -> int:
    from bot.storage.users import SqlUserStore

    runtime = await open_runtime(config, with_engine=False, maintenance=Maintenance.CHECK)
    try:
        questions = await SqlUserStore(runtime.database).unanswered(days)
    finally:
        await runtime.close()
    if not questions:
        print(f"nothing unanswered in {days} days")
        return 0
    understanding = understander(config)
    encoder, model = understanding.encoder, understanding.semantic
    vectors = encoder.encode([q.text for q in questions], timeout=120.0) if encoder is not None else None
    if vectors is None or model is None:
        zone = config.handoff.hours().zone
        print("(the sentence encoder is unavailable: the questions one by one, not grouped)")
        print(
            format_table(
                [f"when ({config.handoff.timezone})", "lang", "question"],
                [[f"{q.at.astimezone(zone):%Y-%m-%d %H:%M %Z}", q.language, q.text[:80]] for q in questions],
            )
        )
        return 0
    groups: list[_Group] = []
    for question, vector in zip(questions, vectors, strict=True):
        group = next((g for g in groups if float(g.centroid @ vector) >= GROUP_SIMILARITY), None)
        if group is None:
            group = _Group(vector.copy())
            groups.append(group)
        else:
            group.centroid = group.centroid + (vector - group.centroid) / (len(group.items) + 1)
            group.centroid /= max(float(np.linalg.norm(group.centroid)), 1e-6)
        group.items.append((question.language, question.text))
        if group.newest is None or question.at > group.newest[0]:
            group.newest = (question.at, question.text)
    groups.sort(key=lambda g: len(g.items), reverse=True)
    rows = []
    nearest: list[tuple[str, float]] = []
    for group in groups:
        prediction = model.predict(group.centroid[None, :])
        entry, similarity = max(prediction.entry_similarity.items(), key=lambda kv: kv[1], default=("-", 0.0))
        nearest.append((entry, similarity))
        assert group.newest is not None
        rows.append(
            [
                len(group.items),
                group.newest[1][:60],
                ",".join(sorted({lang for lang, _ in group.items})),
                entry,
                f"{similarity:.2f}",
            ]
        )
    print(format_table(["count", "newest example", "languages", "nearest entry", "similarity"], rows))
    if suggest:
        print()
        for number, (group, (entry, similarity)) in enumerate(zip(groups, nearest, strict=True), 1):
            print(_suggestion(number, group, entry, similarity))
    return 0


def _suggestion(number: int, group: _Group, entry: str, similarity: float) -> str:
    """YAML lines an admin could paste under the nearest entry's `questions:`; nothing is written."""
    head = f"# group {number}: {len(group.items)} question(s); nearest entry {entry} (similarity {similarity:.2f})"
    if similarity < PARAPHRASE_SIMILARITY:
        return f"{head}\n# a new entry is needed: no entry is close enough to take these as its paraphrases\n"
    lines = [head, f"# add to {entry} -> questions:"]
    by_language: dict[str, list[str]] = {}
    for language, text in group.items:
        by_language.setdefault(language, []).append(text)
    for language, texts in by_language.items():
        lines.append(f"      {language}:")
        lines += [f"        - {json.dumps(t, ensure_ascii=False)}" for t in dict.fromkeys(texts)]
    return "\n".join(lines) + "\n"
