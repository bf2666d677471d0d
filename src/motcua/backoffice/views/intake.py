"""Tiếp nhận hồ sơ — counter intake (counter officers of the current membership's agency).

One screen for the desk: find the procedure (diacritics-insensitive, by code or name, among
those the agency may receive), choose its variant, tick the papers handed in and drop their
scans, identify the applicant (a returning one is filled in), see the fees and the appointment,
then one of three outcomes, each only through ``dossiers.services``:

* **receive** — ``submit`` (channel counter) + ``receive``: a code, an appointment, Mẫu 01;
* **request a supplement** — ``submit`` + ``request_supplement`` listing everything missing
  at once (Mẫu 02);
* **refuse** — ``submit`` + ``refuse`` with the reason (Mẫu 03).

The three calls run in one transaction: a refusal by the services (``DomainError``) writes
nothing and is shown on the form. The form carries a token (a UUID) that is both the
idempotency key given to ``services.submit`` (scoped by the officer) and the key of the scans
staged before the dossier existed (``backoffice.staging``): the same form posted twice (a double
click, a resent request) leads to the one dossier the first post created.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from motcua.agencies import units
from motcua.core.errors import DomainError
from motcua.dossiers import services
from motcua.dossiers.files import max_upload_bytes
from motcua.dossiers.lifecycle import ACTION_LABELS, Action
from motcua.dossiers.models import Dossier, Pause, Status
from motcua.dossiers.queries import visible_to

from .. import intake_queries, staging
from ..access import Page, officer_view
from ..context import current_membership
from ..intake_forms import ApplicantForm, IntakeBundle, Outcome, applicant_initial

log = logging.getLogger(__name__)

SESSION_COUNTER = "backoffice_counter"
APPLICANT_PREFIXES = ("applicant", "owner")

# The status each outcome leaves a new dossier in, and the action it records.
OUTCOME_STATUS = {
    Outcome.RECEIVE: Status.RECEIVED,
    Outcome.SUPPLEMENT: Status.AWAITING_SUPPLEMENT,
    Outcome.REFUSE: Status.REFUSED,
}
DONE_OUTCOMES = {
    Status.RECEIVED: "received",
    Status.AWAITING_SUPPLEMENT: "supplement",
    Status.REFUSED: "refused",
}
OUTCOME_ACTION = {
    Outcome.RECEIVE: Action.RECEIVE,
    Outcome.SUPPLEMENT: Action.REQUEST_SUPPLEMENT,
    Outcome.REFUSE: Action.REFUSE,
}


def _shortcuts() -> list[tuple[str, str]]:
    """Keyboard shortcuts, listed on the page and wired by intake.js."""
    return [
        ("Alt+N", _("Hồ sơ mới (bỏ hồ sơ đang nhập)")),
        ("Alt+T", _("Tìm thủ tục")),
        ("Alt+G", _("Thành phần hồ sơ (giấy tờ)")),
        ("Alt+P", _("Người nộp hồ sơ")),
        ("Alt+K", _("Kết quả tiếp nhận")),
        ("↑ ↓ Enter", _("Chọn thủ tục trong danh sách tìm được")),
        ("Esc", _("Đóng danh sách tìm được")),
    ]


def _agency(request: HttpRequest):
    return current_membership(request).agency


def _idempotency_key(user, token: uuid.UUID) -> str:
    """Scoped by the officer: another officer's token never finds this officer's dossier."""
    return f"backoffice:{user.pk}:{token.hex}"


def _counter_id(request: HttpRequest) -> int | None:
    value = request.session.get(SESSION_COUNTER)
    return value if isinstance(value, int) else None


# --- the page -------------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    bundle: IntakeBundle,
    *,
    q: str = "",
    results=(),
    status: int = 200,
) -> HttpResponse:
    agency = bundle.agency
    preview = intake_queries.preview(agency, bundle.variant) if bundle.variant is not None else None
    context = {
        "title": _("Tiếp nhận hồ sơ"),
        "bundle": bundle,
        "agency": agency,
        "q": q,
        "results": results,
        "searched": bool(q.strip()),
        "preview": preview,
        "shortcuts": _shortcuts(),
        "max_upload_bytes": max_upload_bytes(),
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
        "missing": bundle.missing() if bundle.variant is not None else [],
    }
    return render(request, "backoffice/intake/page.html", context, status=status)


@officer_view(Page.INTAKE)
def intake(request: HttpRequest) -> HttpResponse:
    agency = _agency(request)
    if request.method == "POST":
        return _post(request, agency)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    q = request.GET.get("q", "")[:200]
    procedure = intake_queries.procedure_for(agency, request.GET.get("procedure", ""))
    bundle = IntakeBundle(
        agency=agency,
        user=request.user,
        procedure=procedure,
        variant_id=request.GET.get("variant"),
        counter_id=_counter_id(request),
    )
    results = intake_queries.search(agency, q) if procedure is None else []
    return _page(request, bundle, q=q, results=results)


def _post(request: HttpRequest, agency) -> HttpResponse:
    user = request.user
    outcome = request.POST.get("outcome", "")
    token = staging.parse_id(request.POST.get("token", ""))
    key = _idempotency_key(user, uuid.UUID(hex=token)) if token else None
    if key is not None:
        # The same form again (double click, resent request): what the first post did stands.
        # The key is unique: no ORDER BY/LIMIT (see services._by_idempotency_key).
        done = next(iter(Dossier.objects.filter(idempotency_key=key).order_by()), None)
        if done is not None:
            return _replayed(request, done, outcome)
    bundle = IntakeBundle(agency=agency, user=user, data=request.POST, files=request.FILES)
    if bundle.is_valid(outcome):
        submission = bundle.submission()
        try:
            dossier = _carry_out(user, submission, outcome, key)
        except _Replayed as replay:
            return _replayed(request, replay.dossier, outcome)
        except DomainError as exc:
            bundle.add_error(exc.message)
        else:
            if submission.data.counter_id:
                request.session[SESSION_COUNTER] = submission.data.counter_id
            return redirect("backoffice:intake_done", pk=dossier.pk)
    return _page(request, bundle, status=200)


class _Replayed(Exception):
    def __init__(self, dossier: Dossier):
        self.dossier = dossier


def _carry_out(user, submission, outcome: str, key: str | None) -> Dossier:
    """Create the dossier, attach its scans and decide it, in one transaction."""
    written: list[str] = []
    committed = False
    try:
        with transaction.atomic():
            dossier, created = services.submit(submission.data, actor=user, idempotency_key=key)
            if not created:
                raise _Replayed(dossier)
            for row, scans in zip(dossier.new_components, submission.files, strict=True):
                for scan in scans:
                    content = staging.read(user.pk, submission.token, scan)
                    attached = services.attach_file(
                        dossier,
                        actor=user,
                        submitted_component_id=row.pk,
                        name=scan.name,
                        content_type=scan.content_type,
                        content=content,
                    )
                    written.append(attached.file.name)
            if outcome == Outcome.RECEIVE:
                dossier = services.receive(dossier, actor=user)
            elif outcome == Outcome.SUPPLEMENT:
                services.request_supplement(dossier, actor=user, items=submission.supplement_items)
            else:
                services.refuse(dossier, actor=user, reason=submission.refuse_reason)
            transaction.on_commit(partial(staging.discard, user.pk, submission.token), robust=True)
        committed = True
    finally:
        if not committed:
            # The rows are rolled back; the scans already copied to the dossier's folder go too.
            for name in written:
                try:
                    default_storage.delete(name)
                except Exception:  # pragma: no cover - storage outage: only an orphan file
                    log.warning("could not delete orphan scan %s", name, exc_info=True)
    return dossier


def _replayed(request: HttpRequest, dossier: Dossier, outcome: str) -> HttpResponse:
    if dossier.status == OUTCOME_STATUS.get(outcome):
        messages.info(
            request,
            _("Hồ sơ này đã được ghi nhận từ lần gửi trước; không tạo thêm hồ sơ nào."),
        )
    else:
        action = ACTION_LABELS.get(OUTCOME_ACTION.get(outcome, ""), _("thao tác"))
        messages.warning(
            request,
            _(
                "Không thực hiện «%(action)s»: hồ sơ của biểu mẫu này đã được xử lý trước đó "
                "và đang ở trạng thái «%(status)s». Không có thay đổi nào được ghi."
            )
            % {"action": action, "status": dossier.get_status_display()},
        )
    return redirect("backoffice:intake_done", pk=dossier.pk)


# --- fragments (htmx) -----------------------------------------------------------------------


@officer_view(Page.INTAKE)
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The procedures matching what is typed, as a listbox fragment."""
    agency = _agency(request)
    q = request.GET.get("q", "")[:200]
    if not request.htmx:
        return redirect(reverse("backoffice:intake") + "?" + urlencode({"q": q}))
    context = {
        "results": intake_queries.search(agency, q),
        "q": q,
        "searched": bool(q.strip()),
        "agency": agency,
    }
    return render(request, "backoffice/intake/_results.html", context)


@officer_view(Page.INTAKE)
@require_GET
def case(request: HttpRequest) -> HttpResponse:
    """The chosen procedure: its variants and, once one is chosen, its checklist (and the
    preview, out of band)."""
    agency = _agency(request)
    code = request.GET.get("procedure", "")
    variant = request.GET.get("variant")
    if not request.htmx:
        query = {"procedure": code, **({"variant": variant} if variant else {})}
        return redirect(reverse("backoffice:intake") + "?" + urlencode(query))
    procedure = intake_queries.procedure_for(agency, code)
    bundle = IntakeBundle(agency=agency, user=request.user, procedure=procedure, variant_id=variant)
    preview = intake_queries.preview(agency, bundle.variant) if bundle.variant is not None else None
    context = {
        "bundle": bundle,
        "agency": agency,
        "preview": preview,
        "unknown_procedure": bool(code.strip()) and procedure is None,
        "missing": bundle.missing() if bundle.variant is not None else [],
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
        "oob": True,
    }
    return render(request, "backoffice/intake/_case.html", context)


@officer_view(Page.INTAKE)
@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    """Fees for the counter channel and the expected appointment if received now."""
    agency = _agency(request)
    variant = intake_queries.variant_for(agency, request.GET.get("variant"))
    context = {"preview": intake_queries.preview(agency, variant) if variant else None}
    return render(request, "backoffice/intake/_preview.html", context)


@officer_view(Page.INTAKE)
@require_GET
def applicant(request: HttpRequest) -> HttpResponse:
    """A returning applicant (or owner) by personal id or tax code: the block filled in."""
    prefix = request.GET.get("prefix", "applicant")
    if prefix not in APPLICANT_PREFIXES:
        raise Http404
    agency = _agency(request)
    data = request.GET.copy()
    kind = data.get(f"{prefix}-kind") or "individual"
    id_field = "tax_code" if kind == "organisation" else "personal_id"
    raw = (data.get(f"{prefix}-{id_field}") or "").strip()
    found = None
    problem = ""
    if raw:
        try:
            if id_field == "personal_id":
                found = services.find_applicant(personal_id=raw)
            else:
                found = services.find_applicant(tax_code=raw)
        except DomainError as exc:
            problem = exc.message
    if found is not None:
        known = applicant_initial(found)
        # Fill in what the officer has not typed; the address (province, commune, line) only
        # as a whole, so a commune never lands in another province.
        for name in ("kind", "personal_id", "tax_code", "name", "phone", "email"):
            if known[name] and not (data.get(f"{prefix}-{name}") or "").strip():
                data[f"{prefix}-{name}"] = known[name]
        address = ("province", "commune", "address_line")
        typed = any(
            (data.get(f"{prefix}-{name}") or "").strip() for name in ("commune", "address_line")
        )
        if not typed and any(known[name] for name in address):
            for name in address:
                data[f"{prefix}-{name}"] = known[name]
    form = ApplicantForm(
        data,
        prefix=prefix,
        provinces=units.provinces(),
        default_province=intake_queries.home_province(agency),
    )
    form.is_valid()
    # Only the identifier is judged here: the rest is still being typed.
    for name in list(form.errors):
        if name != id_field or not raw:
            del form.errors[name]
    if problem and id_field not in form.errors:
        form.add_error(id_field, problem)
    if found is not None:
        focus = f"id_{prefix}-phone"
    elif raw and not form.errors:
        focus = f"id_{prefix}-name"
    else:
        focus = f"id_{prefix}-{id_field}"
    context = {
        "form": form,
        "who": prefix,
        "found": found,
        "looked_up": bool(raw) and not form.errors,
        "focus": focus,
    }
    return render(request, "backoffice/intake/_applicant.html", context)


@officer_view(Page.INTAKE)
@require_GET
def communes(request: HttpRequest) -> HttpResponse:
    """The communes of a province, as ``<option>`` elements."""
    prefix = request.GET.get("prefix", "applicant")
    if prefix not in APPLICANT_PREFIXES:
        raise Http404
    province = request.GET.get(f"{prefix}-province", "")
    context = {"communes": units.communes(province)}
    return render(request, "backoffice/intake/_communes.html", context)


@officer_view(Page.INTAKE)
@require_POST
def stage_file(request: HttpRequest) -> HttpResponse:
    """Keep one scan for the form ``token`` until the dossier is written (XMLHttpRequest)."""
    token = staging.parse_id(request.POST.get("token", ""))
    upload = request.FILES.get("file")
    if token is None:
        return JsonResponse(
            {"error": _("Biểu mẫu đã hết hạn: tải lại trang để tiếp tục.")}, status=400
        )
    if upload is None:
        return JsonResponse({"error": _("Chưa chọn tệp.")}, status=400)
    try:
        staged = staging.stage(request.user.pk, uuid.UUID(hex=token), upload)
    except DomainError as exc:
        return JsonResponse({"error": f"«{upload.name}»: {exc.message}"}, status=422)
    return JsonResponse(
        {
            "id": staged.id,
            "name": staged.name,
            "size": staged.size,
            "size_label": staged.size_label,
            "content_type": staged.content_type,
        },
        status=201,
    )


# --- after the decision ---------------------------------------------------------------------


def _forms_of(dossier: Dossier) -> list[tuple[str, str]]:
    """The official forms this dossier has now, with their names."""
    found = []
    if dossier.received_at is not None:
        found.append(("01", _("Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)")))
    if dossier.pauses.filter(kind=Pause.Kind.SUPPLEMENT).exists():
        found.append(("02", _("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)")))
    if dossier.status == Status.REFUSED:
        found.append(("03", _("Phiếu từ chối tiếp nhận giải quyết hồ sơ (Mẫu 03)")))
    if dossier.received_at is not None:
        found.append(("06", _("Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 06)")))
    return found


@officer_view(Page.INTAKE)
@require_GET
def done(request: HttpRequest, pk: int) -> HttpResponse:
    """What the desk just did: the code and appointment, the forms to print and hand over."""
    dossier = (
        visible_to(request.user)
        .select_related("procedure", "version", "variant", "applicant", "receiving_agency")
        .filter(pk=pk)
        .first()
    )
    if dossier is None:
        raise Http404(_("Không tìm thấy hồ sơ."))
    pause = None
    if dossier.status == Status.AWAITING_SUPPLEMENT:
        pause = dossier.pauses.filter(kind=Pause.Kind.SUPPLEMENT).order_by("-started_at").first()
    refusal = None
    if dossier.status == Status.REFUSED:
        refusal = dossier.events.filter(action=Action.REFUSE).order_by("-at").first()
    context = {
        "title": _("Kết quả tiếp nhận"),
        "dossier": dossier,
        "forms": _forms_of(dossier),
        "pause": pause,
        "refusal": refusal,
        "outcome": DONE_OUTCOMES.get(dossier.status, "other"),
        "events": [
            (event, ACTION_LABELS.get(event.action, event.action))
            for event in dossier.events.order_by("at", "id")
        ],
        "components": list(dossier.components.prefetch_related("files")),
    }
    return render(request, "backoffice/intake/done.html", context)


urlpatterns = [
    path("tiep-nhan/", intake, name="intake"),
    path("tiep-nhan/thu-tuc/", search, name="intake_search"),
    path("tiep-nhan/truong-hop/", case, name="intake_case"),
    path("tiep-nhan/xem-truoc/", preview, name="intake_preview"),
    path("tiep-nhan/nguoi-nop/", applicant, name="intake_applicant"),
    path("tiep-nhan/xa-phuong/", communes, name="intake_communes"),
    path("tiep-nhan/tep/", stage_file, name="intake_stage_file"),
    path("tiep-nhan/ket-qua/<int:pk>/", done, name="intake_done"),
]
