"""Events written for a test, relative to a fixed local "now", and an engine that announces them."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

from bot.core.engine import Engine
from bot.core.handoff import Desk
from bot.core.knowledge.load import check_events
from bot.core.outreach import OutreachStore
from bot.core.state import UserStore
from bot.core.understanding import Understander
from bot.i18n import I18n
from tests.conftest import ROOT

NOW = dt.datetime(2026, 12, 10, 9, 0)  # local time, a Thursday


def event_yaml(
    event_id: str,
    start: dt.datetime,
    city: str = "sofia",
    topics: str = "[health]",
    capacity: int | None = None,
    hours: int = 2,
    languages: tuple[str, ...] = ("en", "ru"),
) -> str:
    titles = ", ".join(f'{lang}: "{event_id} title {lang}"' for lang in languages)
    descriptions = ", ".join(f'{lang}: "{event_id} description {lang}"' for lang in languages)
    return (
        f"  - id: {event_id}\n    city: {city}\n    start: {start:%Y-%m-%d %H:%M}\n"
        f"    end: {start + dt.timedelta(hours=hours):%Y-%m-%d %H:%M}\n    place: Hall {event_id}\n"
        f"    organiser: The test organiser\n    topics: {topics}\n"
        + (f"    capacity: {capacity}\n" if capacity is not None else "")
        + f"    title: {{{titles}}}\n    description: {{{descriptions}}}\n"
    )


def events_folder(folder: Path, *events: str) -> Path:
    """A folder with the shipped cities and `events` (from event_yaml) in events/test.yaml."""
    (folder / "events").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "knowledge" / "events" / "cities.yaml", folder / "events" / "cities.yaml")
    (folder / "events" / "test.yaml").write_text("events:\n" + ("".join(events) or "  []\n"), encoding="utf-8")
    return folder


def announcing(
    base: Engine,
    folder: Path,
    store: UserStore,
    outreach: OutreachStore,
    desk: Desk | None = None,
    now: dt.datetime = NOW,
) -> Engine:
    """An engine on the shipped knowledge base with the events of `folder`, its clock stopped at `now`."""
    understander = base.understander
    knowledge = understander.knowledge
    cities, events, problems = check_events(folder, knowledge.languages, set(knowledge.topics), now.date())
    assert not [p for p in problems if p.error], problems
    i18n = I18n(base.bot.languages)
    with_events = Understander(
        replace(knowledge, cities=cities, events=events),
        base.bot,
        understander.settings,
        i18n,
        understander.encoder,
        understander.semantic,
    )
    return Engine(with_events, base.bot, store, desk, outreach, lambda: now)
