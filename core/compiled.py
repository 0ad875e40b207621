"""Reads the ORM builds and compiles once, then runs again: with other integer arguments
(CompiledRead), or as they are, for each of the distinct queries a caller names (CompiledReads).

Building and compiling a query cost about 0.8 ms of CPU for each of an order's reads here (pay's
order and its lines), against 0.2 ms to run the same SQL through Django's cursor (in process,
PostgreSQL, profiled). A CompiledRead asks the ORM for its query once per database connection,
with a probe number in place of each argument, and keeps the SQL, the parameters and the ORM's
own from-database converters; each later call puts its arguments where the probes were and runs
that SQL, so the rows are what the ORM would give (tests/core/test_compiled.py holds them equal on
SQLite and PostgreSQL).

Only reads (values_list querysets). A CompiledRead takes only integer arguments, and only when
every argument lands in the parameters: a query whose SQL would change with its arguments (a
LIMIT, an empty IN) falls back to the ORM each time. Writes, stock above all, stay with the ORM's
F() updates.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

# Numbers no id or count reaches, so a parameter equal to one is that argument.
FIRST_PROBE = 7_340_033_000_001


class _Compiled:
    """One connection's SQL, with where each argument goes, and its converters."""

    def __init__(self, queryset: QuerySet, probes: dict[int, str] | None = None):
        probes = probes or {}
        self.alias = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = self.compiler.as_sql()
        # Each parameter: (argument name, the int type the ORM gave its probe: int, or psycopg's
        # Int8 on PostgreSQL), or (None, a constant of the query).
        self.slots: list[tuple[str | None, Any]] = []
        for param in params:
            name = probes.get(param) if isinstance(param, int) and type(param) is not bool else None
            self.slots.append((name, type(param)) if name else (None, param))
        # An argument missing from the parameters is in the SQL itself (a LIMIT, say).
        self.complete = {name for name, _ in self.slots if name} == set(probes.values())
        columns = self.compiler.select[: self.compiler.col_count]
        self.width = len(columns)
        self.converters = self.compiler.get_converters([column for column, _, _ in columns])

    def rows(self, arguments: dict[str, int]) -> list[tuple]:
        params = [kind(arguments[name]) if name else kind for name, kind in self.slots]
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return [tuple(row[: self.width]) for row in rows]


class CompiledRead:
    """`build(**arguments)`, a values_list queryset of integer arguments, read as its tuples:
    `read(**arguments)` gives list(build(**arguments))."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self.build = build
        self.probes = {FIRST_PROBE + n: name for n, name in enumerate(names)}
        # Per thread, as Django's connections are: a compiler holds its thread's connection.
        self.local = threading.local()

    def _compiled(self) -> _Compiled | None:
        if not hasattr(self.local, "compiled"):
            queryset = self.build(**{name: probe for probe, name in self.probes.items()})
            try:
                compiled = _Compiled(queryset, self.probes)
            except EmptyResultSet:
                compiled = None
            self.local.compiled = compiled if compiled is not None and compiled.complete else None
        return self.local.compiled

    def read(self, **arguments: int) -> list[tuple]:
        compiled = self._compiled()
        if compiled is None or not all(type(value) is int for value in arguments.values()):
            return list(self.build(**arguments))
        return compiled.rows(arguments)


class CompiledReads:
    """`build(*key)`, a values_list queryset, read as its tuples: `read(*key)` gives
    list(build(*key)), from the SQL compiled for that key. For reads whose distinct keys are few
    (a list's filters and page); each thread keeps the `size` most recently used."""

    def __init__(self, build: Callable[..., QuerySet], size: int):
        self.build = build
        self.size = size
        self.local = threading.local()

    def read(self, *key: Hashable) -> list[tuple]:
        kept = getattr(self.local, "kept", None)
        if kept is None:
            kept = self.local.kept = OrderedDict()
        compiled = kept.get(key)
        if compiled is None:
            try:
                compiled = _Compiled(self.build(*key))
            except EmptyResultSet:
                return []
            kept[key] = compiled
            if len(kept) > self.size:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        return compiled.rows({})
