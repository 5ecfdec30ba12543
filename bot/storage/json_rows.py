"""Many rows in one bound parameter: a JSON array that SQL unpacks into a table, and a query packed into one value.

A batch written row by row (executemany, or RETURNING one row per message) makes SQLite's driver thread and the
event loop hand the interpreter to each other once per row, which under load costs more than the rows do; a
VALUES list would be compiled by SQLAlchemy anew on every call. With the rows in one JSON parameter each
statement keeps one text, compiled once, and costs the driver one step. SQLite and PostgreSQL spell the
unpacking and the packing differently; the statements that use them are otherwise the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.sql.elements import TextClause


@dataclass(frozen=True)
class JsonRows:
    elements: str  # a FROM item giving one `value` for each element of the array in :rows
    field: str  # the {i}th field of `value`, as text
    pack: str  # one JSON array of the {fields} arrays of every row a query finds

    def table(self, *columns: str) -> str:
        """The rows in :rows as a derived table with these column names (to alias and join)."""
        picks = ", ".join(f"{self.field.format(i=i)} AS {name}" for i, name in enumerate(columns))
        return f"(SELECT {picks} FROM {self.elements})"

    def packed(self, *fields: str) -> str:
        return self.pack.format(fields=", ".join(fields))


SQLITE = JsonRows("json_each(:rows)", "json_extract(value, '$[{i}]')", "json_group_array(json_array({fields}))")
POSTGRESQL = JsonRows(
    "json_array_elements(CAST(:rows AS json)) AS element(value)",
    "(value ->> {i})",
    "json_agg(json_build_array({fields}))",
)


def json_rows(dialect: str) -> JsonRows:
    return SQLITE if dialect == "sqlite" else POSTGRESQL


def statement(sql: str) -> TextClause:
    """A statement taking its rows in :rows and, where it says :now, the time (as SQLAlchemy stores times)."""
    return text(sql).bindparams(bindparam("now", type_=DateTime(timezone=True))) if ":now" in sql else text(sql)


def rows_param(rows: Sequence[Sequence[object]]) -> str:
    return json.dumps(rows, ensure_ascii=False)


def unpacked(value: str | list[list[object]] | None) -> list[list[object]]:
    """The rows of a packed result (asyncpg hands json over as text, SQLite too; an empty query gives NULL)."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value
