"""The replay itself, without a database: events in, state and dated counters out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from motcua.core.worktime import VN_TZ
from motcua.monitoring import facts

FACTS = facts.DossierFacts(
    dossier_id=1,
    agency_id=1,
    procedure_id=1,
    channel="online",
    receiving_agency_id=1,
    has_fee=False,
    full_online=True,
    timeliness="",
    result_has_file=True,
)


@dataclass
class Event:
    id: int
    action: str
    at: dt.datetime
    status_after: int
    data: dict = field(default_factory=dict)


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=VN_TZ)


def no_calendar():
    raise AssertionError("the calendar is not needed here")


def test_a_rating_event_is_counted_on_its_day():
    events = [
        Event(1, "submit", at(2), 1),
        Event(2, "receive", at(2), 2, {"due_at": at(9).isoformat()}),
        Event(3, "record_result", at(4), 9, {"timeliness": "early"}),
        Event(4, "rate", at(5), 9, {"score": 4}),
        Event(5, "rate", at(6), 9, {"score": "bad"}),
    ]
    state, deltas, last = facts.replay(events, FACTS, no_calendar)
    counts = dict(deltas.items())
    assert counts[dt.date(2026, 3, 5)] == {"ratings": 1, "rating_sum": 4}
    assert dt.date(2026, 3, 6) not in counts
    assert counts[dt.date(2026, 3, 2)] == {
        "submitted": 1,
        "received": 1,
        "received_full_online": 1,
    }
    assert last == 5 and not state.is_open


def test_open_days_split_in_time_and_late():
    events = [Event(1, "receive", at(2), 2, {"due_at": at(9).isoformat()})]
    days = []

    def segment(state, start, end):
        days.extend(facts.open_days(state, start, end, dt.date(2026, 3, 1), dt.date(2026, 3, 12)))

    facts.replay(events, FACTS, no_calendar, on_segment=segment)
    assert days[0] == (dt.date(2026, 3, 2), "in_time")
    assert (dt.date(2026, 3, 9), "in_time") in days  # due that day: still in time by date
    assert days[-1] == (dt.date(2026, 3, 12), "late")
    assert len(days) == 11


def test_later_events_with_earlier_times_keep_the_order():
    events = [
        Event(1, "receive", at(5), 2, {"due_at": at(12).isoformat()}),
        Event(2, "stop", at(3), 8),  # an earlier time given by a trusted caller
    ]
    state, deltas, _ = facts.replay(events, FACTS, no_calendar)
    assert state.finished_at == at(5)  # the running maximum
    assert dict(deltas.items())[dt.date(2026, 3, 5)]["stopped"] == 1
