"""Load the national days off and make-up workdays shipped in agencies/data/holidays-vn.csv.

Self-contained on purpose (historical models, no app code), so it keeps working whatever the
services become. Existing national rows for the same date are updated, never duplicated.
"""

import csv
import datetime as dt
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "holidays-vn.csv"


def _rows():
    with CSV_PATH.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if not (row.get("date") or "").strip():
                continue
            yield {
                "date": dt.date.fromisoformat(row["date"].strip()),
                "kind": row["kind"].strip(),
                "name": (row.get("name") or "").strip(),
                "basis": (row.get("basis") or "").strip(),
            }


def load(apps, schema_editor):
    CalendarDay = apps.get_model("agencies", "CalendarDay")
    for row in _rows():
        CalendarDay.objects.update_or_create(
            agency=None,
            date=row["date"],
            defaults={"kind": row["kind"], "name": row["name"], "basis": row["basis"]},
        )


def unload(apps, schema_editor):
    CalendarDay = apps.get_model("agencies", "CalendarDay")
    CalendarDay.objects.filter(agency=None, date__in=[row["date"] for row in _rows()]).delete()


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
