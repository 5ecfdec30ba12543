"""Load and validate knowledge/*.yaml into frozen dataclasses.

Admins edit these files by hand, so every problem is reported as `path:line: message` and the loader never stops
at the first one: one run of `migrant-bot kb validate` should list everything there is to fix.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TOPICS = ("residence", "asylum", "health", "social", "violence", "trafficking", "work", "education", "contacts")
ANSWER_MAX_CHARS = 4096
QUESTION_MAX_CHARS = 300
MIN_PARAPHRASES = 3
STALE_AFTER_DAYS = 365
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_FILE_KEYS = {"topic", "title", "entries"}
_ENTRY_KEYS = {"id", "questions", "keywords", "answer", "source", "reviewed", "verify", "related"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    error: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'' if self.error else 'warning: '}{self.message}"


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    questions: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    source: str
    reviewed: dt.date
    verify: bool = False
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    titles: dict[str, str]
    entries: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    languages: tuple[str, ...]
    topics: dict[str, Topic] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)


class KnowledgeError(Exception):
    """The knowledge base has errors; `problems` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _FileChecker:
    """Walks one file's YAML nodes, collecting problems with the line each node starts on."""

    def __init__(self, path: Path, languages: tuple[str, ...], today: dt.date) -> None:
        self.path = path
        self.languages = languages
        self.today = today
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, message: str, error: bool = True) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(Problem(str(self.path), line, message, error))

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

    def text(self, node: Node, what: str, limit: int) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null":
                return self._short(node, str(node.value).strip(), what, limit)
            self.problem(node, f"{what} must be text")
            return None
        return self._short(node, str(node.value).strip(), what, limit)

    def _short(self, node: Node, value: str, what: str, limit: int) -> str | None:
        if not value:
            self.problem(node, f"{what} is empty")
            return None
        if len(value) > limit:
            self.problem(node, f"{what} is {len(value)} characters, more than {limit}")
            return None
        return value

    def per_language(self, key_node: Node, node: Node, what: str, required: bool) -> dict[str, Node]:
        table = self.mapping(node, what)
        if table is None:
            return {}
        found: dict[str, Node] = {}
        for lang, (lang_key, value) in table.items():
            if not _LANG.match(lang):
                self.problem(lang_key, f"{what}: '{lang}' is not a language code")
                continue
            found[lang] = value
        if required:
            for lang in self.languages:
                if lang not in found:
                    self.problem(key_node, f"{what}: missing language '{lang}'")
        return found

    def text_list(self, node: Node, what: str, minimum: int) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return ()
        items = [t for t in (self.text(item, what, QUESTION_MAX_CHARS) for item in node.value) if t]
        if len(items) < minimum:
            self.problem(node, f"{what} has {len(items)} item(s), at least {minimum} needed")
        return tuple(items)

    def date(self, node: Node) -> dt.date | None:
        value = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        day = parse_day(value)
        if day is None:
            self.problem(node, f"reviewed: '{value}' is not a date like 22 Nov 2026 or 2026-11-22")
            return None
        if day > self.today:
            self.problem(node, f"reviewed: {day} is in the future")
        elif (self.today - day).days > STALE_AFTER_DAYS:
            self.problem(node, f"reviewed {day}, over 12 months ago: check it again", error=False)
        return day

    def entry(self, node: Node, topic: str) -> Entry | None:
        table = self.mapping(node, "entry")
        if table is None:
            return None
        for key, (key_node, _) in table.items():
            if key not in _ENTRY_KEYS:
                self.problem(key_node, f"unknown key '{key}' (known: {', '.join(sorted(_ENTRY_KEYS))})")
        for key in ("id", "questions", "answer", "source", "reviewed"):
            if key not in table:
                self.problem(node, f"entry is missing '{key}'")
        entry_id = self.text(table["id"][1], "id", 48) if "id" in table else None
        if entry_id is not None and not _ID.match(entry_id):
            self.problem(table["id"][1], f"id '{entry_id}' must be a slug of a-z, 0-9 and '-' (at most 48)")
            entry_id = None
        questions: dict[str, tuple[str, ...]] = {}
        if "questions" in table:
            key_node, value = table["questions"]
            for lang, items in self.per_language(key_node, value, "questions", True).items():
                questions[lang] = self.text_list(items, f"questions.{lang}", MIN_PARAPHRASES)
        keywords: dict[str, tuple[str, ...]] = {}
        if "keywords" in table:
            key_node, value = table["keywords"]
            for lang, items in self.per_language(key_node, value, "keywords", False).items():
                keywords[lang] = self.text_list(items, f"keywords.{lang}", 0)
        answers: dict[str, str] = {}
        if "answer" in table:
            key_node, value = table["answer"]
            for lang, text_node in self.per_language(key_node, value, "answer", True).items():
                answer = self.text(text_node, f"answer.{lang}", ANSWER_MAX_CHARS)
                if answer:
                    answers[lang] = answer
        source = self.text(table["source"][1], "source", 500) if "source" in table else None
        reviewed = self.date(table["reviewed"][1]) if "reviewed" in table else None
        verify = False
        if "verify" in table:
            verify_node = table["verify"][1]
            if not (isinstance(verify_node, ScalarNode) and verify_node.tag == "tag:yaml.org,2002:bool"):
                self.problem(verify_node, "verify must be true or false")
            else:
                verify = str(verify_node.value).lower() in ("true", "yes", "on")
                if verify:
                    self.problem(node, f"{entry_id}: rests on a fact marked verify: check it before going public", False)
        related: tuple[str, ...] = ()
        if "related" in table:
            related = self.text_list(table["related"][1], "related", 0)
        if entry_id is None or source is None or reviewed is None:
            return None
        return Entry(entry_id, topic, questions, keywords, answers, source, reviewed, verify, related)


def parse_day(value: str) -> dt.date | None:
    """Accept ISO dates and '22 Nov 2026'; the latter is what the files use, as phone-number checks misread ISO."""
    for parse in (dt.date.fromisoformat, lambda v: dt.datetime.strptime(v, "%d %b %Y").date()):
        try:
            return parse(value)
        except ValueError:
            continue
    return None


def _parse(path: Path, checker: _FileChecker) -> Node | None:
    """The file's node tree; broken YAML is reported where the parser noticed it and, when it names one, where
    the construct it was reading began (an unclosed bracket is found lines after it was opened)."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        context, problem = exc.context_mark, exc.problem_mark
        if context is not None and (problem is None or context.line != problem.line):
            checker.problems.append(Problem(str(path), context.line + 1, f"broken YAML: {exc.context} that starts here"))
        mark = problem or context
        checker.problems.append(
            Problem(str(path), mark.line + 1 if mark is not None else 1, f"broken YAML: {exc.problem or exc.context}")
        )
    except (OSError, UnicodeDecodeError) as exc:
        checker.problems.append(Problem(str(path), 1, f"cannot read: {exc}"))
    return None


def check_knowledge(
    directory: Path, languages: tuple[str, ...], today: dt.date | None = None
) -> tuple[KnowledgeBase, list[Problem]]:
    """Read every *.yaml in `directory`; return what loaded and every problem found."""
    today = today or dt.date.today()
    topics: dict[str, Topic] = {}
    entries: dict[str, Entry] = {}
    entry_nodes: dict[str, tuple[_FileChecker, Node]] = {}
    broken: set[str] = set()  # ids of entries that failed to load: they exist, so no "no such entry" for them
    problems: list[Problem] = []
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not files:
        problems.append(Problem(str(directory), 1, "no knowledge files (*.yaml) here"))
    for path in files:
        checker = _FileChecker(path, languages, today)
        root = _parse(path, checker)
        table = checker.mapping(root, "the file") if root is not None else None
        if table is not None:
            _check_file(checker, table, topics, entries, entry_nodes, broken)
        problems.extend(checker.problems)
        checker.problems.clear()
    for entry_id, entry in entries.items():
        checker, node = entry_nodes[entry_id]
        for other in entry.related:
            if other not in entries and other not in broken:
                checker.problem(node, f"{entry_id}: related id '{other}' is no entry")
        problems.extend(checker.problems)
        checker.problems.clear()
    for topic in TOPICS:
        if topic not in topics:
            problems.append(Problem(str(directory), 1, f"topic '{topic}' has no file", error=False))
    ordered = {t: topics[t] for t in TOPICS if t in topics}
    return KnowledgeBase(languages, ordered, entries), problems


def _check_file(
    checker: _FileChecker,
    table: dict[str, tuple[Node, Node]],
    topics: dict[str, Topic],
    entries: dict[str, Entry],
    entry_nodes: dict[str, tuple[_FileChecker, Node]],
    broken: set[str],
) -> None:
    for key, (key_node, _) in table.items():
        if key not in _FILE_KEYS:
            checker.problem(key_node, f"unknown key '{key}' (known: {', '.join(sorted(_FILE_KEYS))})")
    for key in sorted(_FILE_KEYS - table.keys()):
        checker.problem(None, f"the file is missing '{key}'")
    if not _FILE_KEYS <= table.keys():
        return
    topic_node = table["topic"][1]
    topic = checker.text(topic_node, "topic", 40)
    if topic is None:
        return
    if topic not in TOPICS:
        checker.problem(topic_node, f"unknown topic '{topic}' (topics: {', '.join(TOPICS)})")
        return
    if topic in topics:
        checker.problem(topic_node, f"topic '{topic}' already has a file")
        return
    titles: dict[str, str] = {}
    title_key, title_node = table["title"]
    for lang, node in checker.per_language(title_key, title_node, "title", True).items():
        title = checker.text(node, f"title.{lang}", 60)
        if title:
            titles[lang] = title
    entries_node = table["entries"][1]
    if not isinstance(entries_node, SequenceNode):
        checker.problem(entries_node, "entries must be a list")
        return
    ids: list[str] = []
    for node in entries_node.value:
        entry = checker.entry(node, topic)
        if entry is None:
            broken.update(_declared_id(node))
            continue
        if entry.id in entries:
            first_checker, first = entry_nodes[entry.id]
            checker.problem(node, f"duplicate id '{entry.id}' (first at {first_checker.path}:{first.start_mark.line + 1})")
            continue
        entries[entry.id] = entry
        entry_nodes[entry.id] = (checker, node)
        ids.append(entry.id)
    topics[topic] = Topic(topic, titles, tuple(ids))


def _declared_id(node: Node) -> list[str]:
    """The id an entry declares, even when the entry itself is broken."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                return [str(value.value).strip()]
    return []


def load_knowledge(directory: Path, languages: tuple[str, ...]) -> KnowledgeBase:
    """The knowledge base the bot runs on; refuses one with errors so nobody gets half an answer."""
    knowledge, problems = check_knowledge(directory, languages)
    errors = [p for p in problems if p.error]
    if errors:
        raise KnowledgeError(errors)
    return knowledge
