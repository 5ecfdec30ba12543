"""The admins' pages for info sessions and announcements: the events with their sign-ups (counts per language,
never who), and broadcasts: created from the same YAML as `migrant-bot broadcast create`, previewed, sent,
cancelled, with live progress. Every change is audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from bot.announce import BroadcastRefused, channel_limits, message_for, preview
from bot.broadcast_file import read_broadcast
from bot.core.event_chat import local_clock
from bot.storage.broadcasts import BroadcastStateError, BroadcastStatus
from bot.webconsole.app import Console, Who, form_of, go, page, refused

FORM = Path("the form")
DONE = {
    "created": "The broadcast is stored as a draft: check the preview, then send it.",
    "sending": "The broadcast is queued: the running bot delivers it at the services' pace.",
    "cancelled": "The broadcast is cancelled: what was not yet sent is withdrawn.",
}


def _now(console: Console) -> dt.datetime:
    return local_clock(console.config.handoff.timezone)()


async def events(console: Console, request: Request, who: Who) -> Response:
    knowledge = console.reloader.knowledge()
    now = _now(console)
    rows = []
    for event in sorted(knowledge.events.values(), key=lambda e: (e.over(now), e.start)):
        rows.append((event, event.over(now), await console.outreach.counts(event.id)))
    return page(console, request, who, "events.html", rows=rows, cities=knowledge.cities)


async def broadcasts(console: Console, request: Request, who: Who) -> Response:
    return page(
        console,
        request,
        who,
        "broadcasts.html",
        broadcasts=await console.broadcasts.all(),
        draft=request.query_params.get("draft", ""),
        problems=[],
    )


async def create(console: Console, request: Request, who: Who) -> Response:
    text = str((await form_of(request)).get("yaml", ""))
    draft, problems = read_broadcast(FORM, console.reloader.knowledge(), channel_limits(), _now(console), text)
    if draft is None:
        listing = await console.broadcasts.all()
        return page(
            console, request, who, "broadcasts.html", status=422, broadcasts=listing, draft=text, problems=problems
        )
    new = await console.broadcasts.create(draft.name, draft.texts, draft.audience)
    await console.staff.audit(who.name, "broadcast create", f"broadcast {new}", draft.name[:200])
    return go(f"/admin/broadcasts/{new}", "created")


async def show(
    console: Console, request: Request, who: Who, broadcast_id: int, status: int = 200, error: str = ""
) -> Response:
    info = await console.broadcasts.get(broadcast_id)
    if info is None:
        return refused(console, request, who, 404, "There is no such broadcast.")
    default = console.config.bot.default_language
    fallback = request.query_params.get("fallback") == "1"
    rows, refusal = [], ""
    if info.status is BroadcastStatus.DRAFT:
        try:
            rows = preview(info, await console.broadcasts.recipients(info.audience, default), default, fallback)
        except BroadcastRefused as exc:
            refusal = str(exc).replace("--fallback-default", '"send the default language\'s text"')
    progress = await console.broadcasts.progress(info.id)
    return page(
        console,
        request,
        who,
        "broadcast.html",
        status=status,
        info=info,
        rows=rows,
        refusal=refusal,
        error=error,
        fallback=fallback,
        progress=progress,
        live=info.status is BroadcastStatus.SENDING,
        done=DONE.get(request.query_params.get("done", ""), ""),
    )


async def broadcast(console: Console, request: Request, who: Who) -> Response:
    return await show(console, request, who, int(request.path_params["id"]))


async def act(console: Console, request: Request, who: Who) -> Response:
    broadcast_id, action = int(request.path_params["id"]), request.path_params["action"]
    info = await console.broadcasts.get(broadcast_id)
    if info is None or action not in ("send", "cancel"):
        return refused(console, request, who, 404, "There is no such broadcast.")
    default = console.config.bot.default_language
    fallback = (await form_of(request)).get("fallback") == "1"
    try:
        if action == "cancel":
            withdrawn = await console.broadcasts.cancel(info.id)
            await console.staff.audit(who.name, "broadcast cancel", f"broadcast {info.id}", f"{withdrawn} withdrawn")
            return go(f"/admin/broadcasts/{info.id}", "cancelled")
        preview(info, await console.broadcasts.recipients(info.audience, default), default, fallback)
        queued = await console.broadcasts.start(info.id, default, lambda r: message_for(info, r, default, fallback))
    except (BroadcastStateError, BroadcastRefused) as exc:
        return await show(console, request, who, info.id, status=409, error=str(exc))
    await console.staff.audit(who.name, "broadcast send", f"broadcast {info.id}", f"{queued} queued")
    return go(f"/admin/broadcasts/{info.id}", "sending")
