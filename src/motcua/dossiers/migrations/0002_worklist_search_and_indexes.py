"""The back office's worklist: a folded, indexed applicant name for diacritics-insensitive
search (``Applicant.search_text``, filled here for existing rows and kept by ``save``), on
PostgreSQL a trigram GIN index that serves its ``LIKE '%term%'`` scans (as catalog 0003 does for
procedures; without the pg_trgm extension the migration warns and search only scans), and an
index for the lists of one status newest first.
"""

import logging

from django.db import migrations, models

from motcua.core.text import fold

logger = logging.getLogger(__name__)

TRIGRAM_INDEX = "dossiers_applicant_search_trgm"


def fill_search_text(apps, schema_editor):
    Applicant = apps.get_model("dossiers", "Applicant")
    rows = []
    for applicant in Applicant.objects.only("pk", "name").iterator(chunk_size=2000):
        applicant.search_text = fold(applicant.name)[:255]
        rows.append(applicant)
        if len(rows) >= 2000:
            Applicant.objects.bulk_update(rows, ["search_text"])
            rows = []
    if rows:
        Applicant.objects.bulk_update(rows, ["search_text"])


def create_trigram_index(apps, schema_editor):
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
            except Exception as exc:
                cursor.execute("ROLLBACK TO SAVEPOINT motcua_trgm")
                logger.warning("pg_trgm unavailable (%s): applicant names stay unindexed.", exc)
                return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON dossiers_applicant "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="search_text",
            field=models.CharField(db_index=True, default="", editable=False, max_length=255),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["status", "-submitted_at"], name="dossier_status_submitted"),
        ),
    ]
