"""Prepare a database for the real-server tests: migrate, load the demo catalogue (no accounts,
no dossiers), create a portal account with a ``dossiers:submit`` token and a counter officer
at every receiving agency used with a ``dossiers:process`` token. Prints one JSON object.

Run in a subprocess with the database in ``DATABASE_URL``::

    python -m tests.ops.prepare
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from motcua.accounts.models import ApiToken, Membership, Role, Scope
    from motcua.agencies.models import Agency
    from motcua.catalog.models import Procedure
    from motcua.demo.loader import load_demo

    with open(os.devnull, "w") as devnull:
        call_command("migrate", interactive=False, verbosity=0, stdout=devnull)
    load_demo(accounts=False, dossiers=False)

    # Online intake targets: single-variant procedures open online, at an agency applying them.
    targets = []
    for procedure in Procedure.objects.filter(is_active=True).select_related("current_version"):
        variants = list(procedure.current_version.variants.all())
        if len(variants) != 1 or not variants[0].time_limits.filter(channel="online").exists():
            continue
        required = [c.pk for c in variants[0].components.all() if c.required]
        for link in procedure.applied_by.filter(is_active=True).select_related("agency"):
            targets.append(
                {
                    "procedure": procedure.code,
                    "agency": link.agency.electronic_id,
                    "agency_id": link.agency_id,
                    "components": required,
                }
            )
    if not targets:
        raise SystemExit("the demo catalogue has no procedure open to online intake")

    User = get_user_model()
    portal = User.objects.create_user(username="ops-portal", first_name="Cổng DVC (kiểm thử)")
    _, submit = ApiToken.issue(
        name="ops portal", user=portal, scopes=[Scope.DOSSIERS_SUBMIT, Scope.DOSSIERS_READ]
    )
    officer = User.objects.create_user(username="ops-counter", first_name="Cán bộ một cửa")
    for agency_id in sorted({t["agency_id"] for t in targets}):
        Membership.objects.create(
            user=officer, agency=Agency.objects.get(pk=agency_id), role=Role.COUNTER_OFFICER
        )
    _, process = ApiToken.issue(
        name="ops counter", user=officer, scopes=[Scope.DOSSIERS_PROCESS, Scope.DOSSIERS_READ]
    )
    from django.db import connection

    if connection.vendor == "sqlite":  # everything in the main file, so it can be copied
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    json.dump({"submit": submit, "process": process, "targets": targets}, sys.stdout)


if __name__ == "__main__":
    main()
