"""`migrant-bot events ...` and `migrant-bot broadcast ...`: what organisers run.

Events come from the knowledge base's `events/`; their registrations are counted per language, never shown
by person. A broadcast is created from a YAML file (bot.broadcast_file), previewed, then sent: `send` queues one
outbox message per recipient and follows the running bot's delivery with a progress line until it is done (or
returns at once with --no-wait). A refusal is one line and exit 1; nothing is ever queued twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.announce import BroadcastRefused, channel_limits, describe, message_for, preview
from bot.app import Maintenance, open_runtime
from bot.cli_args import Subcommands, UsageError, positive
from bot.cli_args import command as declare
from bot.config import Config
from bot.core.event_chat import local_clock
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.knowledge.model import fallback_language
from bot.core.tickets import DeskError
from bot.tables import format_table

if TYPE_CHECKING:  # the database layer is imported by the commands that use it (`migrant-bot ask` stays fast)
    from bot.core.outreach import Recipient
    from bot.storage.broadcasts import BroadcastInfo, Progress, SqlBroadcasts


class OutreachError(DeskError):
    """An events or broadcast command refused: one line, exit 1."""


def add_parsers(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    def command(parent: Subcommands, name: str, text: str) -> argparse.ArgumentParser:
        return declare(parent, name, text, common)

    events = command(commands, "events", "info sessions: what is announced and who signed up (counts only)")
    events_commands = events.add_subparsers(dest="events_command", required=True)
    command(events_commands, "list", "every event of the knowledge base, upcoming first, with its sign-ups")
    show = command(events_commands, "show", "one event: registrations and reminders per language")
    show.add_argument("id")

    broadcast = command(commands, "broadcast", "announcements to subscribers or to an event's registrants")
    casts = broadcast.add_subparsers(dest="broadcast_command", required=True)
    create = command(casts, "create", "store a broadcast from a YAML file (text per language, audience)")
    create.add_argument("file", type=Path)
    for name, text in (
        ("preview", "recipients per channel and language; refuses when a language has no text"),
        ("send", "queue it for every recipient and follow the delivery"),
    ):
        sub = command(casts, name, text)
        sub.add_argument("id", type=positive)
        sub.add_argument(
            "--fallback-default", action="store_true", help="send the default language's text where one is missing"
        )
        if name == "send":
            sub.add_argument("--no-wait", action="store_true", help="queue it and return; the bot delivers it")
    for name, text in (("status", "how far its sending went"), ("cancel", "stop what is not yet sent")):
        command(casts, name, text).add_argument("id", type=positive)
    command(casts, "list", "every broadcast, newest first")


def _knowledge(config: Config) -> KnowledgeBase:
    return load_knowledge(config.knowledge_path, config.bot.languages)


async def _events(config: Config, args: argparse.Namespace) -> str:
    from bot.storage.outreach import SqlOutreach

    knowledge = _knowledge(config)
    now = local_clock(config.handoff.timezone)()
    runtime = await open_runtime(config, with_engine=False, maintenance=Maintenance.CHECK)
    try:
        outreach = SqlOutreach(runtime.database)
        if args.events_command == "list":
            rows = []
            for item in sorted(knowledge.events.values(), key=lambda e: (e.over(now), e.start)):
                counts = await outreach.counts(item.id)
                places = f"{counts.attending}/{item.capacity}" if item.capacity else str(counts.attending)
                when = f"{item.start:%Y-%m-%d}" if item.dated_only else f"{item.start:%Y-%m-%d %H:%M}"
                state = "past" if item.over(now) else "upcoming"
                rows.append([item.id, when, item.city, state, places, str(counts.reminders)])
            headers = ["id", "start", "city", "state", "coming", "reminders"]
            return format_table(headers, rows) if rows else "no events in the knowledge base's events/"
        event = knowledge.events.get(args.id)
        if event is None:
            raise OutreachError(f"there is no event '{args.id}' (see `migrant-bot events list`)")
        counts = await outreach.counts(event.id)
        languages = sorted(set(counts.attending_by_language) | set(counts.reminders_by_language))
        table = [
            [lang, str(counts.attending_by_language.get(lang, 0)), str(counts.reminders_by_language.get(lang, 0))]
            for lang in languages
        ]
        head = [
            f"{event.id}: {event.title(config.bot.default_language, fallback_language(config.bot.languages))}",
            f"{event.start:%Y-%m-%d %H:%M} – {event.end:%Y-%m-%d %H:%M}, {event.city}, {event.place}",
            f"announced in: {', '.join(event.languages)}; topics: {', '.join(event.topics) or '-'}",
            f"coming: {counts.attending}" + (f" of {event.capacity} places" if event.capacity else ""),
            f"reminders: {counts.reminders}",
        ]
        return "\n".join(head + ([format_table(["language", "coming", "reminders"], table)] if table else []))
    finally:
        await runtime.close()


def _preview(info: BroadcastInfo, recipients: list[Recipient], default: str, fallback: bool) -> str:
    rows = [
        [
            r.channel,
            r.language,
            r.text_language + ("" if r.text_language == r.language else " (fallback)"),
            str(r.recipients),
        ]
        for r in preview(info, recipients, default, fallback)
    ]
    table = format_table(["channel", "language", "text", "recipients"], rows)
    return f"{describe(info)}\n{table}\n{len(recipients)} recipient(s)"


def _line(progress: Progress, started: float, done_before: int) -> str:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = (progress.sent + progress.failed - done_before) / elapsed
    left = f"{progress.left / rate:.0f} s left" if rate > 0 and progress.left else "-"
    return (
        f"sent {progress.sent}/{progress.total}, failed {progress.failed} (blocked {progress.blocked}), "
        f"{rate:.1f}/s, {left}"
    )


async def _follow(broadcasts: SqlBroadcasts, broadcast_id: int) -> Progress:
    """Print the progress until nothing is left to send (Ctrl-C stops following, not the sending)."""
    tty = sys.stdout.isatty()
    progress = await broadcasts.progress(broadcast_id)
    started, before, shown = time.monotonic(), progress.sent + progress.failed, 0.0
    while progress.left > 0:
        now = time.monotonic()
        if tty or now - shown >= 5:
            print(("\r" if tty else "") + _line(progress, started, before), end="" if tty else "\n", flush=True)
            shown = now
        await asyncio.sleep(0.5)
        progress = await broadcasts.progress(broadcast_id)
    if tty:
        print()
    return progress


async def _broadcast(config: Config, args: argparse.Namespace) -> str:
    from bot.broadcast_file import read_broadcast
    from bot.storage.broadcasts import BroadcastStateError, SqlBroadcasts

    default = config.bot.default_language
    command = args.broadcast_command
    knowledge = _knowledge(config) if command == "create" else None
    if knowledge is not None:
        draft, problems = read_broadcast(args.file, knowledge, channel_limits(), local_clock(config.handoff.timezone)())
        if draft is None:
            raise UsageError("the broadcast file has errors:\n" + "\n".join(str(p) for p in problems))
    reading = command in ("status", "list", "preview")
    runtime = await open_runtime(
        config, with_engine=False, maintenance=Maintenance.CHECK if reading else Maintenance.MIGRATE
    )
    try:
        broadcasts = SqlBroadcasts(runtime.database)
        if command == "create":
            assert draft is not None
            new = await broadcasts.create(draft.name, draft.texts, draft.audience)
            info = await broadcasts.get(new)
            assert info is not None
            count = len(await broadcasts.recipients(info.audience, default))
            return (
                f"created {describe(info)}\n{count} recipient(s) now; check with `migrant-bot broadcast preview {new}`"
            )
        if command == "list":
            rows = [
                [str(i.id), i.status.value, f"{i.created_at:%Y-%m-%d %H:%M}", str(i.recipients), i.name]
                for i in await broadcasts.all()
            ]
            return format_table(["id", "status", "created (UTC)", "recipients", "name"], rows) if rows else "none"
        info = await broadcasts.get(args.id)
        if info is None:
            raise OutreachError(f"there is no broadcast {args.id} (see `migrant-bot broadcast list`)")
        if command == "preview":
            recipients = await broadcasts.recipients(info.audience, default)
            return _preview(info, recipients, default, args.fallback_default)
        if command == "status":
            progress = await broadcasts.progress(info.id)
            return f"{describe(info)}\n" + _line(progress, time.monotonic(), progress.sent + progress.failed)
        if command == "cancel":
            withdrawn = await broadcasts.cancel(info.id)
            return f"broadcast {info.id} cancelled: {withdrawn} message(s) not yet sent were withdrawn"
        recipients = await broadcasts.recipients(info.audience, default)
        if info.status.value == "draft":
            _preview(info, recipients, default, args.fallback_default)  # refuses nobody and missing texts
        queued = await broadcasts.start(
            info.id, default, lambda r: message_for(info, r, default, args.fallback_default)
        )
        print(f"broadcast {info.id}: {queued} message(s) queued; the running bot delivers them", flush=True)
        if args.no_wait:
            return "not waiting: follow it with `migrant-bot broadcast status " + str(info.id) + "`"
        progress = await _follow(broadcasts, info.id)
        return f"broadcast {info.id} done: sent {progress.sent}, failed {progress.failed} (blocked {progress.blocked})"
    except (BroadcastStateError, BroadcastRefused) as exc:
        raise OutreachError(str(exc)) from exc
    finally:
        await runtime.close()


def run(config: Config, args: argparse.Namespace) -> int:
    work = _events if args.command == "events" else _broadcast
    print(asyncio.run(work(config, args)))
    return 0
