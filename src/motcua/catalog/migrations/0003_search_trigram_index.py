"""Trigram GIN index on Procedure.search_text, on PostgreSQL only.

Search filters with ``search_text LIKE '%term%'``; a B-tree cannot serve that, a trigram
index can. SQLite has no such index and scans (a few thousand rows). If the pg_trgm extension
cannot be created (no privilege), the migration warns and goes on: search still works, only
slower.
"""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

INDEX = "catalog_procedure_search_trgm"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                # A savepoint so a refused CREATE EXTENSION does not abort the migration.
                cursor.execute("SAVEPOINT motcua_trgm")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute("RELEASE SAVEPOINT motcua_trgm")
            except Exception as exc:  # noqa: BLE001 - any refusal means "no index"
                cursor.execute("ROLLBACK TO SAVEPOINT motcua_trgm")
                logger.warning("pg_trgm unavailable (%s): search_text stays unindexed.", exc)
                return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_procedure "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_long_names"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
