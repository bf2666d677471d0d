"""Which dossier events the applicant is told about, and what the message says.

The message is built from the event as it was recorded (its time, its data: the appointment
then, the items asked for, the amount), not from the dossier as it is when the outbox gets to
it, so a late delivery still says what happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from motcua.dossiers.forms import lookup_url
from motcua.dossiers.lifecycle import Action
from motcua.dossiers.models import Delivery, DossierEvent, Extension, Pause, Result
from motcua.printing import fmt

from .models import Kind

KINDS: dict[str, str] = {
    Action.RECEIVE: Kind.RECEIVED,
    Action.REQUEST_SUPPLEMENT: Kind.SUPPLEMENT_REQUESTED,
    Action.PROVIDE_SUPPLEMENT: Kind.SUPPLEMENT_RECEIVED,
    Action.REQUEST_PAYMENT: Kind.PAYMENT_REQUESTED,
    Action.DECIDE_EXTENSION: Kind.EXTENDED,
    Action.RECORD_RESULT: Kind.RESULT_READY,
    Action.RETURN_RESULT: Kind.RETURNED,
    Action.REFUSE: Kind.REFUSED,
    Action.STOP: Kind.STOPPED,
    Action.WITHDRAW: Kind.WITHDRAWN,
}


def kind_of(event: DossierEvent) -> str | None:
    """The notification an event calls for, or None (assignments, steps, a rejected extension)."""
    kind = KINDS.get(event.action)
    if kind == Kind.EXTENDED and not (event.data or {}).get("approved"):
        return None
    return kind


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        return parse_datetime(value)
    return None


def lookup_page() -> str:
    base = getattr(settings, "MOTCUA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("portal:dossier_lookup")


def context(event: DossierEvent, kind: str) -> dict[str, Any]:
    """What the templates of ``kind`` may use (texts in the site's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _context(event, kind)


def _context(event: DossierEvent, kind: str) -> dict[str, Any]:
    dossier = event.dossier
    data = event.data or {}
    code = dossier.code or ""
    page = lookup_page()
    ctx: dict[str, Any] = {
        "kind": kind,
        "name": dossier.applicant.name,
        "code": code,
        # How the dossier is named before it has a code (refused or sent back at intake).
        "ref": code or gettext("nộp ngày %(day)s") % {"day": fmt.short_date(dossier.submitted_at)},
        "procedure": dossier.version.name if dossier.version_id else dossier.procedure.name,
        "agency": dossier.receiving_agency.name,
        "submitted_on": fmt.short_date(dossier.submitted_at),
        "at": fmt.short_datetime(event.at),
        "on": fmt.short_date(event.at),
        "note": event.note,
        "lookup_page": page,
        "lookup_url": lookup_url(code) if code else page,
        "link": lookup_url(code) if code else page,
    }
    due = _moment(data.get("due_at")) or dossier.due_at
    if due is not None:
        ctx["due"] = fmt.short_datetime(due)
        ctx["due_long"] = fmt.long_datetime(due)
    if kind == Kind.SUPPLEMENT_REQUESTED:
        items = data.get("items")
        if items is None and data.get("pause"):
            items = Pause.objects.filter(pk=data["pause"]).values_list("items", flat=True).first()
        ctx["items"] = list(items or [])
    elif kind == Kind.PAYMENT_REQUESTED:
        amount = data.get("amount")
        ctx["amount"] = fmt.money(int(amount)) if amount else ""
    elif kind == Kind.EXTENDED:
        previous = _moment(data.get("previous_due_at"))
        ctx["previous_due"] = fmt.short_datetime(previous) if previous else ""
        extension = Extension.objects.filter(pk=data.get("extension")).first()
        ctx["reason"] = extension.reason if extension else ""
    elif kind in (Kind.RESULT_READY, Kind.RETURNED):
        result = Result.objects.filter(dossier=dossier).first()
        ctx["result_number"] = result.number if result else data.get("number", "")
        ctx["granted"] = result is None or result.kind == Result.Kind.GRANTED
        method = data.get("method") or dossier.delivery
        ctx["method"] = method
        ctx["method_label"] = str(Delivery(method).label) if method in Delivery.values else ""
        ctx["waybill"] = result.waybill if result else ""
        ctx["delivery_address"] = dossier.delivery_address
    return ctx
