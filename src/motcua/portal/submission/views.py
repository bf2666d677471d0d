"""Online submission and "my dossiers" on the portal. Thin: parse, call services, render.

Every page is for a signed-in citizen (``citizen_required``) and shows only their own drafts and
dossiers: anything else is "not found" (404), never "forbidden". Everything works without
JavaScript except choosing files, which needs the small uploader (``portal/upload.js``, tus).
"""

from __future__ import annotations

import datetime as dt
import posixpath

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from motcua.accounts.citizens import applicant_input_for
from motcua.catalog import queries as catalog_queries
from motcua.catalog.models import Channel, Fee, OnlineMode
from motcua.core.errors import DomainError
from motcua.dossiers import files
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import (
    OPEN_STATUSES,
    Applicant,
    Delivery,
    Dossier,
    DossierEvent,
    Pause,
    Result,
    Status,
    SubmittedComponent,
)
from motcua.dossiers.queries import PUBLIC_STATUS
from motcua.portal.account.access import citizen_required
from motcua.submissions import services
from motcua.submissions.models import Draft, Upload

from .forms import (
    APPLICANT_FIELDS,
    ApplicantForm,
    DeliveryForm,
    StartForm,
    SupplementForm,
    WithdrawForm,
    communes,
    delivery_choices,
    described,
)

PAGE_SIZE = 20
UPLOAD_CHUNK_BYTES = 1024 * 1024
ONLINE_MODES = (OnlineMode.FULL, OnlineMode.PARTIAL)


# --- helpers --------------------------------------------------------------------------------


def _my_dossiers(user) -> QuerySet[Dossier]:
    """The dossiers whose applicant or owner is this account, or that it submitted online."""
    return Dossier.objects.filter(
        Q(applicant__user=user) | Q(owner__user=user) | Q(created_by=user, channel=Channel.ONLINE)
    ).distinct()


def _my_dossier(user, key) -> Dossier:
    dossier = (
        _my_dossiers(user)
        .select_related("procedure", "receiving_agency", "applicant", "variant", "version")
        .filter(uuid=key)
        .first()
    )
    if dossier is None:
        raise Http404(_("Không tìm thấy hồ sơ."))
    return dossier


def _draft(user, key, kind: str) -> Draft:
    try:
        draft = services.draft_of(user, key)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    if draft.kind != kind:
        raise Http404(_("Không tìm thấy bản nháp."))
    return draft


def _prefill(user) -> dict[str, str]:
    """Applicant data for a new e-form: the citizen profile of the account, else the account's
    latest applicant record, else its name and e-mail address."""
    profile = applicant_input_for(user)
    if profile.name or profile.personal_id or profile.tax_code:
        return {
            name: str(getattr(profile, FIELD_OF.get(name, name)) or "") for name in APPLICANT_FIELDS
        }
    known = (
        Applicant.objects.filter(user=user)
        .select_related("province", "commune")
        .order_by("-updated_at", "-id")
        .first()
    )
    if known is not None:
        return {
            "kind": known.kind,
            "personal_id": known.personal_id,
            "tax_code": known.tax_code,
            "name": known.name,
            "phone": known.phone,
            "email": known.email,
            "province": known.province.code if known.province_id else "",
            "commune": known.commune.code if known.commune_id else "",
            "address_line": known.address_line,
        }
    name = " ".join(part for part in (user.last_name, user.first_name) if part)
    return {"kind": Applicant.Kind.INDIVIDUAL, "name": name, "email": user.email or ""}


# Form field → ``ApplicantInput`` attribute, where the names differ.
FIELD_OF = {"province": "province_code", "commune": "commune_code"}


def _upload_context(draft: Draft) -> dict:
    slots = services.slots_of(draft)
    found = services.uploads_by_slot(draft)
    pending = services.uploads_by_slot(draft, Upload.State.RECEIVING)
    for slot in slots:
        slot.uploads = found.get(slot.key, [])
        slot.pending = pending.get(slot.key, [])
    return {
        "slots": slots,
        "tus_endpoint": reverse("portal:submission:tus"),
        "max_bytes": files.max_upload_bytes(),
        "max_mb": files.max_upload_bytes() // (1024 * 1024),
        "chunk_bytes": UPLOAD_CHUNK_BYTES,
        "accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
        "upload_texts": _upload_texts(),
    }


def _upload_texts() -> dict[str, str]:
    """The uploader's messages ({name}, {pct}, {mb}, {s}, {msg} are filled in by upload.js)."""
    return {
        "bad_type": _("«{name}»: chỉ nhận tệp PDF, JPG hoặc PNG."),
        "too_big": _("«{name}» vượt quá dung lượng cho phép ({mb} MB)."),
        "empty": _("«{name}» là tệp rỗng."),
        "checking": _("Đang kiểm tra «{name}»…"),
        "uploading": _("Đang tải lên «{name}»: {pct}%"),
        "resuming": _("Tiếp tục tải lên «{name}» từ {pct}%"),
        "retrying": _("Mất kết nối khi tải «{name}»: thử lại sau {s} giây…"),
        "offline": _("Mất mạng: «{name}» sẽ tiếp tục tải lên khi có mạng trở lại."),
        "done": _("Đã tải lên và kiểm tra «{name}»."),
        "failed": _("Không tải lên được «{name}»: {msg}"),
        "gave_up": _("Không kết nối được máy chủ. Hãy chọn lại tệp «{name}» để tiếp tục."),
        "busy": _("Vui lòng chờ các tệp tải lên xong rồi bấm nộp."),
        "pending": _("«{name}» đang tải dở ({pct}%). Chọn lại đúng tệp này để tải tiếp."),
        "remove": _("Xóa"),
        "network": _("lỗi kết nối"),
    }


def _posted(request: HttpRequest):
    """The posted data (even when empty) for a POST, else ``None`` (an unbound form)."""
    return request.POST if request.method == "POST" else None


def _online_version(procedure):
    version = procedure.current_version
    if version is None or version.online_mode not in ONLINE_MODES:
        return None
    return version


def _expired(request: HttpRequest, draft: Draft) -> HttpResponse:
    return render(
        request,
        "portal/submission/expired.html",
        {"draft": draft, "message": _(services.DraftExpired.default_message)},
        status=410,
    )


# --- start ----------------------------------------------------------------------------------


@citizen_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, code: str) -> HttpResponse:
    """Choose the case and the receiving agency, then open a new draft."""
    try:
        procedure = catalog_queries.procedure_detail(code)
    except (ObjectDoesNotExist, DomainError) as exc:
        raise Http404(_("Không tìm thấy thủ tục có mã %(code)s.") % {"code": code}) from exc
    if not procedure.is_active or procedure.current_version is None:
        raise Http404(_("Không tìm thấy thủ tục có mã %(code)s.") % {"code": code})
    version = _online_version(procedure)
    agencies = [link.agency for link in procedure.applied_by.all() if link.is_active]
    agencies = [agency for agency in agencies if agency.is_active]
    context = {"procedure": procedure, "version": procedure.current_version}
    if version is None or not agencies:
        context["reason"] = (
            _("Thủ tục này chưa được cung cấp trực tuyến: vui lòng nộp hồ sơ trực tiếp.")
            if version is None
            else _("Thủ tục chưa có cơ quan tiếp nhận hồ sơ trực tuyến.")
        )
        return render(request, "portal/submission/unavailable.html", context, status=409)
    variants = list(version.variants.all())
    form = StartForm(_posted(request), variants=variants, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        variant = next(v for v in variants if v.pk == form.cleaned_data["variant"])
        agency = next(a for a in agencies if a.pk == form.cleaned_data["agency"])
        draft = services.start_draft(
            request.user,
            procedure=procedure,
            variant=variant,
            agency=agency,
            data={"applicant": _prefill(request.user)},
        )
        return redirect("portal:submission:edit", key=draft.uuid)
    drafts = Draft.objects.filter(
        owner=request.user,
        kind=Draft.Kind.SUBMISSION,
        procedure=procedure,
        state=Draft.State.EDITING,
        expires_at__gt=timezone.now(),
    ).order_by("-updated_at")
    context.update(form=described(form), drafts=drafts, online_version=version)
    return render(request, "portal/submission/start.html", context)


# --- the e-form -----------------------------------------------------------------------------


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, key) -> HttpResponse:
    draft = _draft(request.user, key, Draft.Kind.SUBMISSION)
    if draft.state == Draft.State.SUBMITTED and draft.dossier_id:
        return redirect("portal:submission:dossier", key=draft.dossier.uuid)
    if services.is_expired(draft):
        return _expired(request, draft)
    stored = draft.data or {}
    if request.method == "POST":
        applicant = ApplicantForm(request.POST)
        delivery = DeliveryForm(request.POST, version=draft.version)
        action = request.POST.get("action", "save")
        data = {"applicant": applicant.raw(), "summary": request.POST.get("summary", "")[:2000]}
        try:
            services.save_draft(
                draft,
                data=data,
                delivery=request.POST.get("delivery", "")[:10],
                delivery_address=request.POST.get("delivery_address", ""),
            )
            remove = request.POST.get("remove")
            if remove:
                services.remove_upload(request.user, draft, remove)
                messages.success(request, _("Đã xóa tệp khỏi bản nháp."))
                return redirect("portal:submission:edit", key=draft.uuid)
            if action == "submit" and applicant.is_valid() and delivery.is_valid():
                dossier = services.submit_draft(
                    draft,
                    actor=request.user,
                    applicant=applicant.to_input(),
                    summary=delivery.cleaned_data.get("summary", ""),
                )
                messages.success(
                    request,
                    _(
                        "Đã nộp hồ sơ. Mã tham chiếu của hồ sơ là %(ref)s; mã hồ sơ sẽ được cấp "
                        "khi cơ quan tiếp nhận."
                    )
                    % {"ref": dossier.uuid},
                )
                return redirect("portal:submission:dossier", key=dossier.uuid)
            if action != "submit":
                until = formats.date_format(timezone.localtime(draft.expires_at), "d/m/Y")
                messages.success(
                    request,
                    _("Đã lưu bản nháp. Bản nháp được giữ đến ngày %(date)s.") % {"date": until},
                )
                return redirect("portal:submission:edit", key=draft.uuid)
            error = _("Tờ khai còn thông tin chưa đúng: vui lòng xem các ô được đánh dấu.")
        except services.DraftExpired:
            return _expired(request, draft)
        except services.DraftSubmitted:
            # Submitted meanwhile (a second click while the first was being written).
            draft.refresh_from_db()
            if draft.dossier_id:
                return redirect("portal:submission:dossier", key=draft.dossier.uuid)
            raise Http404(_("Không tìm thấy bản nháp.")) from None
        except DomainError as exc:
            error = exc.message
        status = 400
    else:
        initial = stored.get("applicant") or {}
        applicant = ApplicantForm(initial={k: initial.get(k, "") for k in APPLICANT_FIELDS})
        delivery = DeliveryForm(
            initial={
                "delivery": draft.delivery or delivery_choices(draft.version)[0][0],
                "delivery_address": draft.delivery_address,
                "summary": stored.get("summary", ""),
            },
            version=draft.version,
        )
        error, status = None, 200
    draft.refresh_from_db()
    context = {
        "draft": draft,
        "procedure": draft.procedure,
        "version": draft.version,
        "variant": draft.variant,
        "applicant_form": described(applicant),
        "delivery_form": described(delivery),
        "error": error,
        "fees": _fees(draft.variant),
        **_upload_context(draft),
    }
    return render(request, "portal/submission/draft.html", context, status=status)


def _fees(variant) -> list:
    return [fee for fee in variant.fees.all() if fee.channel == "online"]


@citizen_required
@require_POST
def discard(request: HttpRequest, key) -> HttpResponse:
    draft = _draft(request.user, key, Draft.Kind.SUBMISSION)
    try:
        services.discard_draft(draft)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã xóa bản nháp và các tệp đã tải lên."))
    return redirect("portal:submission:my_dossiers")


@require_GET
def commune_options(request: HttpRequest) -> HttpResponse:
    """The communes of a province as ``<option>`` elements (for htmx on the e-form)."""
    code = (request.GET.get("applicant-province") or request.GET.get("province") or "")[:10]
    return render(request, "portal/submission/_communes.html", {"communes": communes(code.strip())})


# --- my dossiers ----------------------------------------------------------------------------


NEEDS_YOU = {Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT, Status.RESULT_READY}


@citizen_required
@never_cache
def my_dossiers(request: HttpRequest) -> HttpResponse:
    rows = (
        _my_dossiers(request.user)
        .select_related("procedure", "receiving_agency")
        .order_by("-submitted_at", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for dossier in page.object_list:
        dossier.status_text = PUBLIC_STATUS[Status(dossier.status)]
        dossier.needs_you = dossier.status in NEEDS_YOU
    drafts = (
        Draft.objects.filter(
            owner=request.user,
            kind=Draft.Kind.SUBMISSION,
            state=Draft.State.EDITING,
            expires_at__gt=timezone.now(),
        )
        .select_related("procedure")
        .order_by("-updated_at")
    )
    return render(
        request, "portal/submission/my_dossiers.html", {"page": page, "drafts": list(drafts)}
    )


def _timeline(dossier: Dossier) -> list[dict]:
    """The dossier's history as plain sentences for the citizen."""
    events = DossierEvent.objects.filter(dossier=dossier).order_by("at", "id")
    lines = []
    for event in events:
        text = _sentence(event, dossier)
        if text:
            lines.append({"at": event.at, "text": text, "action": event.action})
    return lines


def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = timezone.localtime(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return ""
    return formats.date_format(moment, "H:i d/m/Y")


def _sentence(event: DossierEvent, dossier: Dossier) -> str:
    data = event.data or {}
    agency = event.agency.name if event.agency_id else ""
    action = event.action
    if action == "submit":
        if dossier.channel == "online":
            return _("Bạn đã nộp hồ sơ trực tuyến.")
        if dossier.channel == "postal":
            return _("Hồ sơ được gửi đến qua bưu chính.")
        return _("Hồ sơ được nộp tại Bộ phận Một cửa.")
    if action == "receive":
        due = _when(data.get("due_at"))
        if due:
            return _("%(agency)s đã tiếp nhận hồ sơ và hẹn trả kết quả lúc %(due)s.") % {
                "agency": agency,
                "due": due,
            }
        return _("%(agency)s đã tiếp nhận hồ sơ.") % {"agency": agency}
    if action == "refuse":
        return _("Hồ sơ không được tiếp nhận. Lý do: %(reason)s") % {"reason": event.note}
    if action == "request_supplement":
        items = "; ".join(str(i) for i in data.get("items", []))
        return _("Cơ quan đề nghị bổ sung, hoàn thiện hồ sơ: %(items)s.") % {"items": items}
    if action == "provide_supplement":
        return _("Đã nhận hồ sơ bổ sung; hồ sơ tiếp tục được giải quyết.")
    if action == "complete_step" and data.get("interagency"):
        return _("Hồ sơ được chuyển sang cơ quan phối hợp giải quyết.")
    if action == "request_payment":
        amount = data.get("amount")
        amount_text = f"{int(amount):,}".replace(",", ".") if amount else "—"
        return _("Cơ quan đề nghị thực hiện nghĩa vụ tài chính: %(amount)s đồng.") % {
            "amount": amount_text
        }
    if action == "confirm_payment":
        return _("Cơ quan đã xác nhận bạn thực hiện nghĩa vụ tài chính.")
    if action == "decide_extension" and data.get("approved"):
        return _(
            "Cơ quan xin lỗi vì chưa giải quyết kịp và hẹn lại thời gian trả kết quả: %(due)s."
        ) % {"due": _when(data.get("due_at"))}
    if action == "stop":
        return _("Hồ sơ đã dừng giải quyết theo đề nghị.")
    if action == "withdraw":
        return _("Hồ sơ đã được rút theo đề nghị của người nộp.")
    if action == "record_result":
        return _("Đã có kết quả giải quyết hồ sơ.")
    if action == "return_result":
        method = data.get("method")
        if method == Delivery.ONLINE:
            return _("Đã trả kết quả trực tuyến.")
        if method == Delivery.POSTAL:
            return _("Đã gửi kết quả qua bưu chính.")
        return _("Đã trả kết quả tại Bộ phận Một cửa.")
    if action == "rate":
        return _("Bạn đã đánh giá mức độ hài lòng.")
    return ""


def _rate_url(dossier: Dossier) -> str | None:
    if dossier.status != Status.RETURNED or not dossier.code:
        return None
    try:
        return reverse("portal:account:rate", args=[dossier.code])
    except NoReverseMatch:  # the rating page is not installed (yet)
        return None


@citizen_required
@never_cache
def dossier_detail(request: HttpRequest, key) -> HttpResponse:
    dossier = _my_dossier(request.user, key)
    pause = (
        Pause.objects.filter(dossier=dossier, ended_at__isnull=True).order_by("-started_at").first()
    )
    result = Result.objects.filter(dossier=dossier).first()
    components = list(
        SubmittedComponent.objects.filter(dossier=dossier)
        .prefetch_related("files")
        .order_by("order", "id")
    )
    fee_lines = [
        {**line, "label": Fee.Kind(line["kind"]).label if line.get("kind") in Fee.Kind else ""}
        for line in dossier.fee_lines or []
    ]
    context = {
        "dossier": dossier,
        "status_label": Status(dossier.status).label,
        "status_text": PUBLIC_STATUS[Status(dossier.status)],
        "timeline": _timeline(dossier),
        "pause": pause,
        "result": result,
        "result_downloadable": _downloadable(dossier, result),
        "components": components,
        "fee_lines": fee_lines,
        "can_withdraw": dossier.status in OPEN_STATUSES,
        "rate_url": _rate_url(dossier),
        "is_open": dossier.status in OPEN_STATUSES,
    }
    return render(request, "portal/submission/dossier.html", context)


def _downloadable(dossier: Dossier, result: Result | None) -> bool:
    return bool(
        result is not None
        and result.file
        and dossier.status in (Status.RESULT_READY, Status.RETURNED)
    )


@citizen_required
def result_file(request: HttpRequest, key) -> FileResponse:
    """The e-result, to the applicant's own account only (404 for anybody else)."""
    dossier = _my_dossier(request.user, key)
    result = Result.objects.filter(dossier=dossier).first()
    if not _downloadable(dossier, result):
        raise Http404(_("Hồ sơ chưa có kết quả điện tử."))
    try:
        handle = result.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("Không tìm thấy tệp kết quả.")) from exc
    stored = posixpath.basename(result.file.name)
    ext = stored.rsplit(".", 1)[-1].lower() if "." in stored else "pdf"
    name = f"ket-qua-{dossier.code or dossier.uuid}.{ext}"
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the citizen's actions ------------------------------------------------------------------


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def supplement(request: HttpRequest, key) -> HttpResponse:
    """Answer a supplement request online: the requested papers as upload slots."""
    dossier = _my_dossier(request.user, key)
    pause = services.open_supplement(dossier)
    if pause is None:
        messages.info(request, _("Hồ sơ không có yêu cầu bổ sung nào đang chờ."))
        return redirect("portal:submission:dossier", key=dossier.uuid)
    draft = services.supplement_draft(request.user, dossier, pause)
    form = SupplementForm(_posted(request))
    error, status = None, 200
    if request.method == "POST":
        try:
            remove = request.POST.get("remove")
            if remove:
                services.remove_upload(request.user, draft, remove)
                messages.success(request, _("Đã xóa tệp."))
                return redirect("portal:submission:supplement", key=dossier.uuid)
            if form.is_valid():
                services.submit_supplement(
                    draft, actor=request.user, note=form.cleaned_data["note"]
                )
                messages.success(
                    request, _("Đã nộp hồ sơ bổ sung. Hồ sơ tiếp tục được giải quyết.")
                )
                return redirect("portal:submission:dossier", key=dossier.uuid)
        except DomainError as exc:
            error = exc.message
        status = 400
    context = {
        "dossier": dossier,
        "pause": pause,
        "draft": draft,
        "form": described(form),
        "error": error,
        **_upload_context(draft),
    }
    return render(request, "portal/submission/supplement.html", context, status=status)


@citizen_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, key) -> HttpResponse:
    dossier = _my_dossier(request.user, key)
    if dossier.status not in OPEN_STATUSES:
        messages.info(request, _("Hồ sơ đã kết thúc, không thể rút."))
        return redirect("portal:submission:dossier", key=dossier.uuid)
    form = WithdrawForm(_posted(request))
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                dossier_services.withdraw(
                    dossier, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, _("Đã rút hồ sơ theo đề nghị của bạn."))
                return redirect("portal:submission:dossier", key=dossier.uuid)
        status = 400
    context = {"dossier": dossier, "form": described(form), "error": error}
    return render(request, "portal/submission/withdraw.html", context, status=status)
