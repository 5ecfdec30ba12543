"""`migrant-bot consultant ...` and `migrant-bot queue ...`: the consultants' desk with no chat service.

Consultants see a ticket's pseudonym, language, channel and messages, never the person's platform id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.app import Maintenance, Runtime, open_runtime
from bot.cli_args import Subcommands, UsageError, language_list
from bot.cli_args import command as declare
from bot.config import Config
from bot.core.handoff import NAME_RULE, ConsultantInfo, Desk, TicketInfo, ticket_age, valid_name
from bot.core.tickets import DeskError, TicketStatus
from bot.tables import format_table


def add_parsers(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    def command(parent: Subcommands, name: str, text: str) -> argparse.ArgumentParser:
        return declare(parent, name, text, common)

    consultant = command(commands, "consultant", "register consultants").add_subparsers(
        dest="consultant_command", required=True
    )
    add = command(consultant, "add", "register a consultant")
    add.add_argument("name", help="a short name they act under: letters, digits, '.', '-', '_', '@'")
    add.add_argument("--languages", required=True, help="comma-separated language codes, e.g. bg,ru,en")
    add.add_argument("--telegram-id", type=int, help="their Telegram user id, for the consultants' group")
    add.add_argument("--display-name", help="a name shown to migrants; without it they see only 'Consultant'")
    command(consultant, "list", "list consultants")
    remove = command(consultant, "remove", "remove a consultant; their open tickets go back to the queue")
    remove.add_argument("name", help="the consultant's name")

    queue = command(commands, "queue", "work the consultants' queue").add_subparsers(
        dest="queue_command", required=True
    )
    listing = command(queue, "list", "open tickets, urgent first (tickets past the answer time flagged)")
    listing.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    listing.add_argument(
        "--status", choices=[s.value for s in TicketStatus], help="only tickets in this state (default: all open ones)"
    )
    listing.add_argument("--lang", metavar="LL", help="only tickets in this language")
    listing.add_argument("--as", dest="as_name", metavar="NAME", help="list tickets in NAME's languages first")
    show = command(queue, "show", "a ticket and its messages (times in [handoff] timezone)")
    show.add_argument("id", type=int, help="the ticket number")
    for verb, text in (
        ("claim", "take a ticket"),
        ("close", "close a ticket you hold (or one the person withdrew)"),
        ("release", "give a ticket you hold back to the queue"),
    ):
        parser = command(queue, verb, text)
        parser.add_argument("id", type=int, help="the ticket number")
        parser.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="the consultant acting")
    reply = command(queue, "reply", "answer a ticket you hold; the answer reaches the user's chat")
    reply.add_argument("id", type=int, help="the ticket number")
    reply.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="the consultant answering")
    reply.add_argument("text", nargs="+", help="the answer, or '-' to read it from standard input")


def _flags(desk: Desk, ticket: TicketInfo) -> list[str]:
    return (["OVERDUE"] if desk.overdue(ticket) else []) + (["DELIVERY FAILED"] if ticket.delivery_failed else [])


def _as_json(desk: Desk, ticket: TicketInfo) -> dict[str, object]:
    return {
        "id": ticket.id,
        "pseudonym": ticket.pseudonym,
        "channel": ticket.channel,
        "language": ticket.language,
        "topic": ticket.topic,
        "person_status": ticket.person_status,
        "reason": ticket.reason,
        "priority": ticket.priority,
        "status": ticket.status,
        "consultant": ticket.consultant,
        "created_at": ticket.created_at.isoformat(),
        "overdue": desk.overdue(ticket),
        "delivery_failed": ticket.delivery_failed,
    }


async def _list(runtime: Runtime, args: argparse.Namespace) -> str:
    tickets = await runtime.desk.tickets(args.status, args.lang)
    if args.as_name:
        mine = {c.name: c for c in await runtime.desk.consultants()}.get(args.as_name)
        if mine is None:
            raise DeskError(f"no consultant named '{args.as_name}'")
        tickets.sort(key=lambda t: t.language not in mine.languages)  # stable: urgent and oldest first stay so
    desk = runtime.desk
    if args.json:
        return json.dumps([_as_json(desk, t) for t in tickets], ensure_ascii=False)
    if not tickets:
        return "no tickets"
    rows = [
        [
            t.id,
            t.pseudonym,
            t.language,
            t.channel,
            t.reason,
            t.priority,
            t.status,
            t.consultant or "-",
            ticket_age(t),
            " ".join(_flags(desk, t)),
        ]
        for t in tickets
    ]
    return format_table(
        ["id", "who", "lang", "channel", "reason", "priority", "status", "held by", "age", "flags"], rows
    )


async def _show(runtime: Runtime, args: argparse.Namespace) -> str:
    ticket, lines = await runtime.desk.ticket(args.id)
    head = (
        f"ticket {ticket.id}  {ticket.pseudonym}  {ticket.language}  {ticket.channel}  {ticket.reason}  "
        f"{ticket.priority}  {ticket.status}  held by {ticket.consultant or '-'}  topic {ticket.topic or '-'}  "
        f"person's status {ticket.person_status or '-'}"
    )
    flags = _flags(runtime.desk, ticket)
    zone = runtime.desk.hours.zone
    body = [
        f"{line.at.astimezone(zone):%Y-%m-%d %H:%M %Z}  {line.consultant or line.author}: {line.text}" for line in lines
    ]
    return "\n".join([head] + ([" ".join(flags)] if flags else []) + [""] + (body or ["(no messages yet)"]))


async def _queue_action(runtime: Runtime, args: argparse.Namespace) -> str:
    desk = runtime.desk
    if args.queue_command == "claim":
        ticket = await desk.claim(args.id, args.as_name)
        return f"ticket {ticket.id} ({ticket.pseudonym}, {ticket.language}) is yours"
    if args.queue_command == "reply":
        text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
        ticket = await desk.reply(args.id, args.as_name, text)
        return f"reply to ticket {ticket.id} queued for delivery on {ticket.channel}"
    if args.queue_command == "close":
        ticket = await desk.close(args.id, args.as_name)
        return f"ticket {ticket.id} closed"
    ticket = await desk.release(args.id, args.as_name)
    return f"ticket {ticket.id} is back in the queue"


async def _consultant(runtime: Runtime, args: argparse.Namespace, config: Config) -> str:
    store = runtime.desk_store
    if args.consultant_command == "add":
        if not valid_name(args.name):
            raise UsageError(f"'{args.name}': {NAME_RULE}")
        languages = language_list(args.languages, config.bot.languages)
        await store.add_consultant(ConsultantInfo(args.name, languages, args.telegram_id, args.display_name))
        return f"consultant {args.name} added ({', '.join(languages)})"
    if args.consultant_command == "list":
        rows = [
            [c.name, ",".join(c.languages), c.telegram_id or "-", c.display_name or "-"]
            for c in await store.consultants()
        ]
        return (
            format_table(["name", "languages", "telegram id", "shown to users as"], rows) if rows else "no consultants"
        )
    released = await store.remove_consultant(args.name)
    return f"consultant {args.name} removed; {released} open ticket(s) back in the queue"


async def _dispatch(runtime: Runtime, args: argparse.Namespace, config: Config) -> str:
    if args.command == "consultant":
        return await _consultant(runtime, args, config)
    if args.queue_command == "list":
        return await _list(runtime, args)
    if args.queue_command == "show":
        return await _show(runtime, args)
    return await _queue_action(runtime, args)


READ_ONLY = {"list", "show"}


def run(config: Config, args: argparse.Namespace) -> int:
    """Run one consultant or queue command; a DeskError reaches the caller, which prints it and exits 1."""
    if getattr(args, "lang", None) is not None and args.lang not in config.bot.languages:
        raise UsageError(f"--lang {args.lang}: not one of the configured languages ({', '.join(config.bot.languages)})")
    reading = (args.queue_command if args.command == "queue" else args.consultant_command) in READ_ONLY

    async def go() -> str:
        runtime = await open_runtime(
            config, with_engine=False, maintenance=Maintenance.CHECK if reading else Maintenance.MIGRATE
        )
        try:
            return await _dispatch(runtime, args, config)
        finally:
            await runtime.close()

    print(asyncio.run(go()))
    return 0
