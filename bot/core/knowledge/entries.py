"""One topic file: `topic:` and its `entries:`, each checked key by key."""

from __future__ import annotations

import datetime as dt

from yaml.nodes import Node

from bot.core.knowledge.contacts import check_phones, render, source_ids
from bot.core.knowledge.model import Entry, Organisation, Source, Status
from bot.core.knowledge.nodes import FileChecker

ANSWER_MAX_CHARS = 4096
TITLE_MAX_CHARS = 90
MIN_PARAPHRASES = 3
STALE_AFTER_DAYS = 365
_ENTRY_KEYS = {
    "id",
    "title",
    "questions",
    "keywords",
    "answer",
    "variants",
    "source",
    "reviewed",
    "review_by",
    "related",
}
_REQUIRED = ("id", "title", "questions", "answer", "source", "reviewed")
STATUSES = {s.value: s for s in Status}


class EntryReader:
    """Turns entry nodes into Entry records; needs the sources and organisations they refer to."""

    def __init__(
        self, checker: FileChecker, sources: dict[str, Source], organisations: dict[str, Organisation], fallback: str
    ) -> None:
        self.checker = checker
        self.sources = sources
        self.organisations = organisations
        self.fallback = fallback

    def entry(self, node: Node, topic: str) -> Entry | None:
        c = self.checker
        table = c.mapping(node, "entry")
        if table is None:
            return None
        c.keys(table, node, "entry", _ENTRY_KEYS, _REQUIRED)
        entry_id = c.slug(table["id"][1], "id") if "id" in table else None
        if entry_id is not None and not entry_id.startswith(f"{topic}-"):
            c.problem(table["id"][1], f"id '{entry_id}' must start with its topic: '{topic}-'")
        titles = c.texts_by_language(*table["title"], "title", True, TITLE_MAX_CHARS) if "title" in table else {}
        questions = (
            c.lists_by_language(*table["questions"], "questions", True, MIN_PARAPHRASES) if "questions" in table else {}
        )
        keywords = c.lists_by_language(*table["keywords"], "keywords", False) if "keywords" in table else {}
        sources = source_ids(c, table["source"][1], self.sources) if "source" in table else ()
        answers = self._answers(table["answer"], "answer", sources) if "answer" in table else {}
        variants = self._variants(table["variants"], sources) if "variants" in table else {}
        reviewed = self._reviewed(table["reviewed"][1]) if "reviewed" in table else None
        review_by = c.date(table["review_by"][1], "review_by") if "review_by" in table else None
        related = c.text_list(table["related"][1], "related") if "related" in table else ()
        if entry_id is None or reviewed is None or not sources or not answers:
            return None
        verify = any(self.sources[s].verify for s in sources)
        return Entry(
            entry_id,
            topic,
            titles,
            questions,
            keywords,
            answers,
            variants,
            sources,
            reviewed,
            review_by,
            verify,
            related,
        )

    def _answers(self, key_value: tuple[Node, Node], what: str, sources: tuple[str, ...]) -> dict[str, str]:
        key_node, value = key_value
        rendered: dict[str, str] = {}
        for lang, node in self.checker.per_language(key_node, value, what, True).items():
            text = self.checker.text(node, f"{what}.{lang}", ANSWER_MAX_CHARS)
            if text is None:
                continue
            check_phones(self.checker, node, text, sources, self.sources, f"{what}.{lang}")
            rendered[lang] = render(self.checker, node, text, lang, self.fallback, self.organisations)
        return rendered

    def _variants(self, key_value: tuple[Node, Node], sources: tuple[str, ...]) -> dict[Status, dict[str, str]]:
        table = self.checker.mapping(key_value[1], "variants")
        found: dict[Status, dict[str, str]] = {}
        for name, (key_node, value) in (table or {}).items():
            status = STATUSES.get(name)
            if status is None:
                self.checker.problem(key_node, f"variants: unknown status '{name}' (known: {', '.join(STATUSES)})")
                continue
            found[status] = self._answers((key_node, value), f"variants.{name}", sources)
        return found

    def _reviewed(self, node: Node) -> dt.date | None:
        day = self.checker.date(node, "reviewed")
        if day is None:
            return None
        if day > self.checker.today:
            self.checker.problem(node, f"reviewed: {day} is in the future")
        elif (self.checker.today - day).days > STALE_AFTER_DAYS:
            self.checker.problem(node, f"reviewed {day}, over 12 months ago: check it again", error=False)
        return day
