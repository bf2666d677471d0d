"""What monitoring learns from a dossier's history: one small state machine over its events.

A dossier's events (``DossierEvent``, in id order) are replayed through ``advance``; each event
updates a ``TrackState`` and adds counter deltas dated by the Việt Nam day. The outbox handler
applies the new events of a dossier to its stored track; ``rebuild_rollups`` replays every
event from an empty state. Both use this one function, so the rebuilt figures equal the
incremental ones by construction (and a hypothesis test checks that they do).

The replay never reads the dossier's *current* state for something that may still change: it
takes what an event carries (``data``: the appointment, the timeliness of a result, the stage
of a supplement request) and facts that never change once written (``DossierFacts``: channel,
procedure, fees, the timeliness set when processing ended, whether the result has a file).

Early / on time / late follow one-stop-rules §1.6 as ``dossiers.services`` applies it: the
clock stops while waiting for a supplement (the appointment moves on by the waiting time: the
supplement time is subtracted), a dossier waiting for a supplement that has not come back is
judged at the moment of the request, and more than one supplement request during processing
makes it late. Decision 766 keeps the original appointment when an extension moves it
(decree-118-update §2.4): ``base_due_at`` follows the appointment without the extension, and
``finished_extended`` / ``open_extended`` count the dossiers in time only thanks to one.

Times: events are dated by their ``at``; should a later event carry an earlier ``at`` (only
trusted callers pass ``at``), the running maximum is used, so a history is always a sequence
of non-overlapping segments.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Protocol

from django.conf import settings
from django.utils.dateparse import parse_datetime

from motcua.core.worktime import VN_TZ, WorkCalendar
from motcua.dossiers import deadlines
from motcua.dossiers.models import Timeliness

ONE_DAY = dt.timedelta(days=1)
ONE_MICROSECOND = dt.timedelta(microseconds=1)

FINISHED = {
    Timeliness.EARLY: "finished_early",
    Timeliness.ON_TIME: "finished_on_time",
    Timeliness.LATE: "finished_late",
}


def vn_day(at: dt.datetime) -> dt.date:
    return at.astimezone(VN_TZ).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ)


def day_cutoff(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in Việt Nam: the state "at the end of the day"."""
    return day_start(day + ONE_DAY) - ONE_MICROSECOND


def late_threshold(due: dt.datetime) -> dt.datetime:
    """The first instant at which something due at ``due`` is late (as ``deadlines.classify``)."""
    if getattr(settings, "MOTCUA_TIMELINESS_PRECISION", "date") == "exact":
        return due + ONE_MICROSECOND
    return day_start(vn_day(due) + ONE_DAY)


def is_late(at: dt.datetime, due: dt.datetime | None) -> bool:
    return due is not None and deadlines.classify(at, due) == Timeliness.LATE


class EventLike(Protocol):
    id: int
    action: str
    at: dt.datetime
    status_after: int
    data: dict


@dataclass(frozen=True)
class DossierFacts:
    """What never changes once written, read from the dossier when its events are applied."""

    dossier_id: int
    agency_id: int  # responsible: the deciding agency, else the receiving one
    procedure_id: int
    channel: str
    receiving_agency_id: int
    has_fee: bool
    full_online: bool  # the pinned procedure version is offered fully online (toàn trình)
    timeliness: str  # set once, when processing ends
    result_has_file: bool  # the recorded result carries an electronic file

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.agency_id, self.procedure_id, self.channel)


@dataclass
class TrackState:
    """A dossier as monitoring sees it after the events applied so far."""

    last_at: dt.datetime | None = None
    status: int = 1
    received_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    base_due_at: dt.datetime | None = None
    extended: bool = False
    paused_at: dt.datetime | None = None
    pause_stops_clock: bool = False
    supplements: int = 0
    has_files: bool = False
    digitised: bool = False
    digitised_complete: bool = False
    eresult: bool | None = None
    late_from: dt.datetime | None = None
    late_from_base: dt.datetime | None = None
    finished_as: str = ""  # early / on_time / late, once processing ended (drill-down lists)

    @property
    def is_open(self) -> bool:
        """Received and processing not ended (finished, stopped or withdrawn)."""
        return self.received_at is not None and self.finished_at is None

    def open_class(self, cutoff: dt.datetime) -> str | None:
        """``late``, ``extended`` (in time only thanks to an extension), ``in_time`` or None."""
        if not self.is_open:
            return None
        if self.late_from is not None and self.late_from <= cutoff:
            return "late"
        if self.late_from_base is not None and self.late_from_base <= cutoff:
            return "extended"
        return "in_time"


STATE_FIELDS = tuple(f.name for f in fields(TrackState))


class Deltas:
    """Counter changes by day: ``{day: {counter: n}}``."""

    def __init__(self) -> None:
        self.by_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, day: dt.date, counter: str, n: int = 1) -> None:
        self.by_day[day][counter] += n

    def items(self) -> Iterator[tuple[dt.date, dict[str, int]]]:
        for day, counts in self.by_day.items():
            nonzero = {name: n for name, n in counts.items() if n}
            if nonzero:
                yield day, nonzero


def _due(data: dict) -> dt.datetime | None:
    value = data.get("due_at")
    return parse_datetime(value) if isinstance(value, str) else None


def advance(
    state: TrackState,
    event: EventLike,
    facts: DossierFacts,
    deltas: Deltas,
    calendar: Callable[[], WorkCalendar],
) -> None:
    """Apply one event to ``state`` and add its counter changes to ``deltas``."""
    at = event.at if state.last_at is None else max(event.at, state.last_at)
    day = vn_day(at)
    action = event.action
    data = event.data or {}

    if action == "submit":
        deltas.add(day, "submitted")
    elif action == "receive":
        state.received_at = at
        state.due_at = state.base_due_at = _due(data)
        deltas.add(day, "received")
        if facts.has_fee:
            deltas.add(day, "with_fee")
        if facts.full_online:
            deltas.add(day, "received_full_online")
    elif action == "refuse":
        deltas.add(day, "refused")
    elif action == "request_supplement":
        deltas.add(day, "supplement_requests")
        if data.get("stage") == "processing":
            state.supplements += 1
        state.paused_at, state.pause_stops_clock = event.at, True
    elif action == "request_payment":
        state.paused_at = event.at
        state.pause_stops_clock = bool(data.get("stops_clock", True))
    elif action in ("provide_supplement", "confirm_payment"):
        if state.paused_at is not None and state.pause_stops_clock:
            # The clock stopped: the appointment moves on by the time waited (§1.6, the
            # supplement time is subtracted). The service says where it moved to when the
            # event carries it; otherwise the same rule is applied here.
            if state.extended and state.base_due_at is not None:
                state.base_due_at = deadlines.shift_for_pause(
                    calendar(), state.base_due_at, state.paused_at, event.at
                )
            if "due_at" in data:
                state.due_at = _due(data)
            elif state.due_at is not None:
                state.due_at = deadlines.shift_for_pause(
                    calendar(), state.due_at, state.paused_at, event.at
                )
            if not state.extended:
                state.base_due_at = state.due_at
        state.paused_at, state.pause_stops_clock = None, False
    elif action == "decide_extension":
        if data.get("approved"):
            deltas.add(day, "extensions")
            state.extended = True
            if "due_at" in data:
                state.due_at = _due(data)
    elif action == "attach_file":
        state.has_files = True
    elif action in ("stop", "withdraw"):
        deltas.add(day, "stopped" if action == "stop" else "withdrawn")
        state.paused_at, state.pause_stops_clock = None, False
        if state.is_open:
            _finish(state, at, day, facts.timeliness, deltas)
    elif action == "record_result":
        deltas.add(day, "results")
        state.eresult = facts.result_has_file
        if state.eresult:
            deltas.add(day, "eresults")
        if state.is_open:
            deltas.add(day, "result_seconds", int((at - state.received_at).total_seconds()))
            _finish(state, at, day, data.get("timeliness") or facts.timeliness, deltas)
    elif action == "return_result":
        deltas.add(day, "returned")
    elif action == "rate":
        # The applicant's satisfaction rating, once the citizens' portal records it as an event
        # of the dossier (``data["score"]``): counted on the day it was given.
        score = data.get("score")
        if isinstance(score, int) and not isinstance(score, bool):
            deltas.add(day, "ratings")
            deltas.add(day, "rating_sum", score)
    elif "due_at" in data:
        # An action added later that moves the appointment (e.g. an approved correction).
        state.due_at = _due(data)
        if not state.extended:
            state.base_due_at = state.due_at

    # Digitisation is a property of the dossiers received on a day (their cohort).
    if state.received_at is not None:
        received_day = vn_day(state.received_at)
        if state.has_files and not state.digitised:
            state.digitised = True
            deltas.add(received_day, "digitised")
            if state.eresult is not False:
                state.digitised_complete = True
                deltas.add(received_day, "digitised_complete")
        if state.digitised_complete and state.eresult is False:
            state.digitised_complete = False
            deltas.add(received_day, "digitised_complete", -1)

    state.status = event.status_after
    state.last_at = at
    _reclassify(state, at)


def _finish(
    state: TrackState, at: dt.datetime, day: dt.date, timeliness: str, deltas: Deltas
) -> None:
    state.finished_at = at
    if not timeliness:
        timeliness = (
            Timeliness.LATE if state.supplements > 1 else deadlines.classify(at, state.due_at)
        )
    state.finished_as = str(Timeliness(timeliness).value)
    deltas.add(day, FINISHED[Timeliness(timeliness)])
    if timeliness != Timeliness.LATE and state.extended and is_late(at, state.base_due_at):
        deltas.add(day, "finished_extended")


def _late_from(state: TrackState, due: dt.datetime | None, start: dt.datetime):
    if state.supplements > 1:
        return start  # more than one supplement request during processing: late (§1.6)
    if due is None:
        return None
    if state.paused_at is not None and state.pause_stops_clock:
        # Waiting for the applicant: judged at the moment of the request (§1.6).
        return start if is_late(state.paused_at, due) else None
    return max(start, late_threshold(due))


def _reclassify(state: TrackState, start: dt.datetime) -> None:
    if state.is_open:
        state.late_from = _late_from(state, state.due_at, start)
        state.late_from_base = _late_from(state, state.base_due_at, start)
    else:
        state.late_from = state.late_from_base = None


def open_days(
    state: TrackState,
    start: dt.datetime,
    end: dt.datetime | None,
    first_day: dt.date,
    last_day: dt.date,
) -> Iterator[tuple[dt.date, str]]:
    """The days of ``[first_day, last_day]`` whose end falls in ``[start, end)`` with the
    dossier open in ``state``, each with its class (``in_time`` / ``extended`` / ``late``)."""
    if not state.is_open:
        return
    lo = max(first_day, vn_day(start))
    hi = last_day if end is None else min(last_day, vn_day(end) - ONE_DAY)
    late_day = vn_day(state.late_from) if state.late_from is not None else None
    base_day = vn_day(state.late_from_base) if state.late_from_base is not None else None
    day = lo
    while day <= hi:
        if late_day is not None and day >= late_day:
            yield day, "late"
        elif base_day is not None and day >= base_day:
            yield day, "extended"
        else:
            yield day, "in_time"
        day += ONE_DAY


def replay(
    events: Iterable[EventLike],
    facts: DossierFacts,
    calendar: Callable[[], WorkCalendar],
    *,
    state: TrackState | None = None,
    until: dt.datetime | None = None,
    on_segment: Callable[[TrackState, dt.datetime, dt.datetime | None], None] | None = None,
) -> tuple[TrackState, Deltas, int]:
    """Apply ``events`` (id order) to ``state`` (a fresh one by default).

    ``until``: stop before the first event whose time is after it (the state "as of" that
    instant). ``on_segment(state, start, end)`` is called for each stretch of time in which the
    state held, the last one with ``end=None``. Returns the state, the deltas and the id of
    the last event applied (0 if none).
    """
    state = state if state is not None else TrackState()
    deltas = Deltas()
    last_id = 0
    for event in events:
        effective = event.at if state.last_at is None else max(event.at, state.last_at)
        if until is not None and effective > until:
            break
        if on_segment is not None and state.last_at is not None:
            on_segment(state, state.last_at, effective)
        advance(state, event, facts, deltas, calendar)
        last_id = event.id
    if on_segment is not None and state.last_at is not None:
        on_segment(state, state.last_at, None)
    return state, deltas, last_id


def state_values(state: TrackState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in STATE_FIELDS}
