import pytest

from motcua.dossiers import outbox
from motcua.monitoring.rollups import handle_message
from tests.dossiers.world import build_world


@pytest.fixture(autouse=True)
def monitor_handler():
    """Only monitoring's handler while a test runs; the apps' handlers come back afterwards."""
    saved = dict(outbox.HANDLERS), set(getattr(outbox, "OUTSIDE_TRANSACTION", ()))
    outbox.HANDLERS.clear()
    outbox.register_handler("monitor", handle_message)
    yield
    outbox.HANDLERS.clear()
    outbox.HANDLERS.update(saved[0])
    if hasattr(outbox, "OUTSIDE_TRANSACTION"):
        outbox.OUTSIDE_TRANSACTION.clear()
        outbox.OUTSIDE_TRANSACTION.update(saved[1])


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def deliver() -> None:
    """Deliver every pending message (as the per-minute sweep would)."""
    while outbox.deliver_pending() != (0, 0):
        pass
