"""Settings for the real-server tests in tests/ops: the project's settings plus a test-only
URL (``/_ops-test/slow``) that sleeps. Only these tests use this module; production never
loads it, so the slow endpoint cannot be reached there."""

from motcua.settings import *  # noqa: F403

ROOT_URLCONF = "tests.ops.server_urls"
