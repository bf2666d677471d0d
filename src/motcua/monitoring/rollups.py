"""Keeping the rollups: the outbox handler, the rebuild, the daily in-progress snapshot.

**Incremental.** Every dossier event writes a ``monitor.<action>`` outbox message in the
transaction of the change. ``handle_message`` locks the dossier's ``DossierTrack`` and applies,
in id order, every event of the dossier after the track's ``last_event`` up to the message's
event, then moves ``last_event`` — the rollup increments, the track and the violations found
are written in one transaction. So a message delivered twice (a worker died after the commit
and before marking it delivered) finds its event already applied and changes nothing, and a
message delivered before an earlier one (the earlier one failed and waits for its retry)
applies the earlier event first.

**Rebuild.** ``rebuild`` replays the whole history of every dossier alive in the range through
the same ``facts.advance`` and rewrites the rows of the range, month by month, each month in
one transaction holding the monitoring tables (``_lock_tables``).

**In progress.** "In progress, in time / late" is a state, not a flow. For today it is read
from the open tracks (``live_open``: one indexed query). For a past day it is the
``OpenSnapshot`` of that day, written once the day is over (``take_snapshot``, hourly task) by
replaying the histories of the dossiers open at the end of the day up to that instant — the
same replay the rebuild uses, so both give the same numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from motcua.agencies.calendar import calendar_for
from motcua.agencies.models import Agency
from motcua.core.worktime import WorkCalendar
from motcua.dossiers.models import Dossier, DossierEvent, OutboxMessage

from . import conf, facts
from .facts import DossierFacts, TrackState, day_cutoff, day_start, vn_day
from .models import (
    COARSE_MONTHLY,
    COUNTERS,
    OPEN_COUNTERS,
    DailyRollup,
    DossierTrack,
    MonthlyAgencyRollup,
    MonthlyProcedureRollup,
    MonthlyRollup,
    OpenSnapshot,
    SnapshotDay,
)
from .violations import check_events

log = logging.getLogger(__name__)

BATCH = 500
Key = tuple[int, int, str]  # agency, procedure, channel


# --- reading the raw data -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    id: int
    dossier_id: int
    action: str
    at: dt.datetime
    status_after: int
    data: dict


_EVENT_FIELDS = ("id", "dossier_id", "action", "at", "status_after", "data")


def load_facts(dossier_ids: Iterable[int]) -> dict[int, DossierFacts]:
    rows = Dossier.objects.filter(pk__in=list(dossier_ids)).values_list(
        "pk",
        "deciding_agency_id",
        "receiving_agency_id",
        "procedure_id",
        "channel",
        "fee_total",
        "version__online_mode",
        "timeliness",
        "result__file",
    )
    return {
        pk: DossierFacts(
            dossier_id=pk,
            agency_id=deciding or receiving,
            procedure_id=procedure,
            channel=channel,
            receiving_agency_id=receiving,
            has_fee=bool(fee and fee > 0),
            full_online=online_mode == "full",
            timeliness=timeliness or "",
            result_has_file=bool(result_file),
        )
        for (
            pk,
            deciding,
            receiving,
            procedure,
            channel,
            fee,
            online_mode,
            timeliness,
            result_file,
        ) in rows
    }


def load_events(dossier_ids: Iterable[int]) -> dict[int, list[EventRow]]:
    """The events of these dossiers, each dossier's in id order."""
    rows = DossierEvent.objects.filter(dossier_id__in=list(dossier_ids)).order_by(
        "dossier_id", "id"
    )
    found: dict[int, list[EventRow]] = defaultdict(list)
    for values in rows.values_list(*_EVENT_FIELDS):
        found[values[1]].append(EventRow(*values))
    return found


class Calendars:
    """The receiving agencies' working calendars, built on first use."""

    def __init__(self) -> None:
        self._agencies: dict[int, Agency] = {}

    def of(self, agency_id: int) -> Callable[[], WorkCalendar]:
        def get() -> WorkCalendar:
            agency = self._agencies.get(agency_id)
            if agency is None:
                agency = self._agencies[agency_id] = Agency.objects.get(pk=agency_id)
            return calendar_for(agency)

        return get


# --- writing -------------------------------------------------------------------------------


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _bump(model, ident: dict[str, Any], counts: dict[str, int]) -> None:
    """Add ``counts`` to one rollup row (one UPDATE; the row is created when missing)."""
    rows = model.objects.filter(**ident)
    changes = {name: F(name) + n for name, n in counts.items()}
    if rows.update(**changes):
        return
    model.objects.bulk_create([model(**ident)], ignore_conflicts=True)
    rows.update(**changes)


def _increment(model, when: dict[str, dt.date], key: Key, counts: dict[str, int]) -> None:
    agency_id, procedure_id, channel = key
    ident = {**when, "agency_id": agency_id, "procedure_id": procedure_id, "channel": channel}
    _bump(model, ident, counts)


def _add_to_rollups(key: Key, deltas: facts.Deltas) -> None:
    """Increment the day rows of ``key`` and the rows of their months (full and coarse)."""
    months: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, counts in deltas.items():
        _increment(DailyRollup, {"day": day}, key, counts)
        for name, n in counts.items():
            months[month_of(day)][name] += n
    agency_id, procedure_id, channel = key
    for month, counts in months.items():
        _increment(MonthlyRollup, {"month": month}, key, counts)
        ident = {"month": month, "channel": channel}
        _bump(MonthlyAgencyRollup, {**ident, "agency_id": agency_id}, counts)
        _bump(MonthlyProcedureRollup, {**ident, "procedure_id": procedure_id}, counts)


def refresh_coarse(first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Rewrite the coarse month tables (``COARSE_MONTHLY``) of the months in ``[first, last]``
    (all of them by default) from ``MonthlyRollup``."""
    written = 0
    span: dict[str, dt.date] = {}
    if first is not None:
        span["month__gte"] = month_of(first)
    if last is not None:
        span["month__lte"] = last
    sums = {name: Sum(name) for name in COUNTERS}
    for model, keys in COARSE_MONTHLY:
        model.objects.filter(**span).delete()
        grouped = (
            MonthlyRollup.objects.filter(**span).values("month", *keys).order_by().annotate(**sums)
        )
        rows = [
            model(**{k: (v or 0) if k in sums else v for k, v in row.items()})
            for row in grouped.iterator()
        ]
        model.objects.bulk_create(rows, batch_size=1000)
        written += len(rows)
    return written


def refresh_months(first: dt.date, last: dt.date) -> int:
    """Rewrite the month rows of the months touching ``[first, last]`` from the day rows."""
    written = 0
    month = month_of(first)
    while month <= last:
        following = month_of(month + dt.timedelta(days=32))
        MonthlyRollup.objects.filter(month=month).delete()
        grouped = (
            DailyRollup.objects.filter(day__gte=month, day__lt=following)
            .values("agency_id", "procedure_id", "channel")
            .order_by()
            .annotate(**{name: Sum(name) for name in COUNTERS})
        )
        rows = [
            MonthlyRollup(month=month, **{k: v or 0 for k, v in row.items()}) for row in grouped
        ]
        MonthlyRollup.objects.bulk_create(rows, batch_size=1000)
        written += len(rows)
        refresh_coarse(month, month)
        month = following
    return written


def split_period(first: dt.date, last: dt.date):
    """``[first, last]`` as whole months (first and last month, or None) and the days left
    at its edges (a list of day ranges)."""
    start = first if first.day == 1 else month_of(first + dt.timedelta(days=31))
    after = last + dt.timedelta(days=1)
    end = last if after.day == 1 else month_of(last) - dt.timedelta(days=1)
    if start > end:
        return None, [(first, last)]
    edges = []
    if first < start:
        edges.append((first, start - dt.timedelta(days=1)))
    if end < last:
        edges.append((end + dt.timedelta(days=1), last))
    return (start, month_of(end)), edges


def month_table(fields: tuple[str, ...], filters: dict[str, Any] | None, agency_ids) -> type:
    """The smallest month table that holds the key fields a sum groups or filters by: without
    procedures (an agency's figures, trends), without agencies (the whole province by
    procedure), else ``MonthlyRollup``."""
    needed = {name for name in fields if name != "month"} | set(filters or {})
    if needed <= {"agency_id", "channel"}:
        return MonthlyAgencyRollup
    if agency_ids is None and needed <= {"procedure_id", "channel"}:
        return MonthlyProcedureRollup
    return MonthlyRollup


def sum_rollups(
    agency_ids: Iterable[int] | None,
    first: dt.date,
    last: dt.date,
    fields: tuple[str, ...],
    counters: Iterable[str] = COUNTERS,
    *,
    filters: dict[str, Any] | None = None,
) -> dict[tuple, dict[str, int]]:
    """Counters summed over ``[first, last]`` and grouped by ``fields`` (of the rollup key, or
    ``day`` / ``month``): whole months from the smallest month table that has the fields
    (``month_table``), the edges from ``DailyRollup``."""
    names = [name for name in COUNTERS if name in set(counters)]
    ids = None if agency_ids is None else list(agency_ids)
    sums = {name: Sum(name) for name in names}
    found: dict[tuple, dict[str, int]] = {}

    width = len(fields)

    def merge(rows) -> None:
        for row in rows:  # tuples: the key's fields, then the sums in ``names`` order
            key, values = row[:width], row[width:]
            into = found.get(key)
            if into is None:
                found[key] = {name: value or 0 for name, value in zip(names, values, strict=True)}
            else:
                for name, value in zip(names, values, strict=True):
                    if value:
                        into[name] += value

    def scoped(rows):
        if ids is not None:
            rows = rows.filter(agency_id__in=ids)
        return rows.filter(**(filters or {}))

    def grouped(rows):
        if not fields:  # one total (``values()`` without fields would group by every column)
            total = rows.aggregate(**sums)
            return [tuple(total[name] for name in names)]
        return rows.values(*fields).order_by().annotate(**sums).values_list(*fields, *names)

    months, edges = split_period(first, last) if "day" not in fields else (None, [(first, last)])
    if months is not None:
        table = month_table(fields, filters, ids)
        rows = scoped(table.objects.filter(month__gte=months[0], month__lte=months[1]))
        merge(grouped(rows))
    if edges:
        span = Q()
        for a, b in edges:
            span |= Q(day__gte=a, day__lte=b)
        rows = scoped(DailyRollup.objects.filter(span))
        if "month" in fields:
            rows = rows.annotate(month=TruncMonth("day"))
        merge(grouped(rows))
    return found


def _track_values(fact: DossierFacts, state: TrackState, last_event: int) -> dict[str, Any]:
    values = facts.state_values(state)
    values.update(
        agency_id=fact.agency_id,
        procedure_id=fact.procedure_id,
        channel=fact.channel,
        last_event=last_event,
        is_open=state.is_open,
    )
    return values


def _state_of(track: DossierTrack) -> TrackState:
    return TrackState(**{name: getattr(track, name) for name in facts.STATE_FIELDS})


# --- the outbox handler ----------------------------------------------------------------------


def handle_message(message: OutboxMessage) -> None:
    """Outbox handler for ``monitor.*``: apply the dossier's events up to the message's."""
    if message.dossier_id is None or message.event_id is None:
        return
    apply_through(message.dossier_id, message.event_id)


def apply_through(dossier_id: int, event_id: int) -> int:
    """Apply the events of ``dossier_id`` not applied yet, up to ``event_id``; return how many.

    Idempotent: an event at or below the track's ``last_event`` is never applied again.
    """
    with transaction.atomic():
        track = DossierTrack.objects.select_for_update().filter(pk=dossier_id).first()
        if track is not None and track.last_event >= event_id:
            return 0
        fact = load_facts([dossier_id]).get(dossier_id)
        if fact is None:  # the dossier is gone (deleted with its messages)
            return 0
        if track is None:
            DossierTrack.objects.bulk_create(
                [DossierTrack(dossier_id=dossier_id, **_track_values(fact, TrackState(), 0))],
                ignore_conflicts=True,
            )
            track = DossierTrack.objects.select_for_update().get(pk=dossier_id)
            if track.last_event >= event_id:
                return 0
        events = [
            EventRow(*values)
            for values in DossierEvent.objects.filter(
                dossier_id=dossier_id, id__gt=track.last_event, id__lte=event_id
            )
            .order_by("id")
            .values_list(*_EVENT_FIELDS)
        ]
        if not events:
            return 0
        state, deltas, last_id = facts.replay(
            events,
            fact,
            Calendars().of(fact.receiving_agency_id),
            state=_state_of(track),
        )
        _add_to_rollups(fact.key, deltas)
        DossierTrack.objects.filter(pk=dossier_id).update(**_track_values(fact, state, last_id))
        # The rules that look after these events, in the same transaction: a failure rolls the
        # counters back too, and the outbox retries the message later.
        check_events([e.id for e in events])
        return len(events)


# --- in progress: today (live) and past days (snapshots) --------------------------------------


@dataclass
class OpenFigures:
    """Dossiers in progress at ``as_of``: totals and per (agency, procedure, channel) key."""

    as_of: dt.datetime
    kind: str  # "live" (from the open tracks) or "daily" (end-of-day snapshot)
    by_key: dict[Key, dict[str, int]] = field(default_factory=dict)

    def total(self, channels: Iterable[str] | None = None) -> dict[str, int]:
        wanted = set(channels) if channels else None
        sums = dict.fromkeys(OPEN_COUNTERS, 0)
        for (_, _, channel), counts in self.by_key.items():
            if wanted is None or channel in wanted:
                for name in OPEN_COUNTERS:
                    sums[name] += counts.get(name, 0)
        return sums


KEY_FIELDS = ("agency_id", "procedure_id", "channel")


def _key(row: dict, fields: tuple[str, ...]) -> Key:
    """A row's (agency, procedure, channel) key; a field not grouped by is None."""
    return tuple(row[name] if name in fields else None for name in KEY_FIELDS)  # type: ignore[return-value]


def live_open(
    agency_ids: Iterable[int] | None,
    now: dt.datetime | None = None,
    *,
    fields: tuple[str, ...] = KEY_FIELDS,
) -> OpenFigures:
    """In progress now, from the index over open dossiers (the open tracks), grouped by
    ``fields`` of the key (the others are None in ``by_key``)."""
    now = now or timezone.now()
    rows = DossierTrack.objects.filter(is_open=True)
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    late = Q(late_from__isnull=False, late_from__lte=now)
    extended = ~late & Q(late_from_base__isnull=False, late_from_base__lte=now)
    grouped = (
        rows.values(*fields)
        .order_by()
        .annotate(
            total=Count("pk"),
            open_late=Count("pk", filter=late),
            open_extended=Count("pk", filter=extended),
        )
    )
    figures = OpenFigures(as_of=now, kind="live")
    for row in grouped:
        figures.by_key[_key(row, fields)] = {
            "open_in_time": row["total"] - row["open_late"],
            "open_late": row["open_late"],
            "open_extended": row["open_extended"],
        }
    return figures


def stored_open(
    agency_ids: Iterable[int] | None,
    day: dt.date,
    *,
    fields: tuple[str, ...] = KEY_FIELDS,
) -> OpenFigures | None:
    """The snapshot of ``day`` if it has been taken, grouped by ``fields`` of the key (in the
    database: a province's day has some ten thousand rows, a scorecard needs a few hundred)."""
    if not SnapshotDay.objects.filter(day=day).exists():
        return None
    rows = OpenSnapshot.objects.filter(day=day)
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    figures = OpenFigures(as_of=day_cutoff(day), kind="daily")
    if fields != KEY_FIELDS:
        rows = rows.values(*fields).order_by().annotate(**{n: Sum(n) for n in OPEN_COUNTERS})
    else:
        rows = rows.values(*fields, *OPEN_COUNTERS)
    for row in rows:
        figures.by_key[_key(row, fields)] = {name: row[name] or 0 for name in OPEN_COUNTERS}
    return figures


def compute_open(day: dt.date, agency_ids: Iterable[int] | None = None) -> OpenFigures:
    """In progress at the end of ``day``, by replaying the histories up to that instant.

    The candidates are the tracks received by then and not finished by then (indexed: the
    open ones and those finished after the day).
    """
    cutoff = day_cutoff(day)
    rows = DossierTrack.objects.filter(received_at__lte=cutoff).filter(
        Q(is_open=True) | Q(finished_at__gt=cutoff)
    )
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=list(agency_ids))
    figures = OpenFigures(as_of=cutoff, kind="daily")
    ids = list(rows.values_list("pk", flat=True).order_by("pk"))
    calendars = Calendars()
    for batch in _batches(ids, BATCH):
        dossier_facts = load_facts(batch)
        events = load_events(batch)
        for dossier_id in batch:
            fact = dossier_facts.get(dossier_id)
            if fact is None:
                continue
            state, _, _ = facts.replay(
                events.get(dossier_id, ()),
                fact,
                calendars.of(fact.receiving_agency_id),
                until=cutoff,
            )
            _count_open(figures.by_key, fact.key, state.open_class(cutoff))
    return figures


def _count_open(by_key: dict[Key, dict[str, int]], key: Key, cls: str | None) -> None:
    if cls is None:
        return
    counts = by_key.setdefault(key, dict.fromkeys(OPEN_COUNTERS, 0))
    if cls == "late":
        counts["open_late"] += 1
    else:
        counts["open_in_time"] += 1
        if cls == "extended":
            counts["open_extended"] += 1


def _write_snapshots(day: dt.date, by_key: dict[Key, dict[str, int]]) -> None:
    OpenSnapshot.objects.filter(day=day).delete()
    OpenSnapshot.objects.bulk_create(
        [
            OpenSnapshot(day=day, agency_id=a, procedure_id=p, channel=c, **counts)
            for (a, p, c), counts in by_key.items()
            if any(counts.values())
        ],
        batch_size=1000,
    )
    SnapshotDay.objects.update_or_create(day=day, defaults={"taken_at": timezone.now()})


def pending_before(cutoff: dt.datetime) -> bool:
    """Whether monitor messages of events up to ``cutoff`` still wait for delivery."""
    return OutboxMessage.objects.filter(
        topic__startswith="monitor.", delivered_at__isnull=True, event__at__lte=cutoff
    ).exists()


def take_snapshot(day: dt.date, *, force: bool = False) -> bool:
    """Write the in-progress snapshot of ``day`` (a past day); False if it must wait.

    It waits while monitor messages of the day are undelivered (their dossiers' tracks may
    be missing), unless ``force``.
    """
    if not force and pending_before(day_cutoff(day)):
        log.warning("snapshot of %s postponed: monitor messages still pending", day)
        return False
    figures = compute_open(day)
    with transaction.atomic():
        _write_snapshots(day, figures.by_key)
    return True


def take_missing_snapshots(now: dt.datetime | None = None) -> list[dt.date]:
    """Snapshot the past days not taken yet (at most ``MOTCUA_SNAPSHOT_BACKFILL_DAYS``)."""
    now = now or timezone.now()
    yesterday = vn_day(now) - facts.ONE_DAY
    first = yesterday - dt.timedelta(days=max(conf.snapshot_backfill_days(), 1) - 1)
    taken = set(
        SnapshotDay.objects.filter(day__gte=first, day__lte=yesterday).values_list("day", flat=True)
    )
    done = []
    day = first
    while day <= yesterday:
        if day not in taken:
            if not take_snapshot(day):
                break  # later days wait too: the outbox is behind
            done.append(day)
        day += facts.ONE_DAY
    return done


# --- rebuild -----------------------------------------------------------------------------------


@dataclass
class RebuildReport:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    dossiers: int = 0
    events: int = 0
    rollup_rows: int = 0
    snapshot_days: int = 0
    seconds: float = 0.0


def _lock_tables() -> None:
    """Keep the outbox handler out while a range is rewritten.

    PostgreSQL: an EXCLUSIVE lock on the tables the handler writes (readers go on; handlers
    wait and then find their events applied). SQLite: nothing to do, a write transaction
    already holds the whole database.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {DossierTrack._meta.db_table}, {DailyRollup._meta.db_table} "
                "IN EXCLUSIVE MODE"
            )


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _months(first: dt.date, last: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    start = first
    while start <= last:
        nxt = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        yield start, min(last, nxt - facts.ONE_DAY)
        start = nxt


METHODS = ("auto", "python", "sql")


def rebuild(
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    method: str = "auto",
) -> RebuildReport:
    """Rewrite the rollups and snapshots of ``[date_from, date_to]`` (Việt Nam days, both
    included; the whole history by default) and the tracks of the dossiers alive in it.

    ``method``: ``python`` replays every event (the reference; the only way for some days);
    ``sql`` recomputes the whole history set-based (``rebuild_sql``); ``auto`` takes ``sql``
    for a whole-history rebuild on PostgreSQL, else ``python``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown rebuild method {method!r}")
    started = time.perf_counter()
    now = now or timezone.now()
    today = vn_day(now)
    full = date_from is None and date_to is None
    if method == "auto":
        method = "sql" if full and connection.vendor == "postgresql" else "python"
    if method == "sql":
        if not full:
            raise ValueError("the set-based rebuild rewrites the whole history only")
        from . import rebuild_sql

        done = rebuild_sql.rebuild_all(now, progress=progress)
        first = Dossier.objects.order_by("submitted_at").values_list("submitted_at", flat=True)
        first_at = first.first()
        return RebuildReport(
            date_from=vn_day(first_at) if first_at else today,
            date_to=today,
            dossiers=done.dossiers,
            rollup_rows=done.rollup_rows,
            snapshot_days=done.snapshot_days,
            seconds=time.perf_counter() - started,
        )
    if date_from is None:
        first = Dossier.objects.order_by("submitted_at").values_list("submitted_at", flat=True)
        first_at = first.first()
        date_from = vn_day(first_at) if first_at else today
    if date_to is None:
        date_to = today
    report = RebuildReport(date_from=date_from, date_to=date_to)
    if full:
        with transaction.atomic():
            _lock_tables()
            # Rows outside the history can only be stale.
            DailyRollup.objects.exclude(day__gte=date_from, day__lte=date_to).delete()
            for model in (MonthlyRollup, *(model for model, _keys in COARSE_MONTHLY)):
                model.objects.exclude(month__gte=month_of(date_from), month__lte=date_to).delete()
            OpenSnapshot.objects.exclude(day__gte=date_from, day__lt=today).delete()
            SnapshotDay.objects.exclude(day__gte=date_from, day__lt=today).delete()
    for first_day, last_day in _months(date_from, date_to):
        with transaction.atomic():
            _lock_tables()
            _rebuild_range(first_day, last_day, today, report)
        if progress is not None:
            progress(f"{first_day:%m/%Y}: {report.dossiers} hồ sơ, {report.rollup_rows} dòng")
    report.seconds = time.perf_counter() - started
    return report


def _rebuild_range(first: dt.date, last: dt.date, today: dt.date, report: RebuildReport) -> None:
    start, end = day_start(first), day_start(last + facts.ONE_DAY)
    snap_last = min(last, today - facts.ONE_DAY)
    DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    if first <= snap_last:
        OpenSnapshot.objects.filter(day__gte=first, day__lte=snap_last).delete()
    # Alive in the range: submitted before its end and not closed before its start (or rated
    # in it). Every event of the range, every receipt (cohort counters) and every open day is
    # among them.
    # A closed dossier may still get an event: the applicant's rating comes after the result
    # is handed over (the only action allowed on a closed dossier).
    rated = DossierEvent.objects.filter(action="rate", at__gte=start, at__lt=end).values(
        "dossier_id"
    )
    candidates = list(
        Dossier.objects.filter(submitted_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start) | Q(pk__in=rated))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    flows: dict[tuple[dt.date, Key], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    opens: dict[dt.date, dict[Key, dict[str, int]]] = defaultdict(dict)
    calendars = Calendars()
    for batch in _batches(candidates, BATCH):
        dossier_facts = load_facts(batch)
        events = load_events(batch)
        tracks = []
        for dossier_id in batch:
            fact = dossier_facts.get(dossier_id)
            history = events.get(dossier_id, [])
            if fact is None or not history:
                continue

            def segment(state, seg_start, seg_end, key=fact.key):
                for day, cls in facts.open_days(state, seg_start, seg_end, first, snap_last):
                    _count_open(opens[day], key, cls)

            state, deltas, last_id = facts.replay(
                history, fact, calendars.of(fact.receiving_agency_id), on_segment=segment
            )
            for day, counts in deltas.items():
                if first <= day <= last:
                    row = flows[(day, fact.key)]
                    for name, n in counts.items():
                        row[name] += n
            tracks.append(
                DossierTrack(dossier_id=dossier_id, **_track_values(fact, state, last_id))
            )
            report.events += len(history)
        report.dossiers += len(tracks)
        DossierTrack.objects.bulk_create(
            tracks,
            update_conflicts=True,
            unique_fields=["dossier"],
            update_fields=[
                *facts.STATE_FIELDS,
                "agency",
                "procedure",
                "channel",
                "last_event",
                "is_open",
            ],
        )
    rows = [
        DailyRollup(day=day, agency_id=a, procedure_id=p, channel=c, **counts)
        for (day, (a, p, c)), counts in flows.items()
        if any(counts.values())
    ]
    DailyRollup.objects.bulk_create(rows, batch_size=1000)
    report.rollup_rows += len(rows)
    refresh_months(first, last)
    day = first
    while day <= snap_last:
        _write_snapshots(day, opens.get(day, {}))
        report.snapshot_days += 1
        day += facts.ONE_DAY
