"""The `migrant-bot` command: run, chat, ask, kb, db, eval, the desk's consultant and queue commands, the
web console's console and staff commands, and the organisers' events and broadcast commands.

Heavy imports (the database layer) happen inside the commands that need them, so `migrant-bot ask` stays fast.
Every error a person can fix is printed as one line without a traceback (unless --debug), with its exit code:
2 for the config, the arguments or the knowledge base, 1 for a refused desk command or a database that cannot be
used; output piped into a reader that stops early (`| head`) ends quietly, as Unix tools do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot import console_cli, desk_cli, kb_cli, logs, outreach_cli
from bot.app import NotMigrated, build_engine, open_runtime
from bot.cli_args import Subcommands, UsageError, common_options, positive
from bot.cli_args import command as declare
from bot.config import Config, ConfigError, load_config
from bot.core.engine import Engine
from bot.core.knowledge import KnowledgeError
from bot.core.tickets import DeskError
from bot.i18n import CatalogError
from bot.types import Address, Inbound, Outbound

SIGPIPE_EXIT = 141  # what a shell reports for a program ended by SIGPIPE
ASKED = Address("ask", "-")  # `ask` answers nobody in particular


def _version() -> str:
    try:
        return version("migrant-bot")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    common = common_options()  # see common_options: the commands get a copy without defaults
    parser = argparse.ArgumentParser(
        prog="migrant-bot", description="A help desk for migrants in Bulgaria.", parents=[common_options(default=True)]
    )
    parser.add_argument("--version", action="version", version=f"migrant-bot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent: Subcommands, name: str, text: str) -> argparse.ArgumentParser:
        return declare(parent, name, text, common)

    command(commands, "run", "run every enabled chat channel, the outbox dispatcher and the HTTP app")
    viber = command(commands, "viber", "the Viber channel").add_subparsers(dest="viber_command", required=True)
    command(viber, "set-webhook", "point Viber at [web] public_url + /viber and print Viber's answer")

    chat = command(commands, "chat", "chat with the bot in this terminal (scripted when stdin is not one)")
    chat.add_argument("--lang", metavar="LL", help="the language to answer in, as if chosen by the user")
    chat.add_argument("--user", default="local", metavar="ID", help="the console user id (default: local)")

    ask = command(commands, "ask", "answer one message (or one per line from '-'); writes no state")
    ask.add_argument("--lang", metavar="LL", help="the language to answer in, as if chosen by the user")
    ask.add_argument("--json", action="store_true", help="print one JSON object per message")
    ask.add_argument("text", nargs="+", help="the message, or '-' to read one message per line from stdin")

    kb = command(commands, "kb", "the knowledge base").add_subparsers(dest="kb_command", required=True)
    validate = command(kb, "validate", "check knowledge/*.yaml; exit 1 on any error")
    validate.add_argument("directory", nargs="?", help="the folder to check (default: knowledge_dir)")
    command(kb, "stats", "coverage per topic and language, what rests on verify sources, what is due for review")
    command(kb, "index", "for developers: write the shipped embeddings of the knowledge base (bot/data/index)")
    unanswered = command(kb, "unanswered", "questions the FAQ did not answer well, grouped by similarity")
    unanswered.add_argument("--days", type=positive, default=30, help="look back this many days (default: 30)")
    unanswered.add_argument(
        "--suggest",
        action="store_true",
        help="print, per group, the YAML lines that would add its questions to the nearest entry",
    )

    db = command(commands, "db", "the database").add_subparsers(dest="db_command", required=True)
    command(db, "upgrade", "apply the database migrations; say what was done")
    command(db, "current", "the migration the database is at, and the latest one")
    command(db, "purge", "delete what is older than retention_days")
    revision = command(db, "revision", "for developers: write a new migration file")
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.add_argument(
        "--autogenerate", action="store_true", help="fill it with what the models have and the database lacks"
    )

    desk_cli.add_parsers(commands, common)
    console_cli.add_parsers(commands, common)
    outreach_cli.add_parsers(commands, common)

    evaluate = command(commands, "eval", "measure accuracy on a labelled JSONL file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--misses", action="store_true", help="also list every message the bot got wrong")
    return parser


def _language(config: Config, code: str | None) -> str | None:
    if code is not None and code not in config.bot.languages:
        raise UsageError(f"--lang {code}: not one of the configured languages ({', '.join(config.bot.languages)})")
    return code


def _ask_payload(engine: Engine, text: str, chosen: str | None) -> tuple[dict[str, object], Outbound]:
    understanding = engine.understand(text, chosen=chosen)
    message = engine.message_for(understanding)
    payload: dict[str, object] = {
        "lang": understanding.lang,
        "action": understanding.action.value,
        "topic": understanding.topic,
        "entry": understanding.entry,
        "confidence": round(understanding.confidence, 4),
        "suggestions": list(understanding.suggestions),
        "text": engine.render_text(understanding.lang, message),
    }
    return payload, Outbound(ASKED, str(payload["text"]), message.buttons, understanding.lang)


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    from bot.channels.console import render

    chosen = _language(config, args.lang)
    engine = build_engine(config)
    messages = sys.stdin if args.text == ["-"] else [" ".join(args.text)]
    for line in messages:
        payload, reply = _ask_payload(engine, line.rstrip("\n"), chosen)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n" if args.json else render(reply) + "\n\n")
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


def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.database import Database, head_revision

    async def run() -> str:
        database = Database(config.database_url)
        try:
            if args.db_command == "current":
                current, head = await database.current(), head_revision()
                if current is None:
                    return f"the database is empty; the latest revision is {head} (run `migrant-bot db upgrade`)"
                return f"at revision {current}" + (" (the latest)" if current == head else f"; the latest is {head}")
            if args.db_command == "revision":
                path = await database.revision(args.message, args.autogenerate)
                return f"wrote {path}: fill in upgrade() and downgrade(), then run `migrant-bot db upgrade`"
            done = str(await database.upgrade())
            if args.db_command == "purge":
                removed = await database.purge(config.bot.retention_days)
                return f"removed {removed} row(s) older than {config.bot.retention_days} days"
            return done
        finally:
            await database.close()

    print(asyncio.run(run()))
    return 0


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    from bot.evaluation import EvalFileError, evaluate, load_cases

    engine = build_engine(config)
    try:
        cases = load_cases(args.file, tuple(engine.knowledge.topics))
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from exc
    except EvalFileError as exc:
        raise UsageError(str(exc)) from exc
    report = evaluate(engine, cases)
    print(report.render(show_misses=args.misses))
    return 0


def cmd_viber(config: Config, args: argparse.Namespace) -> int:
    import httpx

    from bot.channels.viber.adapter import call, webhook_request
    from bot.types import DeliveryError

    if not config.web.public_url:
        raise UsageError(f"{config.source}: [web] public_url: set the bot's public https:// address first")
    token = config.secret("viber", "token_env")
    logs.add_secret(token)

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
    "run": cmd_run,
    "viber": cmd_viber,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "kb": kb_cli.run,
    "db": cmd_db,
    "eval": cmd_eval,
    "consultant": desk_cli.run,
    "queue": desk_cli.run,
    "console": console_cli.run,
    "staff": console_cli.run,
    "events": outreach_cli.run,
    "broadcast": outreach_cli.run,
}


def _database_problem(exc: BaseException) -> str | None:
    """One line for an error that means the database cannot be used, or None for anything else."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, (OperationalError, DBAPIError)):
        return str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
        return str(exc).splitlines()[0] or type(exc).__name__
    name = type(exc).__module__
    if name.startswith("asyncpg"):  # e.g. InvalidCatalogNameError: the database does not exist
        return str(exc).splitlines()[0]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(logging.DEBUG if args.debug else logging.INFO if args.command == "run" else logging.WARNING)
    try:
        config = load_config(args.config)
        return COMMANDS[args.command](config, args)
    except (ConfigError, UsageError, CatalogError) as exc:
        print(f"migrant-bot: {exc}", file=sys.stderr)
        return 2
    except (DeskError, NotMigrated) as exc:
        print(f"migrant-bot: {exc}", file=sys.stderr)
        return 1
    except KnowledgeError as exc:
        print(
            f"migrant-bot: the knowledge base has errors; fix them and run `migrant-bot kb validate`:\n{exc}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return SIGPIPE_EXIT
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None or args.debug:
            raise
        print(
            f"migrant-bot: the database cannot be used ({problem}); check [bot] database_url or "
            f"$MIGRANT_BOT_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
