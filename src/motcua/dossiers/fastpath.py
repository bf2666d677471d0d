"""The intake's write on PostgreSQL in one statement (used by ``services.submit``).

``services.submit`` checks everything first (agency, procedure, variant, channel, the
applicant's data, the components) and builds the rows it is about to write as unsaved model
instances: the dossier, its components, the ``submit`` event and its outbox rows
(``services._event_rows``, what ``_record`` writes). On PostgreSQL, for the common shape (no
owner, or an owner who is not the applicant), this module writes them with one
data-modifying statement instead of the ORM path's round trips (BEGIN, a savepoint, the
applicant's SELECT … FOR UPDATE and INSERT or UPDATE, an INSERT per table, COMMIT)::

    WITH p AS (SELECT %s::jsonb AS j),          -- every value, as one JSON parameter
         ap AS (INSERT INTO applicant … SELECT … FROM p, jsonb_to_record(p.j -> 'ap') …
                ON CONFLICT (personal_id | tax_code) DO UPDATE … RETURNING …),
         dos AS (INSERT INTO dossier … SELECT … FROM p, ap, jsonb_to_record(…) RETURNING id),
         com AS (INSERT INTO submitted component … FROM p, dos, jsonb_to_recordset(…)),
         ev AS (INSERT INTO event … FROM p, dos, jsonb_to_record(…) RETURNING id),
         ob AS (INSERT INTO outbox … FROM p, dos, ev, jsonb_to_recordset(…))
    SELECT ap.…, dos.id, ev.id, the component and outbox ids FROM ap, dos, ev

The statement's text depends only on the shape (organisation or not, an owner or not, a key
or not), never on the values or the number of components, so psycopg converts it once and
PostgreSQL may keep its plan. Outside a transaction the statement is its own transaction
(one round trip, one durable commit); inside one (a caller's ``transaction.atomic``, the test
runner) it runs under a savepoint, as the ORM path does.

The rows are exactly the ORM path's (``tests/dossiers/test_fastpath.py`` writes the same
submissions both ways and compares every stored column and the answer):

- every column and value comes from the model fields (``pre_save`` for the ``auto_now``
  times, ``get_db_prep_save`` for the value, the column's own type), so a field added to a
  model is written here too; an over-long value is refused by the column as with the ORM;
- the returning applicant is found by personal id (individuals) or tax code (organisations)
  through the same unique constraints and refreshed as ``services.upsert_applicant`` does: a
  non-empty value replaces the stored one, an empty one never erases it, ``updated_at`` moves
  only if something changed, ``search_text`` follows the name;
- with an idempotency key nothing at all is written if a dossier already holds the key (the
  caller answers with that dossier); two requests racing with the same key make the second
  statement fail on the key's unique constraint, so it is rolled back whole, and the caller's
  ``IntegrityError`` fallback answers with the first one's dossier;
- ``dossier_changed`` is sent after the commit by the caller (``services._announce``).

Model signals: the ORM path sends ``pre_save``/``post_save`` for the applicant (when created
or changed), the dossier and the event; this statement cannot, so ``applies`` says no (and
``submit`` takes the ORM path) as soon as any receiver listens to them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import psycopg
from django.db import connections, models, transaction
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.models.signals import post_save, pre_save
from psycopg.pq import Format

from motcua.core.text import fold

from .models import Applicant, Dossier, DossierEvent, OutboxMessage, SubmittedComponent

# Saved one by one by the ORM path (signals sent); components and outbox rows are bulk-created.
_SIGNALLED = (Applicant, Dossier, DossierEvent)

# The applicant's unique constraints (``Applicant.Meta.constraints``) as ON CONFLICT targets.
_CONFLICT_PERSONAL_ID = '("personal_id") WHERE NOT ("personal_id" = \'\')'
_CONFLICT_TAX_CODE = '("tax_code") WHERE "personal_id" = \'\' AND NOT ("tax_code" = \'\')'

# What ``upsert_applicant`` refreshes on a returning applicant (``clean_applicant``'s keys).
_REFRESHED = (
    "kind",
    "name",
    "personal_id",
    "tax_code",
    "phone",
    "email",
    "province",
    "commune",
    "address_line",
)


def applies(using: str = "default") -> bool:
    """Whether the one-statement intake may be used on this connection."""
    if connections[using].vendor != "postgresql":
        return False
    return not any(
        signal.has_listeners(model) for model in _SIGNALLED for signal in (pre_save, post_save)
    )


def same_person(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two cleaned applicants (``clean_applicant``) are the same row."""
    if a["personal_id"] or b["personal_id"]:
        return a["personal_id"] == b["personal_id"]
    return a["tax_code"] == b["tax_code"]


# --- columns and values ---------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A database value as JSON; PostgreSQL reads it back with the column type's input."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")


# Fields whose database value is the Python value itself for these exact types (None too):
# ``get_db_prep_save`` is skipped for them; anything else goes through it.
_TEXT = (models.CharField, models.TextField, models.EmailField)
_INTEGER = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.AutoField,
    models.BigAutoField,
)


def _as_is(field: models.Field) -> tuple[type, ...]:
    target = field.target_field if field.is_relation else field
    kind = type(target)
    if field.is_relation and kind in _INTEGER:
        return (int,)
    if field.is_relation:
        return ()
    if kind in _TEXT:
        return (str,)
    if kind in _INTEGER:
        return (int,)
    if kind is models.BooleanField:
        return (bool,)
    return ()


class _Columns:
    """A model's insertable columns, their types, and its rows as JSON objects."""

    def __init__(self, model: type[models.Model], connection, links: Sequence[str]) -> None:
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
        self.names = ", ".join(quote(f.column) for f in self.fields)
        self.returned = [model._meta.pk, *self.fields]
        self.returning = ", ".join(quote(f.column) for f in self.returned)
        # Columns whose value is another row of the same statement (set in SQL, not sent).
        self.links = frozenset(links)
        self.own = [f for f in self.fields if f.attname not in self.links]
        # The record's column types without length or precision ("varchar(255)" → "varchar"):
        # an over-long value is refused by the table's column, as with the ORM, never cut.
        types = [re.sub(r"\(.*?\)", "", f.db_type(connection)) for f in self.own]
        self.record = ", ".join(
            f"{quote(f.attname)} {t}" for f, t in zip(self.own, types, strict=True)
        )
        self.plan = [
            (
                f,
                f.attname,
                isinstance(f, models.JSONField),
                type(f).pre_save is not models.Field.pre_save,  # auto_now and the like
                _as_is(f),
            )
            for f in self.own
        ]

    def row(self, obj: models.Model, connection) -> dict[str, Any]:
        """What the ORM would insert for ``obj`` (``pre_save`` sets its ``auto_now`` times)."""
        out = {}
        for field, attname, is_json, own_pre_save, as_is in self.plan:
            value = field.pre_save(obj, True) if own_pre_save else getattr(obj, attname)
            if is_json:
                if field.encoder is not None and value is not None:
                    value = json.loads(json.dumps(value, cls=field.encoder))
            elif value is None or type(value) in as_is:
                pass  # what get_db_prep_save gives back unchanged (the bulk of a row)
            else:
                value = _jsonable(field.get_db_prep_save(value, connection))
            out[attname] = value
        return out

    def select(self, links: dict[str, str], record: str = "r") -> str:
        """The INSERT's select list: the record's columns, or SQL for the linked ones."""
        return ", ".join(links.get(f.attname) or f'{record}."{f.attname}"' for f in self.fields)


# Columns set in SQL from the rows the same statement writes (not sent as values).
_LINKS: dict[type[models.Model], tuple[str, ...]] = {
    Applicant: (),
    Dossier: ("applicant_id", "owner_id"),
    SubmittedComponent: ("dossier_id",),
    DossierEvent: ("dossier_id",),
    OutboxMessage: ("dossier_id", "event_id"),
}
_columns: dict[tuple[str, type[models.Model]], _Columns] = {}


def _cols(model: type[models.Model], connection) -> _Columns:
    key = (connection.alias, model)
    found = _columns.get(key)
    if found is None:
        found = _columns[key] = _Columns(model, connection, _LINKS[model])
    return found


# --- the statement --------------------------------------------------------------------------

_statements: dict[tuple, str] = {}


def _applicant_cte(name: str, cols: _Columns, organisation: bool, guard: str) -> str:
    """One applicant's ``INSERT … ON CONFLICT DO UPDATE``, refreshed like ``upsert_applicant``."""
    new = []
    for key in _REFRESHED:
        field = Applicant._meta.get_field(key)
        column = f'"{field.column}"'
        if field.is_relation:
            value = f"COALESCE(EXCLUDED.{column}, t.{column})"
        else:  # an empty value never erases a known one
            value = f"CASE WHEN EXCLUDED.{column} <> '' THEN EXCLUDED.{column} ELSE t.{column} END"
        new.append((column, value))
    changed = " OR ".join(f"t.{column} IS DISTINCT FROM {value}" for column, value in new)
    sets = [f"{column} = {value}" for column, value in new]
    sets.append(
        '"search_text" = CASE WHEN t."name" IS DISTINCT FROM EXCLUDED."name" '
        'THEN EXCLUDED."search_text" ELSE t."search_text" END'
    )
    sets.append(
        f'"updated_at" = CASE WHEN {changed} THEN EXCLUDED."updated_at" ELSE t."updated_at" END'
    )
    target = _CONFLICT_TAX_CODE if organisation else _CONFLICT_PERSONAL_ID
    returning = ", ".join(f't."{f.column}"' for f in cols.returned)
    return (
        f"{name} AS (INSERT INTO {cols.table} AS t ({cols.names}) "
        f"SELECT {cols.select({})} FROM p, jsonb_to_record(p.j -> '{name}') AS r({cols.record})"
        f"{guard} ON CONFLICT {target} DO UPDATE SET {', '.join(sets)} RETURNING {returning})"
    )


def _statement(connection, organisation: bool, owner: bool | None, keyed: bool) -> str:
    """The statement for one shape (``owner``: None, or whether the owner is an organisation)."""
    shape = (connection.alias, organisation, owner, keyed)
    found = _statements.get(shape)
    if found is not None:
        return found
    acols = _cols(Applicant, connection)
    guard = ""
    if keyed:
        dossiers = connection.ops.quote_name(Dossier._meta.db_table)
        guard = (
            f" WHERE NOT EXISTS (SELECT 1 FROM {dossiers} "
            "WHERE \"idempotency_key\" = p.j ->> 'key')"
        )
    ctes = ["p AS (SELECT %s::jsonb AS j)", _applicant_cte("ap", acols, organisation, guard)]
    people = "ap"
    links = {"applicant_id": 'ap."id"'}
    if owner is not None:
        ctes.append(_applicant_cte("ow", acols, owner, guard))
        people = "ap, ow"
        links["owner_id"] = 'ow."id"'
    else:
        links["owner_id"] = "NULL"
    dcols = _cols(Dossier, connection)
    ccols = _cols(SubmittedComponent, connection)
    ecols = _cols(DossierEvent, connection)
    ocols = _cols(OutboxMessage, connection)
    to_dossier = {"dossier_id": 'dos."id"'}
    to_event = {**to_dossier, "event_id": 'ev."id"'}
    ctes += [
        f"dos AS (INSERT INTO {dcols.table} ({dcols.names}) SELECT {dcols.select(links)} "
        f"FROM p, {people}, jsonb_to_record(p.j -> 'dos') AS r({dcols.record}) "
        'RETURNING "id")',
        f"com AS (INSERT INTO {ccols.table} ({ccols.names}) SELECT {ccols.select(to_dossier)} "
        f"FROM p, dos, jsonb_to_recordset(p.j -> 'com') AS r({ccols.record}, k int) "
        'ORDER BY r.k RETURNING "id", "order")',
        f"ev AS (INSERT INTO {ecols.table} ({ecols.names}) SELECT {ecols.select(to_dossier)} "
        f"FROM p, dos, jsonb_to_record(p.j -> 'ev') AS r({ecols.record}) RETURNING \"id\")",
        f"ob AS (INSERT INTO {ocols.table} ({ocols.names}) "
        f"SELECT {ocols.select(to_event)} "
        f"FROM p, dos, ev, jsonb_to_recordset(p.j -> 'ob') AS r({ocols.record}, k int) "
        'ORDER BY r.k RETURNING "id")',
    ]
    returned = ", ".join(
        f'{name}."{f.column}"' for name in people.split(", ") for f in acols.returned
    )
    found = _statements[shape] = (
        "WITH " + ", ".join(ctes) + f' SELECT {returned}, dos."id", ev."id", '
        'ARRAY(SELECT com."id" FROM com ORDER BY com."order"), '
        f'ARRAY(SELECT ob."id" FROM ob ORDER BY ob."id") FROM {people}, dos, ev'
    )
    return found


def insert_submission(
    *,
    dossier: Dossier,
    applicant: dict[str, Any],
    owner: dict[str, Any] | None,
    components: Sequence[SubmittedComponent],
    event: DossierEvent,
    messages: Sequence[OutboxMessage],
    idempotency_key: str | None,
    using: str = "default",
) -> bool:
    """Write a submission in one statement; False (nothing written) if the key is taken.

    ``applicant`` and ``owner`` are ``clean_applicant`` values (``owner`` not the applicant:
    see ``same_person``); the model instances are unsaved and get their primary keys.
    """
    connection = connections[using]
    sql = _statement(
        connection,
        organisation=not applicant["personal_id"],
        owner=None if owner is None else not owner["personal_id"],
        keyed=bool(idempotency_key),
    )
    acols = _cols(Applicant, connection)
    people = [applicant] if owner is None else [applicant, owner]
    values: dict[str, Any] = {"key": idempotency_key}
    for name, person in zip(("ap", "ow"), people, strict=False):
        row = Applicant(**person)
        # Applicant.save keeps the folded name for search; a refreshed row takes it with the name.
        row.search_text = fold(row.name)[:255]
        values[name] = acols.row(row, connection)
    values["dos"] = _cols(Dossier, connection).row(dossier, connection)
    ccols = _cols(SubmittedComponent, connection)
    values["com"] = [{**ccols.row(c, connection), "k": k} for k, c in enumerate(components)]
    values["ev"] = _cols(DossierEvent, connection).row(event, connection)
    ocols = _cols(OutboxMessage, connection)
    values["ob"] = [{**ocols.row(m, connection), "k": k} for k, m in enumerate(messages)]
    params = [json.dumps(values, separators=(",", ":"))]

    with _cursor(connection) as cursor:
        if connection.in_atomic_block:
            # Under the caller's transaction: a savepoint, so a lost idempotency race leaves it
            # usable for the fallback read, as the ORM path's nested atomic block does.
            with transaction.atomic(using=using):
                cursor.execute(sql, params)
                row = cursor.fetchone()
        else:
            # Autocommit: the statement is its own transaction.
            cursor.execute(sql, params)
            row = cursor.fetchone()
    if row is None:
        return False

    # The applicant (and owner) as stored now: a returning one keeps what the input left empty.
    n = len(acols.returned)
    attnames = [f.attname for f in acols.returned]
    stored = []
    for k, person in enumerate(people):
        found = Applicant.from_db(using, attnames, row[k * n : (k + 1) * n])
        for name in ("province", "commune"):  # the cached units the input named: no query
            unit = person.get(name)
            if unit is not None and getattr(found, f"{name}_id") == unit.pk:
                setattr(found, name, unit)
        stored.append(found)
    dossier_id, event_id, component_pks, message_pks = row[len(people) * n :]
    _saved(dossier, dossier_id, using)
    dossier.applicant = stored[0]
    dossier.owner = stored[1] if owner is not None else None
    for obj, pk in zip(components, component_pks, strict=True):
        _saved(obj, pk, using)
        obj.dossier = dossier
    _saved(event, event_id, using)
    event.dossier = dossier
    for obj, pk in zip(messages, message_pks, strict=True):
        _saved(obj, pk, using)
        obj.dossier = dossier
        obj.event = event
    return True


_NEVER_BY_COUNT = 1 << 30


class _PreparedCursor(psycopg.Cursor):
    """Server-side parameters, the statement prepared once per connection (``prepare=True``)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepares(connection) -> bool:
    """Whether the statement is kept prepared: on persistent connections (``CONN_MAX_AGE``),
    unless they go through a transaction pooler (``DISABLE_SERVER_SIDE_CURSORS``, as for
    PgBouncer), where a prepared statement may not outlive the transaction."""
    settings = connection.settings_dict
    return settings.get("CONN_MAX_AGE") != 0 and not settings.get("DISABLE_SERVER_SIDE_CURSORS")


def _cursor(connection):
    """Django's cursor (health check, error wrapping, execute wrappers, query logging), on a
    prepared-statement psycopg cursor when ``prepares``.

    Planning the five inserts costs PostgreSQL about as much CPU as running them; prepared,
    it is planned once per connection (``benchmarks/README.md``, bench_api third round).
    """
    cursor = connection.cursor()
    if prepares(connection):
        if connection.connection.prepare_threshold is None:
            # Django turns psycopg's preparing off (None); with a threshold no query of
            # Django's cursors (client-side parameters) is ever prepared, only ``prepare=True``.
            connection.connection.prepare_threshold = _NEVER_BY_COUNT
        raw = _PreparedCursor(connection.connection)
        # As Django's create_cursor: timestamps in the connection's time zone.
        oid = psycopg.adapters.types["timestamptz"].oid
        if connection.timezone != raw.adapters.get_loader(oid, Format.TEXT).timezone:
            register_tzloader(connection.timezone, raw)
        cursor.cursor.close()
        cursor.cursor = raw
    return cursor


def _saved(obj: models.Model, pk: int, using: str) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
