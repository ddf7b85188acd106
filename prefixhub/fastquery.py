"""One row by an indexed lookup, without the ORM's query compiler.

The channel URLs (index files, shards, packages) are the hottest path prefixhub has:
every ``pixi install`` reads the shard index and one shard per package name. On that
path compiling ``Model.objects.filter(...).first()`` costs about ten times executing
the query it compiles, so these few lookups build their SQL once per model and turn
the row into an instance with the same converters the ORM applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)


@cache
def _columns(
    model: type[models.Model], fields: tuple[str, ...] | None
) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    chosen = [
        f
        for f in model._meta.concrete_fields
        if fields is None or f.attname in fields or f.primary_key
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in chosen)
    converters = []
    for field in chosen:
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + field.get_db_converters(
            connection
        )
        converters.append((col, found))
    return columns, [f.attname for f in chosen], converters


def first_row(
    model: type[M],
    where: dict[str, Any],
    *,
    fields: Sequence[str] | None = None,
) -> M | None:
    """The first ``model`` row whose columns equal ``where`` (a unique lookup), with
    only ``fields`` loaded when given (the others deferred), or None."""
    columns, names, converters = _columns(model, tuple(fields) if fields else None)
    row = _fetch(model, columns, where)
    if row is None:
        return None
    values = []
    for value, (col, found) in zip(row, converters, strict=True):
        for convert in found:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, names, values)


def first_value(model: type[models.Model], column: str, where: dict[str, Any]) -> Any:
    """One column's raw value from the first matching row, or None."""
    row = _fetch(model, _column(model, column), where)
    return None if row is None else row[0]


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(connection.ops.quote_name(str(field.column)))


def sql_names(model: type[models.Model], *fields: str) -> tuple[str, ...]:
    """The quoted table name of ``model``, then the quoted column of each field: the
    only names a hand-written query on the hot path may interpolate."""
    table = str(connection.ops.quote_name(model._meta.db_table))
    return (table, *(_column(model, name) for name in fields))


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of a hand-written query (``%s`` placeholders), run on the
    driver's own cursor: Django's cursor wrapper costs more than an indexed query,
    and on SQLite rewrites the placeholders on every call.

    Queries still go through Django's cursor while Django records them (DEBUG, or a
    test counting queries), and driver errors become Django's, marking a broken
    connection so the next request replaces it.
    """
    db = connections[DEFAULT_DB_ALIAS]  # each ``connection.x`` looks this up again
    if db.queries_logged:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
    with db.wrap_database_errors:
        db.ensure_connection()
        cursor = db.connection.cursor()
        try:
            cursor.execute(_native(sql, db.vendor), params)
            row = cursor.fetchone()
        finally:
            cursor.close()
    return row


@cache
def _native(sql: str, vendor: str) -> str:
    return sql.replace("%s", "?") if vendor == "sqlite" else sql


def db_to_datetime(value: Any) -> datetime:
    """A DateTimeField's raw column value as an aware datetime: PostgreSQL gives one,
    SQLite gives the UTC time as text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _fetch(
    model: type[models.Model], columns: str, where: dict[str, Any]
) -> tuple[Any, ...] | None:
    conditions = " AND ".join(f"{_column(model, name)} = %s" for name in where)
    table = connection.ops.quote_name(model._meta.db_table)
    # Only quoted names from the model's own metadata are interpolated.
    sql = f"SELECT {columns} FROM {table} WHERE {conditions} LIMIT 1"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(where.values()))
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row
