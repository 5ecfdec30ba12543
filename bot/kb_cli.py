"""`migrant-bot kb ...`: what admins run on the knowledge base (validate, stats, unanswered, index)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path

from bot.app import Maintenance, open_runtime, understander
from bot.cli_args import UsageError
from bot.config import Config
from bot.core.knowledge import KnowledgeBase, check_knowledge, load_knowledge
from bot.tables import format_table
from bot.unanswered import Group


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


async def _unanswered(config: Config, days: int, suggest: bool) -> int:
    from bot.storage.users import SqlUserStore
    from bot.unanswered import group

    runtime = await open_runtime(config, with_engine=False, maintenance=Maintenance.CHECK)
    try:
        questions = await SqlUserStore(runtime.database).unanswered(days)
    finally:
        await runtime.close()
    if not questions:
        print(f"nothing unanswered in {days} days")
        return 0
    groups = group(questions, understander(config))
    if groups is None:
        zone = config.handoff.hours().zone
        print("(the sentence encoder is unavailable: the questions one by one, not grouped)")
        print(
            format_table(
                [f"when ({config.handoff.timezone})", "lang", "question"],
                [[f"{q.at.astimezone(zone):%Y-%m-%d %H:%M %Z}", q.language, q.text[:80]] for q in questions],
            )
        )
        return 0
    rows = [
        [len(g.questions), g.newest.text[:60], ",".join(g.languages), g.entry, f"{g.similarity:.2f}"] for g in groups
    ]
    print(format_table(["count", "newest example", "languages", "nearest entry", "similarity"], rows))
    if suggest:
        print()
        for number, each in enumerate(groups, 1):
            print(_suggestion(number, each))
    return 0


def _suggestion(number: int, group: Group) -> str:
    """YAML lines an admin could paste under the nearest entry's `questions:`; nothing is written."""
    head = (
        f"# group {number}: {len(group.questions)} question(s); nearest entry {group.entry} "
        f"(similarity {group.similarity:.2f})"
    )
    if not group.fits_entry:
        return f"{head}\n# a new entry is needed: no entry is close enough to take these as its paraphrases\n"
    lines = [head, f"# add to {group.entry} -> questions:"]
    by_language: dict[str, list[str]] = {}
    for question in group.questions:
        by_language.setdefault(question.language, []).append(question.text)
    for language, texts in by_language.items():
        lines.append(f"      {language}:")
        lines += [f"        - {json.dumps(t, ensure_ascii=False)}" for t in dict.fromkeys(texts)]
    return "\n".join(lines) + "\n"
