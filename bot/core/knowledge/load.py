"""The knowledge directory as a whole: which file is what, and the checks that cross files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from bot.core.knowledge.contacts import load_organisations, load_sources
from bot.core.knowledge.entries import EntryReader
from bot.core.knowledge.events import CITIES_FILE, EVENTS_DIR, City, EventReader, InfoEvent, event_files, load_cities
from bot.core.knowledge.model import REVIEW_WARNING_DAYS, Entry, KnowledgeBase, Topic, fallback_language
from bot.core.knowledge.nodes import FileChecker, KnowledgeError, Problem, line_of
from bot.core.knowledge.phrases import load_crisis, load_smalltalk, load_topics

TOPICS_FILE = "topics.yaml"
SOURCES_FILE = "sources.yaml"
ORGANISATIONS_FILE = "organisations.yaml"
CRISIS_FILE = "crisis.yaml"
SMALLTALK_FILE = "smalltalk.yaml"
SPECIAL = (TOPICS_FILE, SOURCES_FILE, ORGANISATIONS_FILE, CRISIS_FILE, SMALLTALK_FILE)


class _Reader:
    def __init__(self, directory: Path, languages: tuple[str, ...], today: dt.date) -> None:
        self.directory = directory
        self.languages = languages
        self.today = today
        self.problems: list[Problem] = []

    def checker(self, name: str) -> tuple[FileChecker, Node | None]:
        checker = FileChecker(self.directory / name, self.languages, self.today)
        if not checker.path.is_file():
            checker.problem(None, f"missing: the knowledge base needs {name}")
            return checker, None
        return checker, checker.parse()

    def done(self, checker: FileChecker) -> None:
        self.problems.extend(checker.problems)
        checker.problems.clear()


def check_knowledge(
    directory: Path,
    languages: tuple[str, ...],
    today: dt.date | None = None,
) -> tuple[KnowledgeBase, list[Problem]]:
    """Read the knowledge directory; return what loaded and every problem found."""
    reader = _Reader(directory, languages, today or dt.date.today())
    fallback = fallback_language(languages)

    checker, root = reader.checker(SOURCES_FILE)
    sources = load_sources(checker, root) if root is not None else {}
    reader.done(checker)
    checker, root = reader.checker(ORGANISATIONS_FILE)
    organisations = load_organisations(checker, root, sources) if root is not None else {}
    for organisation in organisations.values():
        _review_warning(checker, None, organisation.id, organisation.review_by)
    reader.done(checker)
    checker, root = reader.checker(CRISIS_FILE)
    crisis = load_crisis(checker, root, organisations) if root is not None else ()
    reader.done(checker)
    checker, root = reader.checker(SMALLTALK_FILE)
    smalltalk, out_of_scope = load_smalltalk(checker, root) if root is not None else ((), ())
    reader.done(checker)
    topics_checker, root = reader.checker(TOPICS_FILE)
    topic_list = load_topics(topics_checker, root) if root is not None else []

    entries: dict[str, Entry] = {}
    entry_nodes: dict[str, tuple[FileChecker, Node]] = {}
    by_topic: dict[str, list[str]] = {t: [] for t, _, _ in topic_list}
    seen_files: set[str] = set()
    broken: set[str] = set()  # entries that failed to load exist: no "no such entry" cascade for them
    for path in sorted(directory.glob("*.yaml")):
        if path.name in SPECIAL:
            continue
        checker = FileChecker(path, languages, reader.today)
        root = checker.parse()
        if root is None:
            seen_files.add(path.stem)  # its errors are reported: no "topic has no file" on top of them
        found = _topic_file(checker, root, by_topic, seen_files) if root is not None else None
        if found is not None:
            topic, entries_node = found
            entry_reader = EntryReader(checker, sources, organisations, fallback)
            for node in checker.sequence(entries_node, "entries"):
                entry = entry_reader.entry(node, topic)
                if entry is None:
                    broken.add(declared_id(node) or "")
                    continue
                if entry.id in entries:
                    first_checker, first = entry_nodes[entry.id]
                    checker.problem(node, f"duplicate id '{entry.id}' (first at {first_checker.path}:{line_of(first)})")
                    continue
                _review_warning(checker, node, entry.id, entry.review_by)
                entries[entry.id] = entry
                entry_nodes[entry.id] = (checker, node)
                by_topic[topic].append(entry.id)
        reader.done(checker)
    for entry_id, entry in entries.items():
        checker, node = entry_nodes[entry_id]
        for other in entry.related:
            if other not in entries and other not in broken:
                checker.problem(node, f"{entry_id}: related id '{other}' is no entry")
        reader.done(checker)
    for topic_id, _, node in topic_list:
        if topic_id not in seen_files:
            topics_checker.problem(node, f"topic '{topic_id}' has no file {topic_id}.yaml")
    reader.done(topics_checker)
    topics = {t: Topic(t, titles, tuple(by_topic[t])) for t, titles, _ in topic_list}
    cities, events, problems = check_events(directory, languages, set(topics), reader.today)
    reader.problems.extend(problems)
    knowledge = KnowledgeBase(
        languages, topics, entries, organisations, sources, crisis, smalltalk, out_of_scope, cities, events
    )
    return knowledge, reader.problems


def check_events(
    directory: Path, languages: tuple[str, ...], topics: set[str], today: dt.date
) -> tuple[dict[str, City], dict[str, InfoEvent], list[Problem]]:
    """The cities and events of `directory`/events/, if there is such a folder (a knowledge base may announce
    nothing), and every problem found in them."""
    reader = _Reader(directory, languages, today)
    files = event_files(directory)
    if not files and not (directory / EVENTS_DIR).is_dir():
        return {}, {}, []
    checker, root = reader.checker(f"{EVENTS_DIR}/{CITIES_FILE}")
    cities = load_cities(checker, root) if root is not None else {}
    reader.done(checker)
    events = EventReader(cities, topics, fallback_language(languages))
    for path in files:
        checker = FileChecker(path, languages, today)
        root = checker.parse()
        if root is not None:
            events.read(checker, root)
        reader.done(checker)
    return cities, events.events, reader.problems


def _topic_file(
    checker: FileChecker,
    root: Node,
    by_topic: dict[str, list[str]],
    seen: set[str],
) -> tuple[str, Node] | None:
    """The file's topic and its `entries` node, if it is a topic file of a known topic not seen before."""
    table = checker.mapping(root, "the file")
    if table is None:
        return None
    checker.keys(table, root, "the file", {"topic", "entries"}, ("topic", "entries"))
    if "topic" not in table or "entries" not in table:
        return None
    topic = checker.text(table["topic"][1], "topic", 48)
    if topic is None:
        return None
    if topic not in by_topic:
        checker.problem(table["topic"][1], f"topic '{topic}' is not in {TOPICS_FILE} (topics: {', '.join(by_topic)})")
        return None
    if topic in seen:
        checker.problem(table["topic"][1], f"topic '{topic}' already has a file")
        return None
    seen.add(topic)
    return topic, table["entries"][1]


def _review_warning(checker: FileChecker, node: Node | None, what: str, review_by: dt.date | None) -> None:
    if review_by is None:
        return
    if review_by < checker.today:
        checker.problem(
            node, f"{what}: review_by {review_by} has passed: answers now say they may be out of date", error=False
        )
    elif (review_by - checker.today).days <= REVIEW_WARNING_DAYS:
        checker.problem(node, f"{what}: review_by {review_by} is within {REVIEW_WARNING_DAYS} days", error=False)


def declared_id(node: Node) -> str | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                return str(value.value).strip()
    return None


def load_knowledge(directory: Path, languages: tuple[str, ...]) -> KnowledgeBase:
    """The knowledge base the bot runs on; refuses one with errors so nobody gets half an answer."""
    knowledge, problems = check_knowledge(directory, languages)
    errors = [p for p in problems if p.error and p.blocks_bot]
    if errors:
        raise KnowledgeError(errors)
    return knowledge
