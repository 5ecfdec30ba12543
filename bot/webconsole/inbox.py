"""The consultants' inbox: the queue (refreshing itself), a ticket with its conversation and history, and the
desk's actions. Everything goes through `Desk`, as the CLI and the Telegram group do; the person appears by
pseudonym only."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.core.handoff import TicketLine, ticket_age
from bot.core.tickets import DeskError, TicketStatus
from bot.webconsole.app import HEADERS, Console, Who, form_of, go, page, refused
from bot.webconsole.media import attachment_of

PREVIEW = 90
DONE = {
    "claimed": "The ticket is yours.",
    "released": "The ticket is back in the queue.",
    "replied": "Your reply is on its way to the person.",
    "closed": "The ticket is closed; the person was told.",
    "noted": "Your note is saved. The person does not see it.",
    "assigned": "The ticket is assigned.",
}
STATUSES = [s.value for s in TicketStatus]


async def home(_console: Console, _request: Request, _who: Who) -> Response:
    return go("/queue")


def _filters(request: Request, console: Console) -> dict[str, str]:
    query = request.query_params
    chosen = {
        "lang": query.get("lang", "") if query.get("lang", "") in console.config.bot.languages else "",
        "status": query.get("status", "") if query.get("status", "") in STATUSES else "",
        "topic": query.get("topic", "")[:32],
        "mine": "1" if query.get("mine") == "1" else "",
    }
    return chosen


async def _rows(console: Console, who: Who, chosen: dict[str, str]) -> str:
    tickets = await console.desk.tickets(chosen["status"] or None, chosen["lang"] or None)
    if chosen["topic"]:
        tickets = [t for t in tickets if t.topic == chosen["topic"]]
    if chosen["mine"]:
        tickets = [t for t in tickets if t.consultant == who.name]
    previews = await console.desk.previews([t.id for t in tickets])
    rows = [
        {
            "ticket": t,
            "age": ticket_age(t),
            "overdue": console.desk.overdue(t),
            "preview": previews.get(t.id, "")[:PREVIEW],
        }
        for t in tickets
    ]
    return console.templates.get_template("queue_rows.html").render(rows=rows, prefix="/console")


async def queue(console: Console, request: Request, who: Who) -> Response:
    chosen = _filters(request, console)
    topics = sorted(console.reloader.knowledge().topics)
    rows = await _rows(console, who, chosen)
    return page(console, request, who, "queue.html", rows=rows, chosen=chosen, statuses=STATUSES, topics=topics)


async def queue_rows(console: Console, request: Request, who: Who) -> Response:
    """The queue's rows alone, for the page's own refresh: 304 while nothing changed (ETag)."""
    rows = await _rows(console, who, _filters(request, console))
    tag = '"' + hashlib.sha256(rows.encode()).hexdigest()[:20] + '"'
    headers = {**HEADERS, "ETag": tag}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(rows, headers=headers)


def _lines(lines: list[TicketLine]) -> list[dict[str, object]]:
    """Each line with the attachment the person sent, if any, apart from its caption."""
    shown: list[dict[str, object]] = []
    for line in lines:
        media = attachment_of(line)
        shown.append({"line": line, "media": media, "text": media.caption if media else line.text})
    return shown


async def _ticket_page(
    console: Console, request: Request, who: Who, ticket_id: int, status: int = 200, error: str = "", draft: str = ""
) -> Response:
    try:
        ticket, lines = await console.desk.ticket(ticket_id)
        earlier = await console.desk.history(ticket_id)
    except DeskError as exc:
        return refused(console, request, who, 404, str(exc))
    colleagues = [c.name for c in await console.desk.consultants() if c.name != who.name]
    canned = await console.staff.canned(ticket.language)
    return page(
        console,
        request,
        who,
        "ticket.html",
        status=status,
        ticket=ticket,
        lines=_lines(lines),
        earlier=earlier,
        colleagues=colleagues,
        canned=canned,
        overdue=console.desk.overdue(ticket),
        done=DONE.get(request.query_params.get("done", ""), ""),
        error=error,
        draft=draft,
        rtl=ticket.language in ("ar", "fa"),
        opens=ticket.channel in console.media,
    )


async def ticket(console: Console, request: Request, who: Who) -> Response:
    return await _ticket_page(console, request, who, int(request.path_params["id"]))


async def act(console: Console, request: Request, who: Who) -> Response:
    ticket_id, action = int(request.path_params["id"]), str(request.path_params["action"])
    form = await form_of(request)
    text = str(form.get("text", ""))
    desk = console.desk
    try:
        if action == "claim":
            await desk.claim(ticket_id, who.name)
            done, detail = "claimed", ""
        elif action == "release":
            await desk.release(ticket_id, who.name)
            done, detail = "released", ""
        elif action == "reply":
            await desk.reply(ticket_id, who.name, text)
            done, detail = "replied", f"{len(text.strip())} characters"
        elif action == "close":
            await desk.close(ticket_id, who.name)
            done, detail = "closed", ""
        elif action == "note":
            await desk.note(ticket_id, who.name, text)
            done, detail = "noted", f"{len(text.strip())} characters"
        elif action == "assign":
            colleague = str(form.get("to", ""))
            await desk.assign(ticket_id, who.name, colleague)
            done, detail = "assigned", f"to {colleague}"
        else:
            return refused(console, request, who, 404, f"There is no action '{action[:20]}'.")
    except DeskError as exc:
        return await _ticket_page(console, request, who, ticket_id, 409, str(exc), draft=text)
    await console.staff.audit(who.name, action, f"ticket {ticket_id}", detail)
    return go(f"/tickets/{ticket_id}", done)
