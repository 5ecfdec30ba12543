"""The web console in this process over ASGI: login, roles, CSRF, sessions, the desk's actions, escaping."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select, update

from bot.config import Config
from bot.core.handoff import Desk
from bot.i18n import I18n
from bot.reload import Reloader
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Outbox, StaffSession
from bot.storage.staff import Role, SqlStaff
from bot.storage.users import SqlUserStore
from bot.types import Address
from bot.web import create_app
from bot.webconsole import auth
from bot.webconsole.app import Console, build_console, routes
from tests.console.helpers import csrf_of, login

ADMIN, CONSULTANT, COLLEAGUE = ("root", "admin-pass-123"), ("maria", "maria-pass-123"), ("ivan", "ivan-pass-1234")
PERSON = Address("telegram", "987654321")


@dataclass
class Setup:
    console: Console
    desk: Desk
    database: Database
    app: httpx.ASGITransport


@pytest.fixture
async def setup(config: Config, database: Database) -> AsyncIterator[Setup]:
    desk = Desk(SqlDesk(database), I18n(config.bot.languages, config.translations_path), config.handoff)
    console = await build_console(config, database, desk, Reloader(config))
    staff = SqlStaff(database)
    for (name, password), role in ((ADMIN, Role.ADMIN), (CONSULTANT, Role.CONSULTANT), (COLLEAGUE, Role.CONSULTANT)):
        await staff.set_staff(name, role, auth.hash_password(password), ("en", "ar"))
    yield Setup(console, desk, database, httpx.ASGITransport(app=create_app(lambda: True, routes(console))))


def client(setup: Setup) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=setup.app, base_url="http://testserver")


async def open_ticket(setup: Setup, text: str, language: str = "en", address: Address = PERSON) -> int:
    await setup.desk.open(address, language, "asked_human", None, [text])
    [ticket] = [t for t in await setup.desk.tickets() if t.language == language and t.status == "waiting"][-1:]
    return ticket.id


async def test_a_wrong_password_is_refused_and_the_right_one_opens_the_inbox(setup: Setup) -> None:
    await open_ticket(setup, "My landlord keeps my deposit")
    async with client(setup) as http:
        assert (await http.get("/console/queue")).headers["location"] == "/console/login"
        wrong = await login(http, CONSULTANT[0], "not-the-password")
        assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
        right = await login(http, *CONSULTANT)
        assert right.status_code == 303 and right.headers["location"] == "/console/queue"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        inbox = await http.get("/console/queue")
        assert inbox.status_code == 200 and "My landlord keeps my deposit" in inbox.text
        assert "987654321" not in inbox.text


async def test_too_many_failures_make_even_the_right_password_wait(setup: Setup) -> None:
    async with client(setup) as http:
        for _ in range(setup.console.config.console.login_attempts_per_minute):
            assert (await login(http, ADMIN[0], "wrong-password")).status_code == 401
        blocked = await login(http, *ADMIN)
        assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text


async def test_a_consultant_gets_403_on_every_admin_page_and_action(setup: Setup) -> None:
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        csrf = csrf_of(await http.get("/console/queue"))
        for path in ("knowledge", "unanswered", "figures", "figures/tickets.csv", "canned", "staff", "audit"):
            assert (await http.get(f"/console/admin/{path}")).status_code == 403, path
        for path in ("knowledge/reload", "canned", "staff", "unanswered/mark"):
            refused = await http.post(f"/console/admin/{path}", data={"csrf": csrf, "name": "x", "role": "admin"})
            assert refused.status_code == 403, path
        assert [m.role for m in await setup.console.staff.members() if m.name == "x"] == []


async def test_an_action_without_the_csrf_token_changes_nothing(setup: Setup) -> None:
    ticket_id = await open_ticket(setup, "help with papers")
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        for data in ({}, {"csrf": "forged"}):
            assert (await http.post(f"/console/tickets/{ticket_id}/claim", data=data)).status_code == 403
    ticket, _ = await setup.desk.ticket(ticket_id)
    assert ticket.status == "waiting" and ticket.consultant is None


async def test_a_session_ends_when_idle_and_on_logout(setup: Setup) -> None:
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        page = await http.get("/console/queue")
        assert page.status_code == 200
        async with setup.database.sessions.begin() as session:
            old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=setup.console.config.console.session_hours, minutes=1)
            await session.execute(update(StaffSession).values(seen_at=old))
        assert (await http.get("/console/queue")).headers["location"] == "/console/login"
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        kept = dict(http.cookies)
        out = await http.post("/console/logout", data={"csrf": csrf_of(await http.get("/console/queue"))})
        assert out.status_code == 303
    async with httpx.AsyncClient(transport=setup.app, base_url="http://testserver", cookies=kept) as replay:
        assert (await replay.get("/console/queue")).headers["location"] == "/console/login"


async def test_claim_reply_note_assign_and_close_go_through_the_desk(setup: Setup) -> None:
    ticket_id = await open_ticket(setup, "Where do I register my address?")
    await setup.console.staff.add_canned("en", "Address", "Go to the municipality with your lease.")
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        page = await http.get(f"/console/tickets/{ticket_id}")
        csrf = csrf_of(page)
        claimed = await http.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf}, follow_redirects=True)
        assert "The ticket is yours." in claimed.text and "Go to the municipality with your lease." in claimed.text
        await http.post(f"/console/tickets/{ticket_id}/note", data={"csrf": csrf, "text": "check the lease first"})
        replied = await http.post(
            f"/console/tickets/{ticket_id}/reply",
            data={"csrf": csrf, "text": "Bring your lease."},
            follow_redirects=True,
        )
        assert "Your reply is on its way" in replied.text and "check the lease first" in replied.text
        async with setup.database.sessions() as session:
            texts = list(await session.scalars(select(Outbox.text).where(Outbox.ticket_id == ticket_id)))
        assert texts == ["Consultant:\n\nBring your lease."]  # the note never goes out
        await http.post(f"/console/tickets/{ticket_id}/assign", data={"csrf": csrf, "to": COLLEAGUE[0]})
        assert (await setup.desk.ticket(ticket_id))[0].consultant == COLLEAGUE[0]
        refused = await http.post(f"/console/tickets/{ticket_id}/close", data={"csrf": csrf})
        assert refused.status_code == 409 and f"is held by {COLLEAGUE[0]}" in refused.text
    async with client(setup) as http:
        await login(http, *COLLEAGUE)
        csrf = csrf_of(await http.get(f"/console/tickets/{ticket_id}"))
        assert (await http.post(f"/console/tickets/{ticket_id}/close", data={"csrf": csrf})).status_code == 303
        again = await http.post(f"/console/tickets/{ticket_id}/reply", data={"csrf": csrf, "text": "more"})
        assert again.status_code == 409 and "is closed" in again.text
    log = [(a.actor, a.action) for a in reversed(await setup.console.staff.audit_log())]
    assert [entry for entry in log if entry[1] not in ("login", "logout")] == [
        ("maria", "claim"),
        ("maria", "note"),
        ("maria", "reply"),
        ("maria", "assign"),
        ("ivan", "close"),
    ]


async def test_bad_tickets_get_a_clear_page(setup: Setup) -> None:
    ticket_id = await open_ticket(setup, "question")
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        missing = await http.get("/console/tickets/999")
        assert missing.status_code == 404 and "ticket 999 does not exist" in missing.text
        csrf = csrf_of(await http.get(f"/console/tickets/{ticket_id}"))
        unclaimed = await http.post(f"/console/tickets/{ticket_id}/reply", data={"csrf": csrf, "text": "hi"})
        assert unclaimed.status_code == 409 and "claim it first" in unclaimed.text
        await http.post(f"/console/tickets/{ticket_id}/claim", data={"csrf": csrf})
        await SqlUserStore(setup.database).forget(PERSON)
        erased = await http.post(f"/console/tickets/{ticket_id}/reply", data={"csrf": csrf, "text": "hi"})
        assert erased.status_code == 409 and "erased their data" in erased.text


async def test_hostile_text_is_shown_as_text(setup: Setup) -> None:
    hostile = "<script>alert(1)</script> \u202eevil\u202c <img src=x onerror=alert(2)> " + "я" * 10_000
    ticket_id = await open_ticket(setup, hostile)
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        for path in ("/console/queue", f"/console/tickets/{ticket_id}"):
            page = await http.get(path)
            assert "<script>alert" not in page.text and "<img src=x" not in page.text and "\u202e" not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "я" * 10_000 in page.text  # the whole message, not cut


async def test_an_arabic_ticket_is_isolated_right_to_left(setup: Setup) -> None:
    ticket_id = await open_ticket(setup, "أحتاج مساعدة، اتصلت بـ 112", language="ar", address=Address("viber", "v-1"))
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        page = await http.get(f"/console/tickets/{ticket_id}")
        assert '<p class="text" dir="auto">أحتاج مساعدة، اتصلت بـ 112</p>' in page.text
        assert 'dir="rtl">' in page.text  # the reply box writes right to left


async def test_the_queue_refresh_says_304_until_something_changes(setup: Setup) -> None:
    await open_ticket(setup, "first")
    async with client(setup) as http:
        await login(http, *CONSULTANT)
        headers = {"x-console-fetch": "1"}
        first = await http.get("/console/queue/rows", headers=headers)
        tag = first.headers["etag"]
        same = await http.get("/console/queue/rows", headers={**headers, "if-none-match": tag})
        assert same.status_code == 304
        await open_ticket(setup, "second question", address=Address("viber", "v-2"))
        changed = await http.get("/console/queue/rows", headers={**headers, "if-none-match": tag})
        assert changed.status_code == 200 and "second question" in changed.text
    async with client(setup) as anonymous:
        assert (await anonymous.get("/console/queue/rows", headers=headers)).status_code == 401


async def test_the_figures_page_draws_charts_and_exports_csv(setup: Setup) -> None:
    ticket_id = await open_ticket(setup, "my secret words")
    await setup.desk.claim(ticket_id, CONSULTANT[0])
    await setup.desk.reply(ticket_id, CONSULTANT[0], "an answer")
    async with client(setup) as http:
        await login(http, *ADMIN)
        figures = await http.get("/console/admin/figures")
        assert figures.status_code == 200 and figures.text.count("<svg") >= 5
        table = await http.get("/console/admin/figures/consultants.csv")
        assert table.text.splitlines() == ["consultant,tickets answered,replies", "maria,1,1"]
        flow = await http.get("/console/admin/figures/tickets.csv")
        today = dt.datetime.now(setup.console.zone).date().isoformat()
        assert f"{today},1,0" in flow.text.splitlines() and "secret" not in flow.text + figures.text
