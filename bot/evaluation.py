"""Accuracy of the understanding step on a labelled set: `migrant-bot eval FILE`.

The file has one JSON object per line: {"text": ..., "lang": "uk", "expect": ...} where `expect` is a topic id,
"out_of_scope", "smalltalk" or "emergency". Messages are understood exactly as `migrant-bot ask` does, with no
language chosen, so language detection is measured too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.engine import Engine, Understanding
from bot.core.knowledge import TOPICS
from bot.tables import format_table, percent

SPECIAL = ("out_of_scope", "smalltalk", "emergency")


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
    smalltalk: int = 0
    smalltalk_hits: int = 0
    labelled_lang: int = 0
    lang_right: int = 0

    def add(self, case: Case, got: Understanding) -> None:
        if case.lang is not None:
            self.labelled_lang += 1
            self.lang_right += got.lang == case.lang
        if case.expect in TOPICS:
            self.topical += 1
            self.topic_right += got.action in ("answer", "suggest") and got.topic == case.expect
            self.wrong_answers += got.action == "answer" and got.topic != case.expect
        elif case.expect == "out_of_scope":
            self.out_of_scope += 1
            self.rejected += got.action != "answer"
        elif case.expect == "emergency":
            self.emergencies += 1
            self.emergency_hits += got.action == "emergency"
        elif case.expect == "smalltalk":
            self.smalltalk += 1
            self.smalltalk_hits += got.action == "smalltalk"

    def row(self, name: str) -> list[str]:
        return [
            name,
            str(self.topical + self.out_of_scope + self.emergencies + self.smalltalk),
            percent(self.topic_right, self.topical),
            percent(self.wrong_answers, self.topical),
            percent(self.rejected, self.out_of_scope),
            percent(self.emergency_hits, self.emergencies),
            percent(self.smalltalk_hits, self.smalltalk),
            percent(self.lang_right, self.labelled_lang),
        ]


HEADER = ["", "messages", "topic acc", "wrong ans", "oos not answered", "emergency recall", "smalltalk",
          "language acc"]


@dataclass
class Report:
    total: Tally = field(default_factory=Tally)
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[tuple[Case, Understanding]] = field(default_factory=list)

    def render(self, show_misses: bool = False) -> str:
        parts = [
            "By language",
            format_table(HEADER, [t.row(k) for k, t in sorted(self.by_language.items())] + [self.total.row("all")]),
            "",
            "By expected topic",
            format_table(HEADER, [t.row(k) for k, t in sorted(self.by_topic.items())] + [self.total.row("all")]),
        ]
        if show_misses and self.misses:
            parts += ["", "Misses"]
            parts += [
                f"  [{c.lang}] {c.expect:<12} got {u.action}/{u.topic}/{u.entry} ({u.confidence:.2f}, {u.lang}): {c.text}"
                for c, u in self.misses
            ]
        return "\n".join(parts)


def load_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            case = Case(str(data["text"]), str(data["expect"]), data.get("lang"))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}:{number}: not a case object ({exc})") from exc
        if case.expect not in TOPICS and case.expect not in SPECIAL:
            raise EvalFileError(f"{path}:{number}: unknown expect '{case.expect}'")
        cases.append(case)
    return cases


def _missed(case: Case, got: Understanding) -> bool:
    if case.expect in TOPICS:
        return not (got.action in ("answer", "suggest") and got.topic == case.expect)
    if case.expect == "out_of_scope":
        return got.action == "answer"
    return got.action != case.expect


def evaluate(engine: Engine, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        got = engine.understand(case.text)
        report.total.add(case, got)
        report.by_language[case.lang or "?"].add(case, got)
        report.by_topic[case.expect].add(case, got)
        if _missed(case, got) or (case.lang is not None and got.lang != case.lang):
            report.misses.append((case, got))
    return report
