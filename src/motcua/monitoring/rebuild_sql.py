"""The full rebuild, set-based: the rollups recomputed by SQL over the dossiers and a few side
tables instead of replaying every event in Python.

``rollups.rebuild`` replays each dossier's history through ``facts.advance`` (the reference,
and the path of a rebuild of some days). Replaying ten million dossiers in Python takes hours;
this path reads what the services write next to each event — the dossier's own instants
(submitted, received, finished, returned, closed), its timeliness, its result, pauses,
extensions, files, and the rating events — and computes the same figures with a handful of
``INSERT … SELECT … GROUP BY`` statements. Only the dossiers whose appointment moved after
receipt (a supplement or payment pause during processing, an approved extension: the
"complex" ones, a few percent) are still replayed in Python, for their in-progress days, their
track and ``finished_extended``; their flows come from the SQL like everyone else's.

What it relies on (true of every history ``dossiers.services`` writes): each event's instant
is the one stored on the row it changed (``receive`` ↔ ``received_at``, ``record_result`` ↔
``Result.recorded_at`` and ``finished_at``, …), events of a dossier never go back in time,
files come only with ``attach_file`` events, and only receipt, pauses and extensions move the
appointment. ``tests/monitoring/test_rebuild_sql.py`` checks on random histories that both
paths give the same rollups, snapshots and tracks.

Two bookkeeping fields of the tracks differ from the replay for dossiers no longer in
progress: ``last_event`` is the highest event id at the time of the rebuild (a valid
high-water mark: every event up to it is counted) and ``last_at`` the latest of the dossier's
own instants. Open dossiers get both exactly (their late-from instant depends on them).

Same SQL on PostgreSQL and SQLite, but for a few expressions (``Dialect``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers.models import (
    ComponentFile,
    Dossier,
    DossierEvent,
    Extension,
    Pause,
    Result,
    SubmittedComponent,
)

from . import facts
from .models import (
    COARSE_MONTHLY,
    COUNTERS,
    DailyRollup,
    DossierTrack,
    MonthlyRollup,
    OpenSnapshot,
    SnapshotDay,
)

log = logging.getLogger(__name__)

VN = "Asia/Ho_Chi_Minh"
BATCH = 500
TEMP_TABLES = (
    "mon_complex",
    "mon_files",
    "mon_flow",
    "mon_days",
    "mon_range",
    "mon_open",
    "mon_open_py",
    "mon_last",
)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Dialect:
    """The few expressions PostgreSQL and SQLite write differently."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"
        self.true, self.false = ("TRUE", "FALSE") if self.pg else ("1", "0")

    def day(self, col: str) -> str:
        """The Việt Nam calendar day of a stored instant."""
        if self.pg:
            return f"(({col}) AT TIME ZONE '{VN}')::date"
        return f"date({col}, '+7 hours')"  # Việt Nam has no daylight saving time

    def month(self, col: str) -> str:
        if self.pg:
            return f"date_trunc('month', {col})::date"
        return f"date({col}, 'start of month')"

    def add_days(self, col: str, n: str) -> str:
        if self.pg:
            return f"(({col}) + ({n}))"
        return f"date({col}, ({n}) || ' days')"

    def seconds(self, later: str, earlier: str) -> str:
        """Whole seconds from ``earlier`` to ``later``, truncated (``int(td.total_seconds())``)."""
        if self.pg:
            return f"FLOOR(EXTRACT(EPOCH FROM ({later}) - ({earlier})))::bigint"

        def frac(col):
            return f"CAST(substr({col} || '.000000', 21, 6) AS INTEGER)"

        def whole(col):  # SQLite rounds fractions to milliseconds: cut them off first
            return f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER)"

        return (
            f"({whole(later)} - {whole(earlier)}"
            f" - (CASE WHEN {frac(later)} < {frac(earlier)} THEN 1 ELSE 0 END))"
        )

    def integer_score(self, data: str) -> tuple[str, str]:
        """(condition, value) of an integer ``score`` in a JSON column."""
        if self.pg:
            return (
                f"jsonb_typeof({data}->'score') = 'number' AND ({data}->>'score') ~ '^-?[0-9]+$'",
                f"({data}->>'score')::bigint",
            )
        return (
            f"json_type({data}, '$.score') = 'integer'",
            f"json_extract({data}, '$.score')",
        )

    def bool_int(self, condition: str) -> str:
        return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    def temp(self, name: str, columns: str) -> str:
        if self.pg:
            return f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP"
        return f"CREATE TEMP TABLE {name} ({columns})"

    def late_from_sql(self, due: str, last_at: str, exact: bool) -> str | None:
        """The instant from which an open dossier with this appointment is late, or None
        when the dialect cannot say it exactly (then Python computes it)."""
        if self.pg:
            threshold = (
                f"({due} + interval '1 microsecond')"
                if exact
                else f"((({due}) AT TIME ZONE '{VN}')::date + 1)::timestamp AT TIME ZONE '{VN}'"
            )
            return f"GREATEST({last_at}, {threshold})"
        return None


@dataclass
class SqlReport:
    dossiers: int = 0
    complex: int = 0
    rollup_rows: int = 0
    snapshot_days: int = 0
    seconds: float = 0.0
    steps: dict[str, float] | None = None


def rebuild_all(now: dt.datetime, *, progress: Callable[[str], None] | None = None) -> SqlReport:
    """Rewrite every rollup, snapshot and track from the dossiers (one transaction)."""
    from .rollups import _lock_tables

    started = time.perf_counter()
    report = SqlReport(steps={})
    say = progress or (lambda _m: None)
    today = facts.vn_day(now)
    first_at = Dossier.objects.order_by("submitted_at").values_list("submitted_at", flat=True)
    first_at = first_at.first()
    first = facts.vn_day(first_at) if first_at else today
    snap_last = today - dt.timedelta(days=1)
    d = Dialect(connection.vendor)
    exact = getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date") == "exact"

    def step(name: str, since: float) -> float:
        now_ = time.perf_counter()
        report.steps[name] = round(now_ - since, 2)
        say(f"{name}: {now_ - since:.1f} s")
        return now_

    with transaction.atomic():
        _lock_tables()
        with connection.cursor() as cursor:
            t = time.perf_counter()
            if d.pg:
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # Foreign-key checks run per statement: TRUNCATE and CREATE INDEX refuse a
                # table with checks still pending in the transaction.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            high_water = (
                DossierEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            )
            restore = _drop_keys(cursor) if d.pg else []
            _setup(cursor, d, first, snap_last)
            report.complex = _count(cursor, "SELECT COUNT(*) FROM mon_complex")
            t = step("complex and files", t)
            _flows(cursor, d)
            t = step("flows", t)
            complex_tracks, complex_opens, extended = _replay_complex(cursor, first, snap_last)
            t = step("complex replayed", t)
            if extended:
                cursor.executemany(
                    "INSERT INTO mon_flow (day, agency_id, procedure_id, channel, "
                    "finished_extended) VALUES (%s, %s, %s, %s, %s)",
                    [(day, a, p, c, n) for (day, a, p, c), n in extended.items()],
                )
            report.rollup_rows = _write_rollups(cursor, d)
            t = step("day and month rows", t)
            if first <= snap_last:
                _open_days(cursor, d, complex_opens, first, snap_last)
                report.snapshot_days = (snap_last - first).days + 1
            else:
                _clear(cursor, OpenSnapshot)
                _clear(cursor, SnapshotDay)
            t = step("in-progress snapshots", t)
            report.dossiers = _tracks(cursor, d, high_water, exact, complex_tracks)
            t = step("tracks", t)
            for statement in restore:
                cursor.execute(statement)
            if restore:
                step("indexes and keys", t)
            for name in TEMP_TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            if d.pg:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    report.seconds = time.perf_counter() - started
    return report


def _count(cursor, sql: str) -> int:
    cursor.execute(sql)
    return cursor.fetchone()[0]


def _clear(cursor, model) -> None:
    """Empty a monitoring table: TRUNCATE on PostgreSQL (readers wait for the rebuild's commit
    instead of reading an empty table), DELETE on SQLite."""
    if connection.vendor == "postgresql":
        cursor.execute(f"TRUNCATE {_t(model)}")
    else:
        cursor.execute(f"DELETE FROM {_t(model)}")


def _setup(cursor, d: Dialect, first: dt.date, snap_last: dt.date) -> None:
    for name in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(d.temp("mon_complex", "dossier_id bigint PRIMARY KEY"))
    cursor.execute(
        f"""INSERT INTO mon_complex (dossier_id)
        SELECT dossier_id FROM {_t(Pause)} WHERE stage = 'processing' OR kind = 'payment'
        UNION
        SELECT dossier_id FROM {_t(Extension)} WHERE state = 'approved'"""
    )
    cursor.execute(d.temp("mon_files", "dossier_id bigint PRIMARY KEY"))
    cursor.execute(
        f"""INSERT INTO mon_files (dossier_id)
        SELECT DISTINCT c.dossier_id FROM {_t(ComponentFile)} f
        JOIN {_t(SubmittedComponent)} c ON c.id = f.component_id"""
    )
    counters = ", ".join(
        f"{name} {'bigint' if name in ('result_seconds', 'rating_sum') else 'integer'} "
        "NOT NULL DEFAULT 0"
        for name in COUNTERS
    )
    cursor.execute(
        d.temp(
            "mon_flow",
            f"day date NOT NULL, agency_id bigint NOT NULL, procedure_id bigint NOT NULL, "
            f"channel varchar(10) NOT NULL, {counters}",
        )
    )
    cursor.execute(d.temp("mon_days", "day date PRIMARY KEY"))
    if first <= snap_last:
        days = [(first + dt.timedelta(days=n),) for n in range((snap_last - first).days + 1)]
        cursor.executemany("INSERT INTO mon_days (day) VALUES (%s)", days)
    _analyze(cursor, d, "mon_complex", "mon_files", "mon_days")


KEY = "COALESCE(d.deciding_agency_id, d.receiving_agency_id), d.procedure_id, d.channel"
FLOW_COLUMNS = "day, agency_id, procedure_id, channel"


def _analyze(cursor, d: Dialect, *tables: str) -> None:
    """Temporary tables are never analysed automatically: without statistics PostgreSQL
    plans joins on them blind."""
    if d.pg:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _flows(cursor, d: Dialect) -> None:
    """Every counter except ``finished_extended`` of the complex dossiers, one grouped INSERT
    per source (dossier instants, results, pauses, extensions, rating events)."""
    D, R, P, E = _t(Dossier), _t(Result), _t(Pause), _t(Extension)
    V, EV = _t(ProcedureVersion), _t(DossierEvent)
    b = d.bool_int
    cond, score = d.integer_score("e.data")
    statements = [
        (
            "submitted",
            f"SELECT {d.day('d.submitted_at')}, {KEY}, 1 FROM {D} d",
        ),
        (
            "received, with_fee, received_full_online, digitised, digitised_complete",
            f"""SELECT {d.day("d.received_at")}, {KEY}, 1, {b("d.fee_total > 0")},
                {b("v.online_mode = 'full'")}, {b("f.dossier_id IS NOT NULL")},
                {b("f.dossier_id IS NOT NULL AND (r.id IS NULL OR r.file <> '')")}
            FROM {D} d JOIN {V} v ON v.id = d.version_id
            LEFT JOIN mon_files f ON f.dossier_id = d.id
            LEFT JOIN {R} r ON r.dossier_id = d.id
            WHERE d.received_at IS NOT NULL""",
        ),
        (
            "refused, withdrawn, stopped",
            f"""SELECT {d.day("d.closed_at")}, {KEY}, {b("d.status = 3")}, {b("d.status = 7")},
                {b("d.status = 8")}
            FROM {D} d WHERE d.status IN (3, 7, 8) AND d.closed_at IS NOT NULL""",
        ),
        (
            "finished_early, finished_on_time, finished_late",
            f"""SELECT {d.day("d.finished_at")}, {KEY}, {b("d.timeliness = 'early'")},
                {b("d.timeliness = 'on_time'")}, {b("d.timeliness = 'late'")}
            FROM {D} d WHERE d.finished_at IS NOT NULL AND d.received_at IS NOT NULL""",
        ),
        (
            "results, eresults, result_seconds",
            f"""SELECT {d.day("r.recorded_at")}, {KEY}, 1, {b("r.file <> ''")},
                {d.seconds("r.recorded_at", "d.received_at")}
            FROM {R} r JOIN {D} d ON d.id = r.dossier_id WHERE d.received_at IS NOT NULL""",
        ),
        (
            "returned",
            f"SELECT {d.day('d.returned_at')}, {KEY}, 1 FROM {D} d WHERE d.returned_at IS NOT NULL",
        ),
        (
            "supplement_requests",
            f"""SELECT {d.day("p.started_at")}, {KEY}, 1
            FROM {P} p JOIN {D} d ON d.id = p.dossier_id WHERE p.kind = 'supplement'""",
        ),
        (
            "extensions",
            f"""SELECT {d.day("x.decided_at")}, {KEY}, 1
            FROM {E} x JOIN {D} d ON d.id = x.dossier_id
            WHERE x.state = 'approved' AND x.decided_at IS NOT NULL""",
        ),
        (
            "ratings, rating_sum",
            f"""SELECT {d.day("e.at")}, {KEY}, 1, {score}
            FROM {EV} e JOIN {D} d ON d.id = e.dossier_id
            WHERE e.action = 'rate' AND {cond}""",
        ),
    ]
    for columns, select in statements:
        # Grouped as it is read: one row per day and key, not one per dossier.
        n = len(columns.split(","))
        names = ", ".join(f"c{i}" for i in range(n))
        sums = ", ".join(f"SUM(c{i})" for i in range(n))
        cursor.execute(
            f"""WITH s (day, agency_id, procedure_id, channel, {names}) AS ({select})
            INSERT INTO mon_flow ({FLOW_COLUMNS}, {columns})
            SELECT day, agency_id, procedure_id, channel, {sums} FROM s
            GROUP BY day, agency_id, procedure_id, channel"""
        )
    _analyze(cursor, d, "mon_flow")


def _write_rollups(cursor, d: Dialect) -> int:
    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    names = ", ".join(COUNTERS)
    nonzero = " OR ".join(f"SUM({name}) <> 0" for name in COUNTERS)
    _clear(cursor, DailyRollup)
    cursor.execute(
        f"""INSERT INTO {_t(DailyRollup)} (day, agency_id, procedure_id, channel, {names})
        SELECT day, agency_id, procedure_id, channel, {sums} FROM mon_flow
        GROUP BY day, agency_id, procedure_id, channel HAVING {nonzero}"""
    )
    rows = cursor.rowcount
    _clear(cursor, MonthlyRollup)
    cursor.execute(
        f"""INSERT INTO {_t(MonthlyRollup)} (month, agency_id, procedure_id, channel, {names})
        SELECT {d.month("day")}, agency_id, procedure_id, channel, {sums}
        FROM {_t(DailyRollup)} GROUP BY {d.month("day")}, agency_id, procedure_id, channel"""
    )
    for model, keys in COARSE_MONTHLY:
        _clear(cursor, model)
        columns = ", ".join(keys)
        cursor.execute(
            f"""INSERT INTO {_t(model)} (month, {columns}, {names})
            SELECT month, {columns}, {sums} FROM {_t(MonthlyRollup)}
            GROUP BY month, {columns}"""
        )
    return rows


def _replay_complex(cursor, first: dt.date, snap_last: dt.date):
    """Replay the complex dossiers: their tracks, their in-progress days, finished_extended."""
    from .rollups import Calendars, _count_open, _track_values, load_events, load_facts

    cursor.execute("SELECT dossier_id FROM mon_complex ORDER BY dossier_id")
    ids = [row[0] for row in cursor.fetchall()]
    tracks: list[DossierTrack] = []
    opens: dict[tuple, dict[str, int]] = {}
    extended: dict[tuple, int] = {}
    calendars = Calendars()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        dossier_facts = load_facts(batch)
        events = load_events(batch)
        for dossier_id in batch:
            fact = dossier_facts.get(dossier_id)
            history = events.get(dossier_id, [])
            if fact is None or not history:
                continue
            by_day: dict = {}

            def segment(state, seg_start, seg_end, key=fact.key, by_day=by_day):
                for day, cls in facts.open_days(state, seg_start, seg_end, first, snap_last):
                    _count_open(by_day.setdefault(day, {}), key, cls)

            state, deltas, last_id = facts.replay(
                history, fact, calendars.of(fact.receiving_agency_id), on_segment=segment
            )
            for day, by_key in by_day.items():
                for key, counts in by_key.items():
                    into = opens.setdefault((day, *key), {"in": 0, "late": 0, "ext": 0})
                    into["in"] += counts["open_in_time"]
                    into["late"] += counts["open_late"]
                    into["ext"] += counts["open_extended"]
            for day, counts in deltas.items():
                n = counts.get("finished_extended", 0)
                if n:
                    key = (day, *fact.key)
                    extended[key] = extended.get(key, 0) + n
            tracks.append(
                DossierTrack(dossier_id=dossier_id, **_track_values(fact, state, last_id))
            )
    return tracks, opens, extended


def _open_days(cursor, d: Dialect, complex_opens: dict, first: dt.date, last: dt.date) -> None:
    """In-progress dossiers at the end of each past day: ranges of days per simple dossier
    turned into +1/−1 steps, summed along the days, spread over the days they hold; plus
    the complex dossiers' days from the replay."""
    D = _t(Dossier)
    exact = getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date") == "exact"
    # a: first open day; b: last open day; l: first late day (appointment day + 1 by date).
    late_day = d.day("d.due_at") if exact else d.add_days(d.day("d.due_at"), "1")
    cursor.execute(
        d.temp(
            "mon_range",
            "agency_id bigint NOT NULL, procedure_id bigint NOT NULL, "
            "channel varchar(10) NOT NULL, a date NOT NULL, b date NOT NULL, l date",
        )
    )
    cursor.execute(
        f"""INSERT INTO mon_range (agency_id, procedure_id, channel, a, b, l)
        SELECT agency_id, procedure_id, channel, a, b, l FROM (
            SELECT COALESCE(d.deciding_agency_id, d.receiving_agency_id) AS agency_id,
                d.procedure_id AS procedure_id, d.channel AS channel,
                CASE WHEN {d.day("d.received_at")} < %(first)s THEN %(first)s
                     ELSE {d.day("d.received_at")} END AS a,
                CASE WHEN d.finished_at IS NULL THEN %(last)s
                     WHEN {d.add_days(d.day("d.finished_at"), "-1")} > %(last)s THEN %(last)s
                     ELSE {d.add_days(d.day("d.finished_at"), "-1")} END AS b,
                CASE WHEN d.due_at IS NULL THEN NULL ELSE {late_day} END AS l
            FROM {D} d
            WHERE d.received_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM mon_complex c WHERE c.dossier_id = d.id)
        ) r WHERE a <= b""",
        {"first": first, "last": last},
    )
    cursor.execute(
        d.temp(
            "mon_open",
            "agency_id bigint NOT NULL, procedure_id bigint NOT NULL, "
            "channel varchar(10) NOT NULL, cls smallint NOT NULL, day date NOT NULL, "
            "delta integer NOT NULL",
        )
    )
    in_end = f"(CASE WHEN l IS NULL OR l > b THEN b ELSE {d.add_days('l', '-1')} END)"
    late_start = "(CASE WHEN l > a THEN l ELSE a END)"
    for cls, start, end, where in (
        (0, "a", in_end, "a <= " + in_end),
        (1, late_start, "b", f"l IS NOT NULL AND {late_start} <= b"),
    ):
        cursor.execute(
            f"""INSERT INTO mon_open (agency_id, procedure_id, channel, cls, day, delta)
            SELECT agency_id, procedure_id, channel, {cls}, day, SUM(delta) FROM (
                SELECT agency_id, procedure_id, channel, {start} AS day, 1 AS delta
                FROM mon_range WHERE {where}
                UNION ALL
                SELECT agency_id, procedure_id, channel, {d.add_days(end, "1")} AS day,
                    -1 AS delta
                FROM mon_range WHERE {where}
            ) s GROUP BY agency_id, procedure_id, channel, day"""
        )
    _analyze(cursor, d, "mon_open")
    # Running totals per key and class, each held from its day to the next change.
    held = """
        SELECT agency_id, procedure_id, channel, cls, day AS since,
            SUM(delta) OVER (PARTITION BY agency_id, procedure_id, channel, cls ORDER BY day
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n,
            LEAD(day) OVER (PARTITION BY agency_id, procedure_id, channel, cls ORDER BY day)
                AS until
        FROM (SELECT agency_id, procedure_id, channel, cls, day, SUM(delta) AS delta
              FROM mon_open GROUP BY agency_id, procedure_id, channel, cls, day) g"""
    if complex_opens:
        cursor.execute(
            d.temp(
                "mon_open_py",
                "day date NOT NULL, agency_id bigint NOT NULL, procedure_id bigint NOT NULL, "
                "channel varchar(10) NOT NULL, n_in integer, n_late integer, n_ext integer",
            )
        )
        cursor.executemany(
            "INSERT INTO mon_open_py VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (day, a, p, c, v["in"], v["late"], v["ext"])
                for (day, a, p, c), v in complex_opens.items()
            ],
        )
        extra = """UNION ALL SELECT day, agency_id, procedure_id, channel, n_in, n_late, n_ext
                   FROM mon_open_py"""
    else:
        extra = ""
    _clear(cursor, OpenSnapshot)
    cursor.execute(
        f"""INSERT INTO {_t(OpenSnapshot)}
            (day, agency_id, procedure_id, channel, open_in_time, open_late, open_extended)
        SELECT day, agency_id, procedure_id, channel, SUM(n_in), SUM(n_late), SUM(n_ext) FROM (
            SELECT m.day, h.agency_id, h.procedure_id, h.channel,
                CASE WHEN h.cls = 0 THEN h.n ELSE 0 END AS n_in,
                CASE WHEN h.cls = 1 THEN h.n ELSE 0 END AS n_late,
                0 AS n_ext
            FROM ({held}) h
            JOIN mon_days m ON m.day >= h.since AND m.day < COALESCE(h.until, %(after)s)
            WHERE h.n > 0
            {extra}
        ) u GROUP BY day, agency_id, procedure_id, channel
        HAVING SUM(n_in) > 0 OR SUM(n_late) > 0 OR SUM(n_ext) > 0""",
        {"after": last + dt.timedelta(days=1)},
    )
    if complex_opens:
        cursor.execute("DROP TABLE IF EXISTS mon_open_py")
    _clear(cursor, SnapshotDay)
    taken = dt.datetime.now(dt.UTC)
    cursor.execute(
        f"INSERT INTO {_t(SnapshotDay)} (day, taken_at) SELECT day, %s FROM mon_days", [taken]
    )


def _tracks(cursor, d: Dialect, high_water: int, exact: bool, complex_tracks) -> int:
    """Every dossier's track: the simple ones by one INSERT … SELECT, the complex ones from
    their replay. On PostgreSQL the track indexes are dropped and rebuilt around it."""
    D, R, P, EV = _t(Dossier), _t(Result), _t(Pause), _t(DossierEvent)
    T = _t(DossierTrack)
    _clear(cursor, DossierTrack)
    # Exact last event and instant of the dossiers in progress (their late-from needs it).
    stamp = "timestamp with time zone" if d.pg else "timestamp"
    cursor.execute(
        d.temp("mon_last", f"dossier_id bigint PRIMARY KEY, last_event bigint, last_at {stamp}")
    )
    cursor.execute(
        f"""INSERT INTO mon_last (dossier_id, last_event, last_at)
        SELECT e.dossier_id, MAX(e.id), MAX(e.at) FROM {EV} e
        JOIN {D} d ON d.id = e.dossier_id
        WHERE d.received_at IS NOT NULL AND d.finished_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM mon_complex c WHERE c.dossier_id = d.id)
        GROUP BY e.dossier_id"""
    )
    greatest = "GREATEST" if d.pg else "MAX"
    coalesce_times = ", ".join(
        f"COALESCE(d.{c}, d.submitted_at)"
        for c in ("submitted_at", "received_at", "finished_at", "returned_at", "closed_at")
    )
    last_at = f"COALESCE(m.last_at, {greatest}({coalesce_times}))"
    is_open = "(d.received_at IS NOT NULL AND d.finished_at IS NULL)"
    late_from = d.late_from_sql("d.due_at", last_at, exact)
    late_expr = (
        f"CASE WHEN {is_open} AND d.due_at IS NOT NULL THEN {late_from} ELSE NULL END"
        if late_from
        else "NULL"
    )
    files = "EXISTS (SELECT 1 FROM mon_files f WHERE f.dossier_id = d.id)"
    digitised = f"(d.received_at IS NOT NULL AND {files})"
    cursor.execute(
        f"""INSERT INTO {T} (dossier_id, agency_id, procedure_id, channel, last_event, last_at,
            status, received_at, finished_at, due_at, base_due_at, extended, paused_at,
            pause_stops_clock, supplements, has_files, digitised, digitised_complete, eresult,
            is_open, late_from, late_from_base, finished_as)
        SELECT d.id, COALESCE(d.deciding_agency_id, d.receiving_agency_id), d.procedure_id,
            d.channel, COALESCE(m.last_event, %s), {last_at}, d.status, d.received_at,
            d.finished_at, d.due_at, d.due_at, {d.false}, p.started_at,
            CASE WHEN p.id IS NULL THEN {d.false} ELSE p.stops_clock END, 0,
            {files}, {digitised},
            {digitised} AND (r.id IS NULL OR r.file <> ''),
            CASE WHEN r.id IS NULL THEN NULL ELSE (r.file <> '') END,
            {is_open}, {late_expr}, {late_expr},
            CASE WHEN d.finished_at IS NULL THEN '' ELSE d.timeliness END
        FROM {D} d
        LEFT JOIN mon_last m ON m.dossier_id = d.id
        LEFT JOIN {R} r ON r.dossier_id = d.id
        LEFT JOIN {P} p ON p.dossier_id = d.id AND p.ended_at IS NULL
        WHERE NOT EXISTS (SELECT 1 FROM mon_complex c WHERE c.dossier_id = d.id)""",
        [high_water],
    )
    written = cursor.rowcount
    if late_from is None:
        _late_from_in_python(cursor)
    DossierTrack.objects.bulk_create(complex_tracks, batch_size=2000)
    return written + len(complex_tracks)


def _late_from_in_python(cursor) -> None:
    """SQLite: the late-from instant of the open tracks, by the replay's own rule."""
    from .facts import TrackState, _late_from

    rows = list(
        DossierTrack.objects.filter(is_open=True, due_at__isnull=False, supplements=0)
        .exclude(dossier_id__in=_complex_ids(cursor))
        .values_list("pk", "due_at", "last_at")
    )
    state = TrackState()
    for pk, due, last_at in rows:
        value = _late_from(state, due, last_at)
        DossierTrack.objects.filter(pk=pk).update(late_from=value, late_from_base=value)


def _complex_ids(cursor) -> list[int]:
    cursor.execute("SELECT dossier_id FROM mon_complex")
    return [row[0] for row in cursor.fetchall()]


REWRITTEN = (DailyRollup, MonthlyRollup, OpenSnapshot, DossierTrack)


def _drop_keys(cursor) -> list[str]:
    """PostgreSQL: drop the foreign keys, unique constraints and secondary indexes of the
    tables rewritten (emptied by TRUNCATE), and return the statements that put them back.

    Checking a foreign key row by row costs tens of microseconds per row and key (millions of
    rows here); put back ``NOT VALID`` then validated, it is checked by one join per key.
    Indexes built once over the finished table are faster than maintained row by row.
    """
    restore_keys, restore_indexes = [], []
    for model in REWRITTEN:
        table = model._meta.db_table
        cursor.execute(
            """SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('f', 'u')""",
            [table],
        )
        for name, kind, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            if kind == "f":
                restore_keys.append(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID'
                )
                restore_keys.append(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')
            else:
                restore_indexes.append(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
        restore_indexes += _drop_indexes(cursor, model)
    return restore_indexes + restore_keys


def _drop_indexes(cursor, model) -> list[str]:
    """PostgreSQL: drop a table's secondary indexes, return the statements rebuilding them."""
    cursor.execute(
        """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
        WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND c.oid IS NULL""",
        [model._meta.db_table],
    )
    restore = []
    for name, definition in cursor.fetchall():
        cursor.execute(f'DROP INDEX "{name}"')
        restore.append(definition)
    return restore
