"""The admins' workshop: minimal YAML edits, and a reload that keeps the old knowledge base when files break."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.app import build_engine
from bot.config import Config
from bot.core.actions import Action
from bot.core.handoff import Desk
from bot.i18n import I18n
from bot.reload import Reloader
from bot.storage.database import Database
from bot.storage.desk import SqlDesk
from bot.storage.models import Unanswered
from bot.storage.staff import Role, SqlStaff
from bot.web import create_app
from bot.webconsole import auth, kb_files
from bot.webconsole.app import build_console, routes
from tests.conftest import ROOT
from tests.console.helpers import csrf_of, login

ENTRY_FILE = """topic: demo
# a comment an admin wrote
entries:
  - id: demo-entry
    questions:
      en:
        - how do i   # keep me
        - "quoted one"
    answers:
      en: An answer.
"""


def test_adding_paraphrases_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(ENTRY_FILE, encoding="utf-8")
    diff, added = kb_files.add_paraphrases(
        path, "demo-entry", {"en": ["quoted one", "a  new   one"], "ru": ["новый"]}, kb_files.digest(ENTRY_FILE)
    )
    expected = ENTRY_FILE.replace('"quoted one"\n', '"quoted one"\n        - a new one\n      ru:\n        - новый\n')
    assert added == 2  # "quoted one" was there already
    assert path.read_text(encoding="utf-8") == expected  # the comments, the quotes and the spacing stay
    assert "+        - a new one" in diff


def test_a_file_changed_since_the_page_was_opened_is_refused_with_the_difference(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(ENTRY_FILE.replace("An answer.", "Changed meanwhile."), encoding="utf-8")
    with pytest.raises(kb_files.EditRefused) as refused:
        kb_files.add_paraphrases(path, "demo-entry", {"en": ["x y"]}, kb_files.digest(ENTRY_FILE), ENTRY_FILE)
    assert "-      en: An answer." in refused.value.diff and "+      en: Changed meanwhile." in refused.value.diff
    assert "x y" not in path.read_text(encoding="utf-8")


async def test_a_failed_validation_keeps_the_old_knowledge_base_serving(config: Config, tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    config = replace(
        config,
        bot=replace(config.bot, knowledge_dir=str(folder)),
        classifier=replace(config.classifier, encoder="none"),
    )
    engine = build_engine(config)
    reloader = Reloader(config, engine)
    before = engine.understander
    health = folder / "health.yaml"
    health.write_text(
        health.read_text(encoding="utf-8").replace("topic: health", "topic: [broken", 1), encoding="utf-8"
    )
    problems = await reloader.reload()
    assert any(p.error and "health.yaml" in p.path for p in problems)
    assert engine.understander is before and reloader.knowledge() is before.knowledge
    health.write_text((ROOT / "knowledge" / "health.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert not [p for p in await reloader.reload() if p.error]
    assert engine.understander is not before


async def test_an_unanswered_question_added_as_a_paraphrase_is_answered_after_the_reload(
    config: Config, tmp_path: Path
) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    config = replace(
        config,
        base_dir=tmp_path,
        bot=replace(config.bot, knowledge_dir=str(folder), database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"),
        classifier=replace(config.classifier, cache_dir=str(tmp_path / "cache")),
    )
    question = "who covers the bill when a foreigner sees a doctor here"
    engine = build_engine(config)
    assert engine.understand(question).action is not Action.ANSWER
    database = Database(config.database_url)
    await database.upgrade()
    try:
        async with database.sessions.begin() as session:
            session.add(Unanswered(text=question, language="en", score=0.12))
        desk = Desk(SqlDesk(database), I18n(config.bot.languages, config.translations_path), config.handoff)
        console = await build_console(config, database, desk, Reloader(config, engine))
        await SqlStaff(database).set_staff("root", Role.ADMIN, auth.hash_password("admin-pass-123"), ("en",))
        transport = httpx.ASGITransport(app=create_app(lambda: True, routes(console)))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await login(http, "root", "admin-pass-123")
            listed = await http.get("/console/admin/unanswered")
            assert question in listed.text
            [question_id] = re.findall(r'name="question" value="(\d+)"', listed.text)
            health = folder / "health.yaml"
            added = await http.post(
                "/console/admin/unanswered/add",
                data={
                    "csrf": csrf_of(listed),
                    "entry": "health-insurance-obligatory",
                    "digest": kb_files.digest(health.read_text(encoding="utf-8")),
                    "question": question_id,
                },
                follow_redirects=True,
            )
            assert "The questions are added to the entry, validated and reloaded." in added.text
            assert question not in added.text  # it left the list
        assert f"        - {question}\n" in health.read_text(encoding="utf-8")
        understood = engine.understand(question)
        assert (understood.action, understood.entry) == (Action.ANSWER, "health-insurance-obligatory")
        assert (await console.staff.audit_log())[0].action == "kb add paraphrases"
    finally:
        await database.close()
