"""The `migrant-bot` command: chat, ask, kb, db and eval.

Heavy imports (the database layer) happen inside the commands that need them, so `migrant-bot ask` stays fast.
Every error a person can fix is printed as one line without a traceback, and the exit code is non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import desk_cli, logs
from bot.app import build_engine, open_runtime
from bot.config import Config, ConfigError, load_config
from bot.core.handoff import DeskError
from bot.core.engine import Engine
from bot.core.knowledge import TOPICS, KnowledgeError, check_knowledge
from bot.tables import format_table
from bot.types import Inbound


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migrant-bot", description="A help desk for migrants in Bulgaria.")
    parser.add_argument("--config", metavar="PATH", help="bot.toml to use (default: $MIGRANT_BOT_CONFIG, ./bot.toml)")
    parser.add_argument("--debug", action="store_true", help="debug logging (may log message text)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run every enabled chat channel, the outbox dispatcher and the HTTP app")
    viber = commands.add_parser("viber", help="the Viber channel").add_subparsers(dest="viber_command", required=True)
    viber.add_parser("set-webhook", help="point Viber at [web] public_url + /viber and print Viber's answer")

    chat = commands.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--lang", metavar="LL", help="the language to answer in, as if chosen by the user")
    chat.add_argument("--user", default="local", metavar="ID", help="the console user id (default: local)")

    ask = commands.add_parser("ask", help="answer one message (or one per line from '-'); writes no state")
    ask.add_argument("--lang", metavar="LL", help="the language to answer in, as if chosen by the user")
    ask.add_argument("--json", action="store_true", help="print one JSON object per message")
    ask.add_argument("text", nargs="+", help="the message, or '-' to read one message per line from stdin")

    kb = commands.add_parser("kb", help="the knowledge base").add_subparsers(dest="kb_command", required=True)
    validate = kb.add_parser("validate", help="check knowledge/*.yaml; exit 1 on any error")
    validate.add_argument("directory", nargs="?", help="the folder to check (default: knowledge_dir)")
    kb.add_parser("stats", help="entries and paraphrases per topic and language")
    unanswered = kb.add_parser("unanswered", help="questions people asked that the FAQ did not answer well")
    unanswered.add_argument("--days", type=int, default=30, help="look back this many days (default: 30)")

    db = commands.add_parser("db", help="the database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the database migrations")
    db.add_parser("purge", help="delete what is older than retention_days")

    desk_cli.add_parsers(commands)

    evaluate = commands.add_parser("eval", help="measure accuracy on a labelled JSONL file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--misses", action="store_true", help="also list every message the bot got wrong")
    return parser


def _language(config: Config, code: str | None) -> str | None:
    if code is not None and code not in config.bot.languages:
        raise UsageError(f"--lang {code}: not one of the configured languages ({', '.join(config.bot.languages)})")
    return code


def _ask_payload(engine: Engine, text: str, chosen: str | None) -> dict[str, object]:
    understanding = engine.understand(text, chosen=chosen)
    message = engine.message_for(understanding)
    return {
        "lang": understanding.lang,
        "action": understanding.action,
        "topic": understanding.topic,
        "entry": understanding.entry,
        "confidence": round(understanding.confidence, 4),
        "suggestions": list(understanding.suggestions),
        "text": engine.render_text(understanding.lang, message),
    }


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    chosen = _language(config, args.lang)
    engine = build_engine(config)
    messages = sys.stdin if args.text == ["-"] else [" ".join(args.text)]
    for line in messages:
        payload = _ask_payload(engine, line.rstrip("\n"), chosen)
        if args.json:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"{payload['text']}\n\n")
        sys.stdout.flush()
    return 0


def cmd_chat(config: Config, args: argparse.Namespace) -> int:
    from bot.channels.console import ConsoleChannel
    from bot.dispatch import Dispatcher

    chosen = _language(config, args.lang)

    async def run() -> None:
        runtime = await open_runtime(config)
        engine = runtime.engine
        assert engine is not None
        try:
            console = ConsoleChannel(engine.handle, args.user, sys.stdin, sys.stdout, sys.stdin.isatty())
            if chosen is not None:
                await engine.choose_language(console.address, chosen)
            if sys.stdin.isatty():
                console.show(await engine.handle(Inbound(console.address, text="/start")))
            # consultants' answers waiting for this user arrive at start and while the chat runs
            dispatcher = Dispatcher(runtime.outbox, {console.channel: console}, config.handoff.delivery_attempts)
            await dispatcher.deliver_once(console.channel, chat_id=args.user)
            stop = asyncio.Event()
            delivering = asyncio.create_task(dispatcher.run(stop, interval=1.0, chat_id=args.user))
            try:
                await console.run()
            finally:
                stop.set()
                await delivering
        finally:
            await runtime.close()

    asyncio.run(run())
    return 0


def cmd_kb(config: Config, args: argparse.Namespace) -> int:
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
        engine = build_engine(config)
        print(kb_stats_table(engine, config))
        return 0
    return asyncio.run(_unanswered(config, args.days))


def kb_stats_table(engine: Engine, config: Config) -> str:
    languages = config.bot.languages
    rows: list[list[object]] = []
    knowledge = engine.knowledge
    for topic in TOPICS:
        entries = [knowledge.entries[e] for e in knowledge.topics[topic].entries] if topic in knowledge.topics else []
        rows.append([topic, len(entries)] + [sum(len(e.questions.get(lang, ())) for e in entries) for lang in languages])
    entries = list(knowledge.entries.values())
    rows.append(["all", len(entries)] + [sum(len(e.questions.get(lang, ())) for e in entries) for lang in languages])
    verify = sum(e.verify for e in entries)
    table = format_table(["topic", "entries"] + [f"q/{lang}" for lang in languages], rows)
    return f"{table}\n\nentries marked verify (check before going public): {verify}"


async def _unanswered(config: Config, days: int) -> int:
    from bot.storage.users import SqlUserStore

    runtime = await open_runtime(config, with_engine=False)
    try:
        questions = await SqlUserStore(runtime.database).unanswered(days)
    finally:
        await runtime.close()
    rows = [[q.at.strftime("%Y-%m-%d %H:%M"), q.language, f"{q.score:.2f}", q.text[:80]] for q in questions]
    print(format_table(["when", "lang", "score", "question"], rows) if rows else f"nothing unanswered in {days} days")
    return 0


def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.database import Database

    async def run() -> None:
        database = Database(config.database_url)
        try:
            await database.upgrade()
            if args.db_command == "purge":
                removed = await database.purge(config.bot.retention_days)
                print(f"removed {removed} row(s) older than {config.bot.retention_days} days")
            else:
                print("database is up to date")
        finally:
            await database.close()

    asyncio.run(run())
    return 0


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    from bot.evaluation import EvalFileError, evaluate, load_cases

    try:
        cases = load_cases(args.file)
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from exc
    except EvalFileError as exc:
        raise UsageError(str(exc)) from exc
    report = evaluate(build_engine(config), cases)
    print(report.render(show_misses=args.misses))
    return 0


def cmd_viber(config: Config, args: argparse.Namespace) -> int:
    import httpx

    from bot.channels.viber import call, webhook_request
    from bot.types import DeliveryError

    if not config.web.public_url:
        raise UsageError(f"{config.source}: [web] public_url: set the bot's public https:// address first")
    token = config.secret("viber", "token_env")

    async def go() -> dict[str, object]:
        async with httpx.AsyncClient() as client:
            url = config.web.public_url.rstrip("/") + "/viber"
            return await call(client, config.viber.api_base_url, token, "set_webhook", webhook_request(url))

    try:
        answer = asyncio.run(go())
    except DeliveryError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(answer, ensure_ascii=False))
    return 0 if answer.get("status") == 0 else 1


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot import runner

    asyncio.run(runner.run(config))
    return 0


COMMANDS = {
    "run": cmd_run, "viber": cmd_viber, "ask": cmd_ask, "chat": cmd_chat, "kb": cmd_kb, "db": cmd_db, "eval": cmd_eval,
    "consultant": desk_cli.run, "queue": desk_cli.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(logging.DEBUG if args.debug else logging.INFO if args.command == "run" else logging.WARNING)
    try:
        config = load_config(args.config)
        return COMMANDS[args.command](config, args)
    except (ConfigError, UsageError) as exc:
        print(f"migrant-bot: {exc}", file=sys.stderr)
        return 2
    except DeskError as exc:
        print(f"migrant-bot: {exc}", file=sys.stderr)
        return 1
    except KnowledgeError as exc:
        print(f"migrant-bot: the knowledge base has errors; fix them and run `migrant-bot kb validate`:\n{exc}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
