"""The figures a help desk is run by, counted from SqlFigures' rows: tables (each exportable as CSV) and the
charts drawn from them. Counts and names only, never what anyone wrote."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field

from bot.core.knowledge import KnowledgeBase
from bot.storage.figures import SqlFigures
from bot.webconsole import charts

OUTCOMES = ("answer", "suggest", "handoff", "emergency")


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    chart: str = ""

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Range:
    first: dt.date
    last: dt.date
    zone: dt.tzinfo
    language: str | None

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), self.zone)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), self.zone)

    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + dt.timedelta(days=n)).isoformat() for n in range(count)]

    def day(self, moment: dt.datetime) -> str:
        return moment.astimezone(self.zone).date().isoformat()


def _median_hours(spans: list[dt.timedelta]) -> str:
    return f"{statistics.median(s.total_seconds() for s in spans) / 3600:.1f}" if spans else "-"


async def tables(source: SqlFigures, span: Range, knowledge: KnowledgeBase, within_hours: int) -> list[Table]:
    events = await source.events(span.start, span.end, span.language)
    feedback = await source.feedback(span.start, span.end, span.language)
    tickets = await source.tickets(span.start, span.end, span.language)
    closed = await source.closed_per_day(span.start, span.end, span.language)
    handled = await source.handled(span.start, span.end, span.language)
    days = span.days()
    questions = [e for e in events if e.action in OUTCOMES]
    languages = sorted({e.language for e in questions})

    def topic_of(entry: str | None) -> str:
        return knowledge.entries[entry].topic if entry in knowledge.entries else "(none)"

    per_day = Counter((span.day(e.at), e.language) for e in questions)
    by_language = Table(
        "questions-by-language",
        "Questions per day, by language",
        ["day", *languages, "all"],
        [[d, *(per_day[d, lang] for lang in languages), sum(per_day[d, lang] for lang in languages)] for d in days],
    )
    by_language.chart = charts.stacked_bars(
        days, {lang: [float(per_day[d, lang]) for d in days] for lang in languages}, by_language.title
    )

    per_topic = Counter(topic_of(e.entry_id) for e in questions)
    by_topic = Table(
        "questions-by-topic",
        "Questions by topic (answered and suggested ones have one; hand-offs and emergencies mostly none)",
        ["topic", "questions"],
        [[t, n] for t, n in per_topic.most_common()],
    )
    by_topic.chart = charts.horizontal_bars([(t, float(n)) for t, n in per_topic.most_common()], "Questions by topic")

    outcome_day = Counter((span.day(e.at), e.action) for e in questions)
    total = len(questions) or 1
    outcomes = Table(
        "outcomes",
        "What the bot did: answered, suggested, handed to a person, emergency",
        ["outcome", "questions", "share %"],
        [
            [o, sum(outcome_day[d, o] for d in days), round(100 * sum(outcome_day[d, o] for d in days) / total, 1)]
            for o in OUTCOMES
        ],
    )
    outcomes.chart = charts.stacked_bars(
        days, {o: [float(outcome_day[d, o]) for d in days] for o in OUTCOMES}, "What the bot did, per day"
    )

    votes: dict[tuple[str, str], list[bool]] = {}
    for f in feedback:
        entry = f.entry_id or "(consultant's answer)"
        topic = topic_of(f.entry_id) if f.entry_id else (f.ticket_topic or "(none)")
        votes.setdefault((topic, entry), []).append(f.helpful)
    rated = Table(
        "feedback",
        "👍/👎 per topic and entry",
        ["topic", "entry", "👍", "👎", "👍 %"],
        [
            [topic, entry, sum(v), len(v) - sum(v), round(100 * sum(v) / len(v))]
            for (topic, entry), v in sorted(votes.items())
        ],
    )
    per_topic_votes: dict[str, list[bool]] = {}
    for (topic, _), v in votes.items():
        per_topic_votes.setdefault(topic, []).extend(v)
    rated.chart = charts.horizontal_bars(
        [(t, round(100 * sum(v) / len(v))) for t, v in sorted(per_topic_votes.items())], "👍 share per topic", "%"
    )

    opened_day = Counter(span.day(t.created_at) for t in tickets)
    closed_day = Counter(span.day(at) for at in closed)
    flow = Table(
        "tickets",
        "Tickets opened and closed per day",
        ["day", "opened", "closed"],
        [[d, opened_day[d], closed_day[d]] for d in days],
    )
    flow.chart = charts.stacked_bars(
        days,
        {"opened": [float(opened_day[d]) for d in days], "closed": [float(closed_day[d]) for d in days]},
        flow.title,
    )

    first = [t.first_reply_at - t.created_at for t in tickets if t.first_reply_at]
    to_close = [t.closed_at - t.created_at for t in tickets if t.closed_at]
    in_time = sum(s <= dt.timedelta(hours=within_hours) for s in first)
    times = Table(
        "desk-times",
        "The desk's times, for tickets opened in the range",
        ["tickets", "median hours to first reply", "median hours to close", f"answered within {within_hours} h %"],
        [
            [
                len(tickets),
                _median_hours(first),
                _median_hours(to_close),
                round(100 * in_time / len(tickets)) if tickets else "-",
            ]
        ],
    )
    people = Table(
        "consultants", "Per consultant", ["consultant", "tickets answered", "replies"], [list(h) for h in handled]
    )
    people.chart = charts.horizontal_bars([(n, float(t)) for n, t, _ in handled], "Tickets answered per consultant")
    return [by_language, by_topic, outcomes, rated, flow, times, people]
