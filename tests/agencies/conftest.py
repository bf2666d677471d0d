import pytest

from motcua.agencies.calendar import clear_calendar_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Test transactions are rolled back without signals, so a calendar built in one test
    # could outlive its rows.
    clear_calendar_cache()
    yield
    clear_calendar_cache()
