"""`crisis.yaml`, `smalltalk.yaml` and `topics.yaml`: the lexicons and lists admins edit beside the answers."""

from __future__ import annotations

from yaml.nodes import Node

from bot.core.knowledge.model import CrisisCategory, Organisation, SmallTalkKind, Topic
from bot.core.knowledge.nodes import FileChecker
from bot.core.text import fold

SMALLTALK_KINDS = ("human", "help", "greeting", "thanks", "ack", "yes", "no", "bye")
LATIN = "latin"  # a crisis phrase list for Latin-letter forms of the other languages


def _phrases(checker: FileChecker, key_node: Node, node: Node, what: str) -> tuple[str, ...]:
    """Every language's phrases of one kind; a word that folds to nothing ("!!") would match nothing (a lone
    "*" stands for any one word)."""
    found: list[str] = []
    for lang, items in checker.per_language(key_node, node, what, False, (LATIN,)).items():
        for item in checker.sequence(items, f"{what}.{lang}"):
            phrase = checker.text(item, f"{what}.{lang}")
            if phrase is None:
                continue
            if any(word.strip("*") and not fold(word.strip("*")) for word in phrase.split()):
                checker.problem(item, f"{what}.{lang}: '{phrase}' has a word with no letters or digits")
            else:
                found.append(phrase)
    return tuple(found)


def _exemplars(checker: FileChecker, key_node: Node, node: Node, what: str) -> tuple[str, ...]:
    return tuple(
        t for ts in checker.lists_by_language(key_node, node, what, False, extra=(LATIN,)).values() for t in ts
    )


def load_crisis(checker: FileChecker, root: Node, organisations: dict[str, Organisation]) -> tuple[CrisisCategory, ...]:
    table = checker.mapping(root, "the file")
    if table is None:
        return ()
    checker.keys(table, root, "the file", {"categories"}, ("categories",))
    found: list[CrisisCategory] = []
    for node, item in checker.records(table, "categories", "category"):
        checker.keys(item, node, "category", {"id", "contacts", "phrases", "exemplars"}, ("id", "phrases"))
        category = checker.slug(item["id"][1], "id") if "id" in item else None
        contacts = checker.text_list(item["contacts"][1], "contacts") if "contacts" in item else ()
        for contact in contacts:
            if contact not in organisations:
                checker.problem(item["contacts"][1], f"contacts: '{contact}' is not in organisations.yaml")
        phrases = _phrases(checker, *item["phrases"], "phrases") if "phrases" in item else ()
        exemplars = _exemplars(checker, *item["exemplars"], "exemplars") if "exemplars" in item else ()
        if category is not None:
            found.append(CrisisCategory(category, tuple(c for c in contacts if c in organisations), phrases, exemplars))
    return tuple(found)


def load_smalltalk(checker: FileChecker, root: Node) -> tuple[tuple[SmallTalkKind, ...], tuple[str, ...]]:
    table = checker.mapping(root, "the file")
    if table is None:
        return (), ()
    checker.keys(table, root, "the file", {"kinds", "out_of_scope"}, ("kinds",))
    kinds: list[SmallTalkKind] = []
    for node, item in checker.records(table, "kinds", "kind"):
        checker.keys(item, node, "kind", {"id", "phrases"}, ("id", "phrases"))
        kind = checker.text(item["id"][1], "id") if "id" in item else None
        if kind is not None and kind not in SMALLTALK_KINDS:
            checker.problem(item["id"][1], f"unknown kind '{kind}' (known: {', '.join(SMALLTALK_KINDS)})")
            continue
        phrases = _phrases(checker, *item["phrases"], "phrases") if "phrases" in item else ()
        if kind is not None:
            kinds.append(SmallTalkKind(kind, phrases))
    out_of_scope = _exemplars(checker, *table["out_of_scope"], "out_of_scope") if "out_of_scope" in table else ()
    return tuple(kinds), out_of_scope


def load_topics(checker: FileChecker, root: Node) -> list[tuple[str, dict[str, str], Node]]:
    """(id, titles, node) of each topic in the order menus show them."""
    table = checker.mapping(root, "the file")
    if table is None:
        return []
    checker.keys(table, root, "the file", {"topics"}, ("topics",))
    found: list[tuple[str, dict[str, str], Node]] = []
    for node, item in checker.records(table, "topics", "topic"):
        checker.keys(item, node, "topic", {"id", "title"}, ("id", "title"))
        topic_id = checker.slug(item["id"][1], "id") if "id" in item else None
        titles = checker.texts_by_language(*item["title"], "title", True, 60) if "title" in item else {}
        if topic_id is not None:
            found.append((topic_id, titles, node))
    return found


def topic_record(topic_id: str, titles: dict[str, str], entry_ids: list[str]) -> Topic:
    return Topic(topic_id, titles, tuple(entry_ids))
