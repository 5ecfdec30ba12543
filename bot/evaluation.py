"""Accuracy of the understanding step on a labelled set: `migrant-bot eval FILE`.

The file has one JSON object per line: {"text": ..., "lang": "uk", "expect": ...} where `expect` is a topic id,
"out_of_scope", "smalltalk", "emergency" or "foreign" (a language the bot does not speak: `lang` is null).
Messages are understood exactly as `migrant-bot ask` does, with no language chosen, so language detection is
measured too. Besides the rates, the report has a confusion matrix of topics and lists every emergency missed
and every false alarm: the two errors that matter most.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.engine import Engine
from bot.core.understanding import Understanding
from bot.tables import format_table, percent

SPECIAL = ("out_of_scope", "smalltalk", "emergency", "foreign")
TOPICAL_ACTIONS = ("answer", "suggest")


class EvalFileError(Exception):
    pass


@dataclass(frozen=True)
class Case:
    text: str
    expect: str
    lang: str | None


@dataclass
class Tally:
    topical: int = 0
    topic_right: int = 0
    wrong_answers: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    emergencies: int = 0
    emergency_hits: int = 0
    false_alarms: int = 0
    smalltalk: int = 0
    smalltalk_hits: int = 0
    foreign: int = 0
    foreign_hits: int = 0
    labelled_lang: int = 0
    lang_right: int = 0

    def add(self, case: Case, got: Understanding) -> None:
        if case.lang is not None:
            self.labelled_lang += 1
            self.lang_right += got.lang == case.lang
        if case.expect == "emergency":
            self.emergencies += 1
            self.emergency_hits += got.action == "emergency"
            return
        self.false_alarms += got.action == "emergency"
        if case.expect == "out_of_scope":
            self.out_of_scope += 1
            self.rejected += got.action != "answer"
        elif case.expect == "smalltalk":
            self.smalltalk += 1
            self.smalltalk_hits += got.action == "smalltalk"
        elif case.expect == "foreign":
            self.foreign += 1
            self.foreign_hits += got.action == "smalltalk" and got.kind == "foreign_language"
        else:
            self.topical += 1
            self.topic_right += got.action in TOPICAL_ACTIONS and got.topic == case.expect
            self.wrong_answers += got.action == "answer" and got.topic != case.expect

    def row(self, name: str) -> list[str]:
        others = self.topical + self.out_of_scope + self.smalltalk + self.foreign
        return [
            name,
            str(others + self.emergencies),
            percent(self.topic_right, self.topical),
            percent(self.wrong_answers, self.topical),
            percent(self.rejected, self.out_of_scope),
            percent(self.emergency_hits, self.emergencies),
            percent(self.false_alarms, others),
            percent(self.smalltalk_hits, self.smalltalk),
            percent(self.foreign_hits, self.foreign),
            percent(self.lang_right, self.labelled_lang),
        ]


HEADER = [
    "",
    "messages",
    "topic acc",
    "wrong ans",
    "oos not answered",
    "emergency recall",
    "false alarms",
    "smalltalk",
    "foreign menu",
    "language acc",
]


@dataclass
class Report:
    topics: tuple[str, ...]
    total: Tally = field(default_factory=Tally)
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[tuple[Case, Understanding]] = field(default_factory=list)
    results: list[tuple[Case, Understanding]] = field(default_factory=list)

    def add(self, case: Case, got: Understanding) -> None:
        self.results.append((case, got))
        self.total.add(case, got)
        self.by_language[case.lang or "?"].add(case, got)
        self.by_topic[case.expect].add(case, got)
        if case.expect in self.topics:
            self.confusion[case.expect, _column(got)] += 1
        if _missed(case, got, self.topics) or (case.lang is not None and got.lang != case.lang):
            self.misses.append((case, got))

    def render(self, show_misses: bool = False) -> str:
        parts = [
            "By language",
            format_table(HEADER, [t.row(k) for k, t in sorted(self.by_language.items())] + [self.total.row("all")]),
            "",
            "By expected label",
            format_table(HEADER, [t.row(k) for k, t in sorted(self.by_topic.items())] + [self.total.row("all")]),
            "",
            "Topic confusion (rows: expected, columns: what the bot answered or suggested)",
            self._confusion(),
            "",
            "Emergencies missed",
            *self._listed(lambda c, u: c.expect == "emergency" and u.action != "emergency"),
            "",
            "False alarms (answered as an emergency)",
            *self._listed(lambda c, u: c.expect != "emergency" and u.action == "emergency"),
        ]
        if show_misses and self.misses:
            parts += ["", "Misses"]
            parts += [
                f"  [{c.lang}] {c.expect:<12} got {u.action.value}/{u.topic}/{u.entry} ({u.confidence:.2f}, {u.lang}): "
                f"{c.text}"
                for c, u in self.misses
            ]
        return "\n".join(parts)

    def _confusion(self) -> str:
        columns = [*self.topics, "handoff", "other"]
        short = [c[:6] for c in columns]
        rows = [[topic, *(str(self.confusion[topic, c] or ".") for c in columns)] for topic in self.topics]
        return format_table(["", *short], rows)

    def _listed(self, test: Callable[[Case, Understanding], bool]) -> list[str]:
        found = [
            f"  [{c.lang}] {c.text}  -> {u.action.value}/{u.kind or u.category or u.topic}"
            for c, u in self.results
            if test(c, u)
        ]
        return found or ["  (none)"]


def _column(got: Understanding) -> str:
    if got.action in TOPICAL_ACTIONS and got.topic is not None:
        return got.topic
    return "handoff" if got.action == "handoff" else "other"


def load_cases(path: Path, topics: tuple[str, ...]) -> list[Case]:
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            case = Case(str(data["text"]), str(data["expect"]), data.get("lang"))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}:{number}: not a case object ({exc})") from exc
        if case.expect not in topics and case.expect not in SPECIAL:
            raise EvalFileError(f"{path}:{number}: unknown expect '{case.expect}'")
        cases.append(case)
    return cases


def _missed(case: Case, got: Understanding, topics: tuple[str, ...]) -> bool:
    if case.expect in topics:
        return not (got.action in TOPICAL_ACTIONS and got.topic == case.expect)
    if case.expect == "out_of_scope":
        return got.action == "answer"
    if case.expect == "foreign":
        return got.kind != "foreign_language"
    return got.action != case.expect


def evaluate(engine: Engine, cases: list[Case]) -> Report:
    report = Report(tuple(engine.knowledge.topics))
    for case in cases:
        got = engine.understand(case.text)
        report.add(case, got)
    return report
