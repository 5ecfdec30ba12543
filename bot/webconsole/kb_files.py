"""Minimal edits to the knowledge base's YAML files: add paraphrases to an entry and change nothing else.

ruamel.yaml reads and writes the file round trip, so comments, order and layout stay; a file it would not write
back exactly as it read it is refused rather than reformatted. Every edit names the digest of the file as the
admin saw it: a file changed on disk since is refused, with the difference shown.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class EditRefused(Exception):
    """The edit was not made; `diff` shows what changed on disk, when that is why."""

    def __init__(self, message: str, diff: str = "") -> None:
        super().__init__(message)
        self.diff = diff


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry_file(directory: Path, entry_id: str) -> Path | None:
    """The file that holds the entry, found by reading the files (entries do not record where they live)."""
    for path in sorted(directory.rglob("*.yaml")):
        try:
            data = _yaml().load(path.read_text(encoding="utf-8"))
        except (OSError, YAMLError):
            continue
        if _entry(data, entry_id) is not None:
            return path
    return None


def _entry(data: Any, entry_id: str) -> Any:
    entries = data.get("entries") if hasattr(data, "get") else None
    for entry in entries or ():
        if hasattr(entry, "get") and entry.get("id") == entry_id:
            return entry
    return None


def add_paraphrases(
    path: Path, entry_id: str, by_language: dict[str, list[str]], seen: str, seen_text: str | None = None
) -> tuple[str, int]:
    """Append the questions to the entry's paraphrases (skipping ones it has); returns the diff and how many
    were added. `seen` is the digest of the file the admin worked from (`seen_text` its text, when known, to
    show what changed since)."""
    before = path.read_text(encoding="utf-8")
    if digest(before) != seen:
        raise EditRefused(
            f"{path.name} changed on disk since you opened the page: nothing was written; reload the page",
            changes(seen_text, before, path.name) if seen_text is not None else "",
        )
    yaml = _yaml()
    try:
        data = yaml.load(before)
    except YAMLError as exc:
        raise EditRefused(f"{path.name} is not valid YAML: {exc}") from exc
    if _dump(yaml, data) != before:
        raise EditRefused(f"{path.name}: writing it back would change its layout; add the paraphrases by hand")
    entry = _entry(data, entry_id)
    if entry is None:
        raise EditRefused(f"{path.name}: no entry '{entry_id}'")
    questions = entry.setdefault("questions", {})
    added = 0
    for language, texts in by_language.items():
        have = questions.setdefault(language, [])
        for text in texts:
            text = " ".join(text.split())
            if text and text.casefold() not in {str(q).casefold() for q in have}:
                have.append(text)
                added += 1
    after = _dump(yaml, data)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(after, encoding="utf-8")
    os.replace(temporary, path)  # the running bot never reads half a file
    return changes(before, after, path.name), added


def changes(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), name, name))


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
