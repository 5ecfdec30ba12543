"""The YAML file an organiser writes for `migrant-bot broadcast create FILE`, checked with `path:line` errors.

name: Info session on health insurance, Plovdiv
text:
  en: "..."
  ru: "..."
audience:            # subscribers; every filter is optional, an empty list or none means no filter
  channels: [telegram, viber]
  languages: [en, ru]
  cities: [plovdiv]
  topics: [health]
# or
audience:
  event: plovdiv-2026-12-health   # the people who said "I'll come" or "Remind me"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node

from bot.core.knowledge import KnowledgeBase, Problem
from bot.core.knowledge.nodes import FileChecker
from bot.storage.broadcasts import Audience

_KEYS = {"name", "text", "audience"}
_AUDIENCE_KEYS = {"channels", "languages", "cities", "topics", "event"}
TEXT_MAX_CHARS = 10_000  # past every service's limit: each channel's own is checked against its text


@dataclass(frozen=True)
class BroadcastDraft:
    name: str
    texts: dict[str, str]
    audience: Audience


def read_broadcast(
    path: Path,
    knowledge: KnowledgeBase,
    limits: Mapping[str, int],
    now: dt.datetime,
    text: str | None = None,
) -> tuple[BroadcastDraft | None, list[Problem]]:
    """The broadcast a file describes (or `text`, named `path`), or None and every problem. `limits`: each
    channel's longest text."""
    checker = FileChecker(path, knowledge.languages, now.date(), text)
    if text is None and not path.is_file():
        checker.problem(None, "no such file")
        return None, checker.problems
    root = checker.parse()
    if root is None:
        return None, checker.problems
    table = checker.mapping(root, "the file")
    if table is None:
        return None, checker.problems
    checker.keys(table, root, "the file", _KEYS, tuple(sorted(_KEYS)))
    name = checker.text(table["name"][1], "name", 120) if "name" in table else None
    texts = checker.texts_by_language(*table["text"], "text", False, TEXT_MAX_CHARS) if "text" in table else {}
    for language in texts:
        if language not in knowledge.languages:
            checker.problem(table["text"][0], f"text.{language}: not one of the configured languages")
    audience = _audience(checker, table["audience"][1], knowledge, limits, now) if "audience" in table else None
    if audience is not None:
        for channel in audience.channels or tuple(limits):
            for language, text in texts.items():
                if len(text) > limits[channel]:
                    checker.problem(
                        table["text"][1],
                        f"text.{language} is {len(text)} characters, more than {channel}'s {limits[channel]}",
                    )
    if checker.problems or name is None or not texts or audience is None:
        return None, checker.problems
    return BroadcastDraft(name, texts, audience), []


def _audience(
    checker: FileChecker, node: Node, knowledge: KnowledgeBase, limits: Mapping[str, int], now: dt.datetime
) -> Audience | None:
    table = checker.mapping(node, "audience")
    if table is None:
        return None
    checker.keys(table, node, "audience", _AUDIENCE_KEYS, ())
    lists: dict[str, tuple[str, ...]] = {}
    known = {
        "channels": tuple(limits),
        "languages": knowledge.languages,
        "cities": tuple(knowledge.cities),
        "topics": tuple(knowledge.topics),
    }
    for key, allowed in known.items():
        if key not in table or table[key][1].tag == "tag:yaml.org,2002:null":
            lists[key] = ()
            continue
        lists[key] = checker.text_list(table[key][1], f"audience.{key}")
        for value in lists[key]:
            if value not in allowed:
                checker.problem(
                    table[key][1], f"audience.{key}: '{value}' is not known ({', '.join(allowed) or 'none'})"
                )
    event: str | None = None
    if "event" in table:
        event = checker.text(table["event"][1], "audience.event", 48)
        found = knowledge.events.get(event or "")
        if event is not None and found is None:
            checker.problem(table["event"][1], f"audience.event: there is no event '{event}' in events/")
        elif found is not None and found.over(now):
            checker.problem(table["event"][1], f"audience.event: '{event}' is over")
        if lists["cities"] or lists["topics"]:
            checker.problem(node, "audience: an event's registrants are not filtered by cities or topics")
    return Audience(lists["channels"], lists["languages"], lists["cities"], lists["topics"], event)
