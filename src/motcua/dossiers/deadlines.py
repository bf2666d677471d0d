"""The bridge from dossiers to the clock (``core.worktime``): appointments, step shares, pauses.

All working-time arithmetic is done on the receiving agency's calendar: the appointment on
Mẫu 01 is the receiving desk's promise, and per-step allowances are shares of that same span.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.conf import settings

from motcua.agencies.calendar import calendar_for
from motcua.core.worktime import VN_TZ, WorkCalendar

from .models import Dossier, Timeliness

CLOCK_UNITS = {"working_days", "working_hours", "calendar_days", "same_day"}


def calendar_of(dossier: Dossier) -> WorkCalendar:
    return calendar_for(dossier.receiving_agency)


def appointment(
    calendar: WorkCalendar, start: dt.datetime, amount: Decimal | None, unit: str
) -> dt.datetime | None:
    """The appointment for a time limit counted from ``start``; ``None`` when there is none."""
    if unit not in CLOCK_UNITS:
        return None
    if unit != "same_day" and amount is None:
        return None
    return calendar.due(start, amount if amount is not None else 0, unit)


def step_dues(
    calendar: WorkCalendar,
    start: dt.datetime,
    due_at: dt.datetime | None,
    shares: Sequence[Decimal],
) -> list[dt.datetime | None]:
    """Due time of each step: the cumulative share of the working time from start to due.

    Shares are percentages; whatever they add up to, the last step is due with the dossier so
    the steps never promise more (or less) than the appointment.
    """
    if due_at is None:
        return [None] * len(shares)
    total = calendar.working_time_between(start, due_at)
    if total <= dt.timedelta(0):
        return [due_at] * len(shares)
    dues: list[dt.datetime | None] = []
    cumulative = Decimal(0)
    for index, share in enumerate(shares):
        cumulative += Decimal(share)
        if index == len(shares) - 1:
            dues.append(due_at)
            continue
        fraction = min(cumulative / Decimal(100), Decimal(1))
        offset = dt.timedelta(seconds=int(total.total_seconds() * float(fraction)))
        dues.append(calendar.add_working_time(start, offset))
    return dues


def shift_for_pause(
    calendar: WorkCalendar,
    due_at: dt.datetime | None,
    paused_at: dt.datetime,
    resumed_at: dt.datetime,
) -> dt.datetime | None:
    """A deadline after a stopped clock: the working time left when it stopped, from resume.

    A deadline already passed when the clock stopped stays where it was: a pause does not
    forgive lateness.
    """
    if due_at is None or due_at <= paused_at:
        return due_at
    remaining = calendar.working_time_between(paused_at, due_at)
    return calendar.add_working_time(resumed_at, remaining)


def shift_by(
    calendar: WorkCalendar, times: Iterable[dt.datetime | None], old: dt.datetime, new: dt.datetime
) -> list[dt.datetime | None]:
    """Move deadlines by the working time between ``old`` and ``new`` (an extension)."""
    delta = calendar.working_time_between(old, new)
    if delta <= dt.timedelta(0):
        return list(times)
    return [None if t is None else calendar.add_working_time(t, delta) for t in times]


def classify(finished_at: dt.datetime, due_at: dt.datetime | None) -> str:
    """Early / on time / late (one-stop-rules §1.6).

    ``MOTCUA_TIMELINESS_PRECISION`` = ``date`` (default, as provincial systems and staff read
    it: compare calendar dates in Việt Nam time) or ``exact`` (late as soon as the instant is
    past the appointment; early/on time still by date). Without an appointment: on time.
    """
    if due_at is None:
        return Timeliness.ON_TIME
    finished_day = finished_at.astimezone(VN_TZ).date()
    due_day = due_at.astimezone(VN_TZ).date()
    precision = getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date")
    if finished_day > due_day or (precision == "exact" and finished_at > due_at):
        return Timeliness.LATE
    if finished_day < due_day:
        return Timeliness.EARLY
    return Timeliness.ON_TIME
