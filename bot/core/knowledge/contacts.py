"""`sources.yaml` and `organisations.yaml`: where each fact was seen, and the one place for each hotline.

Answers and emergency replies name an organisation as `{contact:id}`, so changing a number is one edit. A phone
number may stand in an answer or an organisation only if one of its sources quotes it, which is how a number that
nobody can trace back is kept out of a message to someone in need.
"""

from __future__ import annotations

import re

from yaml.nodes import Node

from bot.core.knowledge.model import Organisation, Source
from bot.core.knowledge.nodes import FileChecker

CONTACT = re.compile(r"\{contact:([^{}]*)\}")
# a run of digits with the separators people print (spaces, dashes, slashes, dots); a date's dots are excluded
# by requiring five digits, and 112 is the one short number there is
PHONE = re.compile(r"(?<![\w.,])\+?\d[\d \-/]*\d(?![\w]|[.,]\d)")
_SOURCE_KEYS = {"id", "title", "url", "seed", "document", "date", "verify", "quotes"}
_ORG_KEYS = {"id", "name", "phones", "hours", "purpose", "source", "review_by"}


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone_numbers(text: str) -> list[str]:
    """The phone numbers `text` prints, placeholders left out."""
    found = [m.group(0).strip() for m in PHONE.finditer(CONTACT.sub(" ", text))]
    return [n for n in found if len(digits(n)) >= 5 or digits(n) == "112"]


def quoted(number: str, sources: list[Source]) -> bool:
    wanted = digits(number)
    return any(wanted in digits(quote) for source in sources for quote in source.quotes)


def load_sources(checker: FileChecker, root: Node) -> dict[str, Source]:
    table = checker.mapping(root, "the file")
    if table is None:
        return {}
    checker.keys(table, root, "the file", {"sources"}, ("sources",))
    sources: dict[str, Source] = {}
    for node, item in checker.records(table, "sources", "source"):
        checker.keys(item, node, "source", _SOURCE_KEYS, ("id", "title", "date", "verify"))
        source_id = checker.slug(item["id"][1], "id") if "id" in item else None
        where_keys = [k for k in ("url", "seed", "document") if k in item]
        if len(where_keys) != 1:
            checker.problem(node, "source needs exactly one of 'url', 'seed' or 'document'")
            continue
        where = checker.text(item[where_keys[0]][1], where_keys[0])
        title = checker.text(item["title"][1], "title") if "title" in item else None
        date = checker.text(item["date"][1], "date", 40) if "date" in item else None
        verify = checker.flag(item["verify"][1], "verify") if "verify" in item else False
        quotes = checker.text_list(item["quotes"][1], "quotes") if "quotes" in item else ()
        if source_id is None or where is None or title is None or date is None:
            continue
        if source_id in sources:
            checker.problem(item["id"][1], f"duplicate source id '{source_id}'")
            continue
        sources[source_id] = Source(source_id, title, where, date, verify, quotes)
    return sources


def source_ids(checker: FileChecker, node: Node, sources: dict[str, Source]) -> tuple[str, ...]:
    """A `source:` list, every id known."""
    ids = checker.text_list(node, "source", 1)
    for source_id in ids:
        if source_id not in sources:
            checker.problem(node, f"source '{source_id}' is not in sources.yaml")
    return tuple(i for i in ids if i in sources)


def check_phones(
    checker: FileChecker, node: Node, text: str, ids: tuple[str, ...], sources: dict[str, Source], what: str
) -> None:
    backing = [sources[i] for i in ids]
    for number in phone_numbers(text):
        if not quoted(number, backing):
            checker.problem(
                node, f"{what}: phone number '{number}' is quoted by none of its sources ({', '.join(ids) or 'none'})"
            )


def load_organisations(checker: FileChecker, root: Node, sources: dict[str, Source]) -> dict[str, Organisation]:
    table = checker.mapping(root, "the file")
    if table is None:
        return {}
    checker.keys(table, root, "the file", {"organisations"}, ("organisations",))
    found: dict[str, Organisation] = {}
    for node, item in checker.records(table, "organisations", "organisation"):
        checker.keys(item, node, "organisation", _ORG_KEYS, ("id", "name", "purpose", "source"))
        org_id = checker.slug(item["id"][1], "id") if "id" in item else None
        names = checker.texts_by_language(*item["name"], "name", True) if "name" in item else {}
        purpose = checker.texts_by_language(*item["purpose"], "purpose", True) if "purpose" in item else {}
        hours = checker.texts_by_language(*item["hours"], "hours", True) if "hours" in item else {}
        phones = checker.text_list(item["phones"][1], "phones") if "phones" in item else ()
        ids = source_ids(checker, item["source"][1], sources) if "source" in item else ()
        review_by = checker.date(item["review_by"][1], "review_by") if "review_by" in item else None
        if "phones" in item:
            check_phones(checker, item["phones"][1], " / ".join(phones), ids, sources, f"{org_id}: phones")
        if org_id is None or not names:
            continue
        if org_id in found:
            checker.problem(item["id"][1], f"duplicate organisation id '{org_id}'")
            continue
        found[org_id] = Organisation(org_id, names, phones, hours, purpose, ids, review_by)
    return found


def render(
    checker: FileChecker, node: Node, text: str, language: str, fallback: str, organisations: dict[str, Organisation]
) -> str:
    """`text` with every `{contact:id}` replaced by the organisation's line in `language`."""

    def replace(match: re.Match[str]) -> str:
        organisation = organisations.get(match.group(1).strip())
        if organisation is None:
            checker.problem(node, f"{{contact:{match.group(1)}}}: no such organisation in organisations.yaml")
            return match.group(0)
        return organisation.line(language, fallback)

    return CONTACT.sub(replace, text)
