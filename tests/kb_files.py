"""A small knowledge base written into a folder, for tests of the loader and of the bot on other data."""

from __future__ import annotations

import textwrap
from pathlib import Path

SOURCES = """\
sources:
  - id: facts
    title: The fact sheet
    document: facts.md
    date: undated
    verify: false
    quotes: ["112", "0800 18 676"]
  - id: old-page
    title: An old page
    url: https://example.org
    date: "2018"
    verify: true
"""
ORGANISATIONS = """\
organisations:
  - id: emergency-112
    name: {en: Emergency number, bg: Спешен номер}
    phones: ["112"]
    purpose: {en: "Police, ambulance", bg: "Полиция, линейка"}
    source: [facts]
  - id: animus
    name: {en: Animus line, bg: Линия Анимус}
    phones: ["0800 18 676"]
    hours: {en: "9:00–21:00", bg: "9:00–21:00"}
    purpose: {en: Violence, bg: Насилие}
    source: [facts]
"""
CRISIS = """\
categories:
  - id: violence
    contacts: [animus]
    phrases:
      en: ["kill me", "beating me now"]
      latin: ["on menya ubet"]
    exemplars:
      en: ["he is about to hurt me"]
"""
SMALLTALK = """\
kinds:
  - id: greeting
    phrases:
      en: [hello, hi]
      bg: [здравей]
out_of_scope:
  en: [tell me a joke]
"""
TOPICS = """\
topics:
  - id: health
    title: {en: Health, bg: Здраве}
  - id: work
    title: {en: Work, bg: Работа}
"""
ENTRY = """\
  - id: {id}
    title: {{en: Is it one?, bg: Едно ли е?}}
    questions:
      en: [one, two, three]
      bg: [едно, две, три]
    answer:
      en: An answer. Call {{contact:animus}}.
      bg: Отговор.
    source: [facts]
    reviewed: 22 Nov 2026
"""
SPECIAL_FILES = {
    "sources.yaml": SOURCES,
    "organisations.yaml": ORGANISATIONS,
    "crisis.yaml": CRISIS,
    "smalltalk.yaml": SMALLTALK,
    "topics.yaml": TOPICS,
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def topic_file(topic: str, entries: str) -> str:
    return f"topic: {topic}\nentries:\n{entries}"


def small_base(folder: Path, health: str | None = None, work: str | None = None) -> Path:
    """Every file a knowledge base needs; `health` and `work` are the entries of those topics."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SPECIAL_FILES.items():
        write(folder, name, text)
    write(folder, "health.yaml", topic_file("health", health or ENTRY.format(id="health-one")))
    write(folder, "work.yaml", topic_file("work", work or ENTRY.format(id="work-one")))
    return folder
