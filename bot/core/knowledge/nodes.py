"""Reading admins' YAML with the line of every node, so that each problem is reported as `path:line: message`.

The loader never stops at the first problem: one run of `migrant-bot kb validate` lists everything to fix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TEXT_MAX_CHARS = 300
LANG = re.compile(r"^[a-z]{2,3}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    error: bool = True
    blocks_bot: bool = True  # an error that also keeps the bot from loading the files (events.py has one that does not)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'' if self.error else 'warning: '}{self.message}"


class KnowledgeError(Exception):
    """The knowledge base has errors; `problems` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_day(value: str) -> dt.date | None:
    """ISO dates and '22 Nov 2026' (what the entries use: phone-number checks misread ISO dates)."""
    for parse in (dt.date.fromisoformat, lambda v: dt.datetime.strptime(v, "%d %b %Y").date()):
        try:
            return parse(value)
        except ValueError:
            continue
    return None


def line_of(node: Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


class FileChecker:
    """Walks one file's YAML nodes, collecting problems with the line each node starts on."""

    def __init__(self, path: Path, languages: tuple[str, ...], today: dt.date, text: str | None = None) -> None:
        """`text`: the file's contents when they do not come from disk (a form); `path` then names them."""
        self.path = path
        self.languages = languages
        self.today = today
        self.contents = text
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, message: str, error: bool = True) -> None:
        self.problems.append(Problem(str(self.path), line_of(node), message, error))

    def parse(self) -> Node | None:
        """The file's node tree; broken YAML is reported where the parser noticed it and, when it names one,
        where the construct it was reading began (an unclosed bracket is found lines after it was opened)."""
        try:
            text = self.path.read_text(encoding="utf-8") if self.contents is None else self.contents
            return yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            context, problem = exc.context_mark, exc.problem_mark
            if context is not None and (problem is None or context.line != problem.line):
                self.problems.append(
                    Problem(str(self.path), context.line + 1, f"broken YAML: {exc.context} that starts here")
                )
            mark = problem or context
            self.problems.append(
                Problem(
                    str(self.path),
                    mark.line + 1 if mark is not None else 1,
                    f"broken YAML: {exc.problem or exc.context}",
                )
            )
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(str(self.path), 1, f"cannot read: {exc}"))
        return None

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                self.problem(key_node, f"{what}: key '{key}' appears twice")
            result[key] = (key_node, value_node)
        return result

    def keys(
        self, table: dict[str, tuple[Node, Node]], node: Node, what: str, known: set[str], required: tuple[str, ...]
    ) -> None:
        for key, (key_node, _) in table.items():
            if key not in known:
                self.problem(key_node, f"{what}: unknown key '{key}' (known: {', '.join(sorted(known))})")
        for key in required:
            if key not in table:
                self.problem(node, f"{what} is missing '{key}'")

    def text(self, node: Node, what: str, limit: int = TEXT_MAX_CHARS) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.problem(node, f"{what} must be text")
            return None
        value = str(node.value).strip()
        if not value:
            self.problem(node, f"{what} is empty")
            return None
        if len(value) > limit:
            self.problem(node, f"{what} is {len(value)} characters, more than {limit}")
            return None
        return value

    def slug(self, node: Node, what: str) -> str | None:
        value = self.text(node, what, 48)
        if value is not None and not SLUG.match(value):
            self.problem(node, f"{what} '{value}' must be a slug of a-z, 0-9 and '-' (at most 48)")
            return None
        return value

    def per_language(
        self, key_node: Node, node: Node, what: str, required: bool, extra: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        """`extra`: keys allowed beside language codes (the crisis file's `latin`)."""
        table = self.mapping(node, what)
        if table is None:
            return {}
        found: dict[str, Node] = {}
        for lang, (lang_key, value) in table.items():
            if not LANG.match(lang) and lang not in extra:
                self.problem(lang_key, f"{what}: '{lang}' is not a language code")
                continue
            found[lang] = value
        if required:
            for lang in self.languages:
                if lang not in found:
                    self.problem(key_node, f"{what}: missing language '{lang}'")
        return found

    def texts_by_language(
        self, key_node: Node, node: Node, what: str, required: bool, limit: int = TEXT_MAX_CHARS
    ) -> dict[str, str]:
        found: dict[str, str] = {}
        for lang, text_node in self.per_language(key_node, node, what, required).items():
            value = self.text(text_node, f"{what}.{lang}", limit)
            if value:
                found[lang] = value
        return found

    def lists_by_language(
        self, key_node: Node, node: Node, what: str, required: bool, minimum: int = 0, extra: tuple[str, ...] = ()
    ) -> dict[str, tuple[str, ...]]:
        return {
            lang: self.text_list(items, f"{what}.{lang}", minimum)
            for lang, items in self.per_language(key_node, node, what, required, extra).items()
        }

    def text_list(self, node: Node, what: str, minimum: int = 0) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return ()
        items = [t for t in (self.text(item, what) for item in node.value) if t]
        if len(items) < minimum:
            self.problem(node, f"{what} has {len(items)} item(s), at least {minimum} needed")
        return tuple(items)

    def date(self, node: Node, what: str) -> dt.date | None:
        value = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        day = parse_day(value)
        if day is None:
            self.problem(node, f"{what}: '{value}' is not a date like 22 Nov 2026 or 2026-11-22")
        return day

    def flag(self, node: Node, what: str) -> bool:
        if not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool"):
            self.problem(node, f"{what} must be true or false")
            return False
        return str(node.value).lower() in ("true", "yes", "on")

    def records(
        self,
        table: dict[str, tuple[Node, Node]],
        key: str,
        what: str,
    ) -> Iterator[tuple[Node, dict[str, tuple[Node, Node]]]]:
        """Each mapping in the list under `key`, with its node; what is no mapping is reported and skipped."""
        for node in self.sequence(table[key][1], key) if key in table else []:
            item = self.mapping(node, what)
            if item is not None:
                yield node, item

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)
