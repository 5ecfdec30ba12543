"""The import rules of DESIGN.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BOT = ROOT / "bot"
CORE_FORBIDDEN = ("telegram", "viberbot", "starlette", "httpx", "uvicorn", "bot.channels", "bot.storage", "sqlalchemy")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("module", ["types.py", "pacing.py"])
def test_what_adapters_share_imports_only_the_standard_library(module: str) -> None:
    outside = {name for name in imports_of(BOT / module) if name.split(".")[0] not in sys.stdlib_module_names}
    assert outside == set()


def test_the_core_knows_no_chat_service_and_no_database() -> None:
    for path in modules(BOT / "core"):
        bad = [m for m in imports_of(path) if m.startswith(CORE_FORBIDDEN)]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_a_channels_adapter_knows_only_types_and_its_sdk() -> None:
    adapters = sorted((BOT / "channels").glob("*/adapter.py"))
    assert {path.parent.name for path in adapters} == {"telegram", "viber"}
    for path in adapters:
        bad = [m for m in imports_of(path) if m.startswith("bot.") and m not in ("bot.types", "bot.pacing")]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_no_channel_imports_another() -> None:
    for package in (p for p in (BOT / "channels").iterdir() if p.is_dir() and p.name != "__pycache__"):
        for path in modules(package):
            others = [
                m
                for m in imports_of(path)
                if m.startswith("bot.channels.") and m.split(".")[2] not in (package.name, "base")
            ]
            assert not others, f"{path.relative_to(ROOT)} imports {others}"


def test_storage_knows_the_core_only_through_the_protocols_it_implements() -> None:
    protocols = {
        "bot.core.state",
        "bot.core.handoff",
        "bot.core.tickets",
        "bot.core.outreach",
    }  # and the rules the desk applies
    for path in modules(BOT / "storage"):
        bad = [m for m in imports_of(path) if m.startswith(("bot.core", "bot.channels")) and m not in protocols]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
