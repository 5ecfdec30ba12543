"""The console's info sessions and broadcasts, for admins only: counts per language, a broadcast created from the
same YAML as the CLI, previewed, sent once, cancelled, with its progress; every change audited."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import httpx

from bot.config import Config
from bot.core.handoff import Desk
from bot.core.outreach import Interest
from bot.i18n import I18n
from bot.reload import Reloader
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.outreach import SqlOutreach
from bot.storage.staff import Role, SqlStaff
from bot.storage.users import SqlUserStore
from bot.types import Address
from bot.web import create_app
from bot.webconsole import auth
from bot.webconsole.app import build_console, routes
from tests.conftest import ROOT
from tests.console.helpers import csrf_of, login
from tests.outreach.helpers import event_yaml, events_folder


async def test_admins_see_sign_ups_and_send_a_broadcast_once(config: Config, tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    soon = dt.datetime.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    events_folder(folder, event_yaml("sofia-session", soon, capacity=5))
    config = replace(
        config,
        base_dir=tmp_path,
        bot=replace(config.bot, knowledge_dir=str(folder), database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"),
    )
    database = Database(config.database_url)
    await database.upgrade()
    users, outreach = SqlUserStore(database), SqlOutreach(database)
    for chat, language in (("anna", "en"), ("omid", "fa"), ("olga", "ru")):
        address = Address("console", chat)
        await users.touch(address)
        await users.set_language(address, language, chosen=True)
        await outreach.subscribe(address, Interest(None, ()))
    await outreach.attend(Address("console", "omid"), "sofia-session", 5)
    await outreach.remind(Address("console", "omid"), "sofia-session")
    try:
        desk = Desk(SqlDesk(database), I18n(config.bot.languages, config.translations_path), config.handoff)
        console = await build_console(config, database, desk, Reloader(config))
        staff = SqlStaff(database)
        await staff.set_staff("root", Role.ADMIN, auth.hash_password("admin-pass-123"), ("en",))
        await staff.set_staff("cons", Role.CONSULTANT, auth.hash_password("cons-pass-123"), ("en",))
        transport = httpx.ASGITransport(app=create_app(lambda: True, routes(console)))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await login(http, "cons", "cons-pass-123")
            assert (await http.get("/console/admin/broadcasts")).status_code == 403
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await login(http, "root", "admin-pass-123")
            events = await http.get("/console/admin/events")
            assert events.status_code == 200
            assert "<td>sofia-session</td>" in events.text and "<td>1 / 5</td>" in events.text
            assert "fa 1 / 1" in events.text and "omid" not in events.text  # counts, never who

            listing = await http.get("/console/admin/broadcasts")
            token = csrf_of(listing)
            bad = await http.post(
                "/console/admin/broadcasts",
                data={"csrf": token, "yaml": "name: Friday\ntext: {en: Hi}\naudience: {cities: [atlantis]}\n"},
            )
            assert bad.status_code == 422
            assert "the form:3: audience.cities: &#39;atlantis&#39; is not known" in bad.text
            forged = await http.post("/console/admin/broadcasts", data={"csrf": "x", "yaml": "name: A"})
            assert forged.status_code == 403
            good = "name: Friday\ntext: {en: A session on Friday., ru: Встреча в пятницу.}\naudience: {}\n"
            created = await http.post("/console/admin/broadcasts", data={"csrf": token, "yaml": good})
            assert (
                created.status_code == 303 and created.headers["location"] == "/console/admin/broadcasts/1?done=created"
            )
            draft = await http.get("/console/admin/broadcasts/1")
            assert "no text in fa (1)" in draft.text and 'id="send-broadcast"' not in draft.text
            refused = await http.post("/console/admin/broadcasts/1/send", data={"csrf": token})
            assert refused.status_code == 409 and "no text in fa (1)" in refused.text
            previewed = await http.get("/console/admin/broadcasts/1?fallback=1")
            assert "<td>fa</td><td>en (fallback)</td><td>1</td>" in previewed.text
            assert "Send to 3 recipient(s)" in previewed.text
            sent = await http.post("/console/admin/broadcasts/1/send", data={"csrf": token, "fallback": "1"})
            assert sent.status_code == 303
            sending = await http.get("/console/admin/broadcasts/1")
            assert '<strong id="broadcast-status">sending</strong>' in sending.text
            assert '<meta http-equiv="refresh" content="2">' in sending.text  # live progress
            assert "sent 0 of 3" in sending.text
            again = await http.post("/console/admin/broadcasts/1/send", data={"csrf": token, "fallback": "1"})
            assert again.status_code == 409 and "nothing is sent twice" in again.text
            cancelled = await http.post("/console/admin/broadcasts/1/cancel", data={"csrf": token})
            assert cancelled.status_code == 303
            after = await http.get("/console/admin/broadcasts/1")
            assert '<strong id="broadcast-status">cancelled</strong>' in after.text and "withdrawn 3" in after.text
        actions = [entry.action for entry in await staff.audit_log()]
        assert {"broadcast create", "broadcast send", "broadcast cancel"} <= set(actions)
    finally:
        await database.close()
