"""The public lookup's kept answers on a cache shared by every process (Redis).

Runs where Redis answers at MOTCUA_TEST_REDIS (default redis://127.0.0.1:6379/15); under
CI=true it must answer, elsewhere the tests skip with one line.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from motcua.cache import count_hit, count_hit_and_get_many
from motcua.dossiers import lookup, services
from motcua.dossiers.models import Status

from .world import PHONE

REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(settings):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL} (required under CI)")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: set MOTCUA_TEST_REDIS to run")
    settings.CACHES = {
        "default": {
            "BACKEND": "motcua.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield cache
    cache.clear()


def _look(code, factor="", client="198.51.100.1"):
    url = f"/api/v1/lookup/{code}" + (f"?factor={factor}" if factor else "")
    return Client(REMOTE_ADDR=client).get(url)


def test_a_kept_answer_is_the_same_and_costs_no_query(world):
    dossier = world.received()
    first = _look(dossier.code)
    with CaptureQueriesContext(connection) as queries:
        again = _look(dossier.code, client="198.51.100.2")
        verified = _look(dossier.code, PHONE[-4:], client="198.51.100.3")
    assert first.status_code == again.status_code == verified.status_code == 200
    assert again.json() == first.json()
    assert verified.json()["verified"] is True
    assert [e["action"] for e in verified.json()["timeline"]] == ["submit", "receive"]
    assert {**verified.json(), "verified": False, "timeline": None} == first.json()
    assert len(queries.captured_queries) == 0


def test_only_the_last_four_digits_are_kept(world, shared_cache):
    dossier = world.received()
    _look(dossier.code)
    kept = shared_cache.get(f"lookup-view:vi:{dossier.code}")
    assert kept["phone"] == PHONE[-4:] and len(kept["personal_id"]) == 4
    assert "Nguyễn Thị Hằng" not in repr(kept) and PHONE not in repr(kept)


def test_a_committed_change_is_seen_at_once(world, django_capture_on_commit_callbacks):
    dossier = world.received()
    assert _look(dossier.code).json()["status"] == Status.RECEIVED
    assert _look(dossier.code, PHONE[-4:]).json()["verified"] is True
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(dossier, actor=world.counter, reason="Công dân đề nghị rút")
    after = _look(dossier.code, PHONE[-4:], client="198.51.100.9").json()
    assert after["status"] == Status.WITHDRAWN
    assert [e["action"] for e in after["timeline"]][-1] == "withdraw"


def test_an_answer_read_before_a_change_is_never_stored_over_it(world, shared_cache):
    dossier = world.received()
    key = f"lookup-view:vi:{dossier.code}"
    lookup.forget(dossier.code)  # as a change committed meanwhile would
    with CaptureQueriesContext(connection) as queries:
        assert _look(dossier.code).status_code == 200
    assert queries.captured_queries  # read from the database, and not kept
    assert shared_cache.get(key) == "forgotten"
    assert shared_cache.get(f"lookup-view:en:{dossier.code}") == "forgotten"


def test_wrong_factors_are_still_counted_with_a_kept_answer(world):
    dossier = world.received()
    _look(dossier.code)
    for _ in range(lookup.FACTOR_FAILURES_ALLOWED):
        assert _look(dossier.code, "0000").json()["code"] == "wrong_second_factor"
    refused = _look(dossier.code, PHONE[-4:])
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_attempts")
    assert _look(dossier.code, PHONE[-4:], client="198.51.100.77").status_code == 200


def test_a_hit_count_opens_a_window_that_expires(shared_cache):
    key = f"hits-{uuid.uuid4().hex}"
    assert [count_hit(shared_cache, key, 30) for _ in range(3)] == [1, 2, 3]
    assert shared_cache.get(key) == 3
    raw = shared_cache._cache.get_client(write=True)
    assert 0 < raw.ttl(shared_cache.make_and_validate_key(key)) <= 30


def test_a_hit_and_reads_in_one_trip(shared_cache):
    shared_cache.set("kept", {"a": "Hồ sơ"}, 30)
    key = f"hits-{uuid.uuid4().hex}"
    first = count_hit_and_get_many(shared_cache, key, 30, ["kept", "absent"])
    assert first == (1, {"kept": {"a": "Hồ sơ"}})
    assert count_hit_and_get_many(shared_cache, key, 30, []) == (2, {})


def test_the_per_client_throttle_on_the_shared_cache(world, settings):
    settings.MOTCUA_LOOKUP_RATE = "3/m"
    dossier = world.received()
    statuses = [_look(dossier.code, client="203.0.113.9").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert _look(dossier.code, client="203.0.113.10").status_code == 200
