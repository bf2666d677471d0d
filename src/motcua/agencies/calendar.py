"""The bridge from the calendar tables to the clock (``core.worktime.WorkCalendar``).

National ``CalendarDay`` rows (``agency`` empty) are overlaid by an agency's own rows: for a
given date the agency row wins, so an agency ``workday`` cancels a national day off for that
agency and an agency ``day_off`` adds one. The agency's ``WorkingSession`` rows become the
session rules; an agency without rows (or no agency) works the default sessions.

Building a calendar costs a few milliseconds, so built calendars are cached in the process.
Saving or deleting a ``CalendarDay`` or ``WorkingSession`` clears the cache (signals connected
in ``AgenciesConfig.ready``); bulk loaders call ``clear_calendar_cache`` themselves. Other
processes see a change after at most ``CACHE_TTL`` seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from django.db.models import Q

from motcua.agencies.models import Agency, CalendarDay, WorkingSession
from motcua.core.worktime import SessionRule, WorkCalendar

# Bounds how long another process (gunicorn worker) can serve a calendar edited elsewhere.
CACHE_TTL = 300.0

_cache: dict[int | None, tuple[float, WorkCalendar]] = {}
_lock = threading.Lock()
_generation = 0  # bumped by every clear, so a build that raced with an edit is not stored


def clear_calendar_cache(**_signal_kwargs: Any) -> None:
    """Forget every built calendar (usable directly as a signal receiver)."""
    global _generation
    with _lock:
        _cache.clear()
        _generation += 1


def calendar_for(agency: Agency | None) -> WorkCalendar:
    """Return the working calendar of ``agency`` (the national one for ``None``).

    National days off and make-up workdays, overlaid by the agency's own rows, with the
    agency's working sessions (default sessions when it has none).
    """
    key = agency.pk if agency is not None else None
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        generation = _generation
    if hit is not None and now - hit[0] < CACHE_TTL:
        return hit[1]
    calendar = _build(key)
    with _lock:
        if generation == _generation:
            _cache[key] = (now, calendar)
    return calendar


def _effective_rows(agency_id: int | None, start=None, end=None) -> dict[dt.date, tuple[dict, str]]:
    """Date → (row values, scope) after the overlay, optionally limited to [start, end]."""
    fields = ("date", "kind", "name", "basis", "agency_id")
    scope = Q(agency__isnull=True)
    if agency_id is not None:
        scope |= Q(agency_id=agency_id)
    rows = CalendarDay.objects.filter(scope)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if end is not None:
        rows = rows.filter(date__lte=end)
    effective: dict[dt.date, tuple[dict, str]] = {}
    # National rows first so the agency's row for the same date replaces them.
    for row in sorted(rows.values(*fields), key=lambda r: r["agency_id"] is not None):
        effective[row["date"]] = (row, "national" if row["agency_id"] is None else "agency")
    return effective


def _build(agency_id: int | None) -> WorkCalendar:
    effective = _effective_rows(agency_id)
    days_off = [
        day for day, (row, _) in effective.items() if row["kind"] == CalendarDay.Kind.DAY_OFF
    ]
    workdays = [
        day for day, (row, _) in effective.items() if row["kind"] == CalendarDay.Kind.WORKDAY
    ]
    rules: list[SessionRule] = []
    if agency_id is not None:
        rules = [
            SessionRule(
                weekday=s.weekday,
                start=s.start,
                end=s.end,
                valid_from=s.valid_from,
                valid_to=s.valid_to,
            )
            for s in WorkingSession.objects.filter(agency_id=agency_id).order_by("weekday", "start")
        ]
    return WorkCalendar(days_off=days_off, workdays=workdays, session_rules=rules)


def days_off_between(
    start: dt.date, end: dt.date, agency: Agency | None = None
) -> list[dict[str, Any]]:
    """List the calendar exceptions from ``start`` to ``end`` inclusive, by date.

    Each item is ``{date, kind, name, basis, scope}`` where ``kind`` is ``day_off`` or
    ``workday`` (a make-up working day) and ``scope`` is ``national`` or ``agency``. The
    agency's row for a date replaces the national row, as in ``calendar_for``. Ordinary
    weekends are not listed.
    """
    effective = _effective_rows(agency.pk if agency is not None else None, start, end)
    return [
        {
            "date": day,
            "kind": row["kind"],
            "name": row["name"],
            "basis": row["basis"],
            "scope": scope,
        }
        for day, (row, scope) in sorted(effective.items())
    ]
