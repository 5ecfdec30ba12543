"""The admins' workshop: minimal YAML edits, and a reload that keeps the old knowledge base when files break."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.config import Config
from bot.reload import Reloader
from bot.webconsole import kb_files
from tests.conftest import ROOT

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
