"""The console's HTTP side: its routes under /console, who may open each, and how a page is rendered.

Every handler is wrapped by `guarded`: no session, an ended one or one idle past `[console] session_hours` sends
the browser to the login page; a consultant on an admin page gets 403; a POST without the session's CSRF token
gets 403 and changes nothing. Pages are Jinja2 templates with autoescaping on, behind a Content-Security-Policy
that allows no inline script, so a migrant's words are only ever text on a consultant's screen.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Config
from bot.core.handoff import Desk
from bot.reload import Reloader
from bot.storage.broadcasts import SqlBroadcasts
from bot.storage.database import Database
from bot.storage.figures import SqlFigures
from bot.storage.outreach import SqlOutreach
from bot.storage.staff import SessionInfo, SqlStaff
from bot.storage.users import SqlUserStore
from bot.types import MediaSource
from bot.webconsole import auth

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PREFIX = "/console"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
FETCH_HEADER = "x-console-fetch"  # the page's own refresh: answered 401, not sent to the login form
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def plain(text: object) -> str:
    """A migrant's words as shown: bidi controls taken out (each message is isolated with dir="auto" instead),
    so nobody's text can turn a consultant's page around; escaping is the templates' own."""
    return _BIDI_CONTROLS.sub("", str(text))


@dataclass
class Console:
    """What the console's pages work with; built once by `build_console`."""

    config: Config
    desk: Desk
    staff: SqlStaff
    users: SqlUserStore
    figures: SqlFigures
    reloader: Reloader
    outreach: SqlOutreach
    broadcasts: SqlBroadcasts
    key: bytes
    limiter: auth.LoginLimiter
    templates: jinja2.Environment
    media: Mapping[str, MediaSource] = field(default_factory=dict)  # the running channels that fetch attachments
    seen: dict[str, str] = field(default_factory=dict)  # a YAML file's text by the digest a page showed

    @property
    def zone(self) -> dt.tzinfo:
        return self.desk.hours.zone

    @property
    def secure(self) -> bool:
        return self.config.web.public_url.startswith("https://")


@dataclass(frozen=True)
class Who:
    """The person at the console for this request."""

    session: SessionInfo
    token_hash: str

    @property
    def name(self) -> str:
        return self.session.member.name

    @property
    def admin(self) -> bool:
        return self.session.member.admin

    @property
    def csrf(self) -> str:
        return self.session.csrf


Handler = Callable[[Console, Request, Who], Awaitable[Response]]


def _environment(zone: dt.tzinfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["local"] = lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"
    env.filters["plain"] = plain
    return env


async def build_console(
    config: Config, database: Database, desk: Desk, reloader: Reloader, media: Mapping[str, MediaSource] | None = None
) -> Console:
    staff = SqlStaff(database)
    return Console(
        config,
        desk,
        staff,
        SqlUserStore(database),
        SqlFigures(database),
        reloader,
        SqlOutreach(database),
        SqlBroadcasts(database),
        await staff.key(),
        auth.LoginLimiter(config.console.login_attempts_per_minute),
        _environment(desk.hours.zone),
        media or {},
    )


def page(
    console: Console, request: Request, who: Who | None, template: str, status: int = 200, **values: Any
) -> Response:
    html = console.templates.get_template(template).render(
        who=who, prefix=PREFIX, request=request, languages=console.config.bot.languages, **values
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused(console: Console, request: Request, who: Who | None, status: int, message: str) -> Response:
    return page(console, request, who, "refused.html", status=status, message=message)


def go(path: str, done: str = "") -> Response:
    """After a POST: back to a page (the PRG pattern), with a fixed notice code, never free text."""
    return RedirectResponse(PREFIX + path + (f"?done={done}" if done else ""), status_code=303, headers=HEADERS)


async def who_is(console: Console, request: Request) -> Who | None:
    cookie = request.cookies.get(auth.COOKIE, "")
    token = auth.unsign(console.key, cookie) if cookie else None
    if token is None:
        return None
    digest = auth.token_hash(token)
    idle = dt.timedelta(hours=console.config.console.session_hours)
    session = await console.staff.session(digest, idle)
    return Who(session, digest) if session is not None else None


async def form_of(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=200)


def guarded(console: Console, handler: Handler, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        who = await who_is(console, request)
        if who is None:
            if request.method == "GET" and FETCH_HEADER not in request.headers:  # a page: off to the login form
                return go("/login")
            return refused(console, request, None, 401, "Your session has ended. Log in again.")
        if admin and not who.admin:
            return refused(console, request, who, 403, "This page is for admins.")
        if request.method == "POST":
            form = await form_of(request)
            given = str(form.get("csrf", "")) or request.headers.get("x-csrf-token", "")
            if not auth.same_token(given, who.csrf):
                return refused(
                    console, request, who, 403, "The form had expired. Go back, reload the page and try again."
                )
        return await handler(console, request, who)

    return endpoint


def routes(console: Console) -> list[BaseRoute]:
    """Everything under /console, to be mounted in the bot's HTTP app (or served alone)."""
    from bot.webconsole import inbox, login, media, outreach, workshop

    def get(path: str, handler: Handler, admin: bool = False) -> Route:
        return Route(path, guarded(console, handler, admin), methods=["GET"])

    def post(path: str, handler: Handler, admin: bool = False) -> Route:
        return Route(path, guarded(console, handler, admin), methods=["POST"])

    inside = [
        *login.routes(console),
        get("/", inbox.home),
        get("/queue", inbox.queue),
        get("/queue/rows", inbox.queue_rows),
        get("/tickets/{id:int}", inbox.ticket),
        get("/tickets/{id:int}/media/{line:int}", media.attachment),
        post("/tickets/{id:int}/{action:str}", inbox.act),
        get("/admin/knowledge", workshop.knowledge, admin=True),
        post("/admin/knowledge/reload", workshop.reload, admin=True),
        get("/admin/unanswered", workshop.unanswered, admin=True),
        post("/admin/unanswered/add", workshop.add_paraphrases, admin=True),
        post("/admin/unanswered/mark", workshop.mark, admin=True),
        get("/admin/figures", workshop.figures, admin=True),
        get("/admin/figures/{table:str}.csv", workshop.figures_csv, admin=True),
        get("/admin/canned", workshop.canned, admin=True),
        post("/admin/canned", workshop.add_canned, admin=True),
        post("/admin/canned/{id:int}/delete", workshop.remove_canned, admin=True),
        get("/admin/staff", workshop.staff, admin=True),
        post("/admin/staff", workshop.add_staff, admin=True),
        get("/admin/audit", workshop.audit, admin=True),
        get("/admin/events", outreach.events, admin=True),
        get("/admin/broadcasts", outreach.broadcasts, admin=True),
        post("/admin/broadcasts", outreach.create, admin=True),
        get("/admin/broadcasts/{id:int}", outreach.broadcast, admin=True),
        post("/admin/broadcasts/{id:int}/{action:str}", outreach.act, admin=True),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return [Mount(PREFIX, routes=inside)]
