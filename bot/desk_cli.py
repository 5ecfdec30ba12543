"""`migrant-bot consultant ...` and `migrant-bot queue ...`: the consultants' desk with no chat service.

Consultants see a ticket's pseudonym, language, channel and messages, never the person's platform id.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re

from bot.app import Runtime, open_runtime
from bot.config import Config
from bot.core.handoff import STATUSES, ConsultantInfo, Desk, DeskError, TicketInfo
from bot.tables import format_table

_NAME = re.compile(r"^[\w.@-]{1,64}$")


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    consultant = commands.add_parser("consultant", help="register consultants").add_subparsers(
        dest="consultant_command", required=True
    )
    add = consultant.add_parser("add", help="register a consultant")
    add.add_argument("name")
    add.add_argument("--languages", required=True, help="comma-separated language codes, e.g. bg,ru,en")
    add.add_argument("--telegram-id", type=int, help="their Telegram user id, for the consultants' group")
    add.add_argument("--display-name", help="a name shown to migrants; without it they see only 'Consultant'")
    consultant.add_parser("list", help="list consultants")
    remove = consultant.add_parser("remove", help="remove a consultant; their open tickets go back to the queue")
    remove.add_argument("name")

    queue = commands.add_parser("queue", help="work the consultants' queue").add_subparsers(
        dest="queue_command", required=True
    )
    listing = queue.add_parser("list", help="open tickets, urgent first (tickets past the answer time flagged)")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--lang", metavar="L")
    listing.add_argument("--as", dest="as_name", metavar="NAME", help="list tickets in NAME's languages first")
    show = queue.add_parser("show", help="a ticket and its messages")
    show.add_argument("id", type=int)
    for verb, text in (("claim", "take a ticket"), ("close", "close a ticket you hold"),
                       ("release", "give a ticket you hold back to the queue")):
        parser = queue.add_parser(verb, help=text)
        parser.add_argument("id", type=int)
        parser.add_argument("--as", dest="as_name", required=True, metavar="NAME")
    reply = queue.add_parser("reply", help="answer a ticket you hold; the answer reaches the user's chat")
    reply.add_argument("id", type=int)
    reply.add_argument("--as", dest="as_name", required=True, metavar="NAME")
    reply.add_argument("text", nargs="+")


def _age(ticket: TicketInfo) -> str:
    minutes = int((dt.datetime.now(dt.timezone.utc) - ticket.created_at).total_seconds() // 60)
    return f"{minutes // 1440}d{minutes % 1440 // 60}h" if minutes >= 1440 else f"{minutes // 60}h{minutes % 60:02d}m"


def _flags(desk: Desk, ticket: TicketInfo) -> list[str]:
    return (["OVERDUE"] if desk.overdue(ticket) else []) + (["DELIVERY FAILED"] if ticket.delivery_failed else [])


def _as_json(desk: Desk, ticket: TicketInfo) -> dict[str, object]:
    return {
        "id": ticket.id, "pseudonym": ticket.pseudonym, "channel": ticket.channel, "language": ticket.language,
        "topic": ticket.topic, "reason": ticket.reason, "priority": ticket.priority, "status": ticket.status,
        "consultant": ticket.consultant, "created_at": ticket.created_at.isoformat(),
        "overdue": desk.overdue(ticket), "delivery_failed": ticket.delivery_failed,
    }


async def _list(runtime: Runtime, args: argparse.Namespace) -> str:
    tickets = await runtime.desk_store.list_tickets(args.status, args.lang)
    if args.as_name:
        mine = {c.name: c for c in await runtime.desk_store.consultants()}.get(args.as_name)
        if mine is None:
            raise DeskError(f"no consultant named '{args.as_name}'")
        tickets.sort(key=lambda t: t.language not in mine.languages)  # stable: urgent and oldest first stay so
    desk = runtime.desk
    if args.json:
        return json.dumps([_as_json(desk, t) for t in tickets], ensure_ascii=False)
    if not tickets:
        return "no tickets"
    rows = [[t.id, t.pseudonym, t.language, t.channel, t.reason, t.priority, t.status, t.consultant or "-",
             _age(t), " ".join(_flags(desk, t))] for t in tickets]
    return format_table(["id", "who", "lang", "channel", "reason", "priority", "status", "held by", "age", "flags"], rows)


async def _show(runtime: Runtime, args: argparse.Namespace) -> str:
    ticket, lines = await runtime.desk_store.show(args.id)
    head = (f"ticket {ticket.id}  {ticket.pseudonym}  {ticket.language}  {ticket.channel}  {ticket.reason}  "
            f"{ticket.priority}  {ticket.status}  held by {ticket.consultant or '-'}  topic {ticket.topic or '-'}")
    flags = _flags(runtime.desk, ticket)
    body = [f"{line.at:%Y-%m-%d %H:%M}  {line.consultant or line.author}: {line.text}" for line in lines]
    return "\n".join([head] + ([" ".join(flags)] if flags else []) + [""] + (body or ["(no messages yet)"]))


async def _queue_action(runtime: Runtime, args: argparse.Namespace) -> str:
    desk = runtime.desk
    if args.queue_command == "claim":
        ticket = await runtime.desk_store.claim(args.id, args.as_name)
        return f"ticket {ticket.id} ({ticket.pseudonym}, {ticket.language}) is yours"
    if args.queue_command == "reply":
        ticket = await desk.reply(args.id, args.as_name, " ".join(args.text))
        return f"reply to ticket {ticket.id} queued for delivery on {ticket.channel}"
    if args.queue_command == "close":
        ticket = await desk.close(args.id, args.as_name)
        return f"ticket {ticket.id} closed"
    ticket = await runtime.desk_store.release(args.id, args.as_name)
    return f"ticket {ticket.id} is back in the queue"


async def _consultant(runtime: Runtime, args: argparse.Namespace, config: Config) -> str:
    store = runtime.desk_store
    if args.consultant_command == "add":
        if not _NAME.match(args.name):
            raise DeskError(f"'{args.name}': a name is letters, digits, '.', '-', '_' or '@'")
        languages = tuple(code.strip() for code in args.languages.split(",") if code.strip())
        unknown = [code for code in languages if code not in config.bot.languages]
        if not languages or unknown:
            raise DeskError(f"--languages: {', '.join(unknown) or 'none given'}; configured: {', '.join(config.bot.languages)}")
        await store.add_consultant(ConsultantInfo(args.name, languages, args.telegram_id, args.display_name))
        return f"consultant {args.name} added ({', '.join(languages)})"
    if args.consultant_command == "list":
        rows = [[c.name, ",".join(c.languages), c.telegram_id or "-", c.display_name or "-"] for c in await store.consultants()]
        return format_table(["name", "languages", "telegram id", "shown to users as"], rows) if rows else "no consultants"
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


def run(config: Config, args: argparse.Namespace) -> int:
    """Run one consultant or queue command; a DeskError reaches the caller, which prints it and exits 1."""

    async def go() -> str:
        runtime = await open_runtime(config, with_engine=False)
        try:
            return await _dispatch(runtime, args, config)
        finally:
            await runtime.close()

    print(asyncio.run(go()))
    return 0
