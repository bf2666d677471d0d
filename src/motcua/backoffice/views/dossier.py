"""One dossier (by primary key: a dossier not yet received has no code): everything about it,
the actions the officer may take now, its files and its printed forms.

Open to every officer whose role has a dossier page (intake, inbox or return desk); which
dossiers they may see is decided by ``motcua.dossiers.queries.visible_to`` (else 404). Actions
post to ``dossier_action``, which checks the page's version, calls the service through the
action's form and comes back to the page (``actions``, ``action_forms``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from motcua.catalog.models import TimeUnit
from motcua.core.errors import DomainError
from motcua.dossiers import forms as dossier_forms
from motcua.dossiers.lifecycle import ACTION_LABELS, Action, TransitionNotAllowed
from motcua.dossiers.models import (
    ComponentFile,
    Dossier,
    DossierEvent,
    Pause,
    Result,
    Status,
    SubmittedComponent,
)
from motcua.dossiers.queries import visible_to

from .. import actions, worklist
from ..access import Page, officer_view
from ..action_forms import FORMS, ActionForm, StaleDossier, attach_error, execute

# Pages whose officers open dossiers (and print their forms).
DOSSIER_PAGES = (Page.INTAKE, Page.INBOX, Page.RETURN_DESK)

FORM_TITLES = {
    "01": gettext_lazy("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    "02": gettext_lazy("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    "03": gettext_lazy("Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    "04": gettext_lazy("Văn bản xin lỗi và đề nghị gia hạn"),
    "05": gettext_lazy("Thông báo dừng giải quyết hồ sơ"),
    "06": gettext_lazy("Phiếu kiểm soát quá trình giải quyết hồ sơ"),
}

STALE = gettext_lazy(
    "Hồ sơ đã được người khác cập nhật trong lúc bạn thao tác, nên thao tác của bạn chưa được "
    "thực hiện. Trang đã được tải lại với thông tin mới nhất: vui lòng kiểm tra rồi thực hiện "
    "lại nếu vẫn cần."
)

# Files shown in the browser; anything else is downloaded.
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def visible_dossier(request: HttpRequest, pk: int) -> Dossier:
    """The dossier if the officer may see it, else 404 (never 403: its existence is private)."""
    found = (
        visible_to(request.user)
        .select_related(
            "procedure",
            "version",
            "variant",
            "receiving_agency",
            "deciding_agency",
            "counter",
            "applicant__province",
            "applicant__commune",
            "owner__province",
            "owner__commune",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("Không tìm thấy hồ sơ."))
    return found


def printable_forms(state: actions.DossierState) -> list[dict]:
    """The forms the dossier has reached (as ``dossiers.forms.form_context`` decides)."""
    dossier = state.dossier
    codes = []
    if dossier.received_at is not None:
        codes.append("01")
    if any(p.kind == Pause.Kind.SUPPLEMENT for p in state.pauses):
        codes.append("02")
    if dossier.status == Status.REFUSED:
        codes.append("03")
    if state.extensions:
        codes.append("04")
    if dossier.status == Status.STOPPED:
        codes.append("05")
    if dossier.received_at is not None:
        codes.append("06")
    return [
        {
            "code": code,
            "title": FORM_TITLES[code],
            "url": reverse("backoffice:print_form", kwargs={"pk": dossier.pk, "form": code}),
        }
        for code in codes
    ]


def time_limit(dossier: Dossier) -> str:
    """``5 ngày làm việc``: the time limit the dossier was received under."""
    if dossier.time_limit_amount is None:
        return dossier.time_limit_text
    unit = dict(TimeUnit.choices).get(dossier.time_limit_unit, dossier.time_limit_unit)
    return f"{dossier.time_limit_amount.normalize():f} {unit}"


def _events(dossier: Dossier) -> list[dict]:
    rows = (
        DossierEvent.objects.filter(dossier=dossier).select_related("agency").order_by("at", "id")
    )
    return [
        {
            "event": event,
            "label": ACTION_LABELS.get(event.action, event.action),
            "status": Status(event.status_after).label,
            "changed": event.status_before != event.status_after,
        }
        for event in rows
    ]


def _context(
    request: HttpRequest,
    dossier: Dossier,
    *,
    bound: ActionForm | None = None,
    notice: str = "",
) -> dict:
    state = actions.load_state(dossier)
    user = request.user
    available = actions.available_actions(state, user)
    forms = []
    for action in available:
        if bound is not None and bound.action == action:
            forms.append(bound)
        else:
            forms.append(FORMS[action](state=state, user=user))
    if bound is not None and bound.action not in available:
        forms.insert(0, bound)  # the action just refused: keep what was typed and why
    components = list(
        SubmittedComponent.objects.filter(dossier=dossier)
        .prefetch_related("files")
        .order_by("order", "id")
    )
    result = Result.objects.filter(dossier=dossier).select_related("returned_by").first()
    now = worklist.now()
    calendar = worklist.agency_calendar(dossier.receiving_agency_id)
    paused = state.open_pause is not None and state.open_pause.stops_clock
    step = state.processing_step or state.active_step
    if dossier.is_open:
        deadline = worklist.remaining(calendar, dossier.due_at, now, paused=paused)
        step_deadline = (
            worklist.remaining(calendar, step.due_at, now, paused=paused) if step else None
        )
    else:
        timeliness = str(worklist.TIMELINESS_LABELS.get(dossier.timeliness, ""))
        deadline, step_deadline = worklist.Remaining(worklist.Urgency.DONE, timeliness), None
    return {
        "dossier": dossier,
        "state": state,
        "step": step,
        "deadline": deadline,
        "step_deadline": step_deadline,
        "forms": forms,
        "open_form": bound.action if bound is not None else request.GET.get("thao-tac", ""),
        "components": components,
        "result": result,
        "events": _events(dossier),
        "printable": printable_forms(state),
        "notice": notice,
        "owner": dossier.owner,
        "time_limit": time_limit(dossier),
    }


def _render(request, dossier, *, status: int = 200, **kwargs) -> HttpResponse:
    request.backoffice_section = Page.INBOX
    return render(
        request,
        "backoffice/dossier/dossier.html",
        _context(request, dossier, **kwargs),
        status=status,
    )


@officer_view(*DOSSIER_PAGES)
def dossier(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, visible_dossier(request, pk))


@officer_view(*DOSSIER_PAGES)
@require_POST
def dossier_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Carry out one action posted from the dossier page.

    Refused without writing anything when the page's version is not the dossier's current one
    (somebody acted in between: the page reloads, saying so), when the form is invalid, or when
    the service refuses (its message is shown on the form).
    """
    try:
        form_class = FORMS[Action(action)]
    except (ValueError, KeyError):
        raise Http404(_("Không có thao tác này.")) from None
    found = visible_dossier(request, pk)
    state = actions.load_state(found)
    form = form_class(request.POST, request.FILES, state=state, user=request.user)
    if not form.is_valid():
        if "version" in form.errors:
            return _render(request, found, status=409, notice=str(STALE))
        return _render(request, found, bound=form, status=400)
    try:
        message = execute(form)
    except StaleDossier:
        return _render(request, visible_dossier(request, pk), status=409, notice=str(STALE))
    except TransitionNotAllowed as exc:
        notice = _("Không thực hiện được: %(reason)s") % {"reason": exc.message}
        return _render(request, visible_dossier(request, pk), status=409, notice=notice)
    except DomainError as exc:
        attach_error(form, exc)
        return _render(request, visible_dossier(request, pk), bound=form, status=exc.status)
    messages.success(request, message)
    return redirect("backoffice:dossier", pk=found.pk)


def _file_response(field_file, *, name: str, content_type: str) -> FileResponse:
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        field_file.open("rb"),
        as_attachment=not inline,
        filename=name,
        content_type=content_type if inline else "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@officer_view(*DOSSIER_PAGES)
def component_file(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    """A scan of a dossier's component: shown in the browser (PDF, images) or downloaded."""
    found = visible_dossier(request, pk)
    item = ComponentFile.objects.filter(pk=file_id, component__dossier=found).first()
    if item is None or not item.file:
        raise Http404(_("Không tìm thấy tệp."))
    return _file_response(item.file, name=item.original_name, content_type=item.content_type)


@officer_view(*DOSSIER_PAGES)
def result_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The result's file (PDF) of a dossier the officer may see."""
    found = visible_dossier(request, pk)
    result = Result.objects.filter(dossier=found).first()
    if result is None or not result.file:
        raise Http404(_("Không tìm thấy tệp kết quả."))
    name = f"ket-qua-{found.code or found.uuid}.pdf"
    return _file_response(result.file, name=name, content_type="application/pdf")


@officer_view(*DOSSIER_PAGES, Page.REGISTERS)
def print_form(request: HttpRequest, pk: int, form: str) -> HttpResponse:
    """Mẫu ``form`` (01–06) of a dossier the officer may see, as a PDF shown in the browser.

    Link to it with ``{% url 'backoffice:print_form' pk=dossier.pk form='01' %}``. A form the
    dossier has not reached yet (Mẫu 03 of a dossier that was not refused, …) answers 409 with
    the reason; an unknown form number or an invisible dossier, 404.
    """
    if form not in dossier_forms.FORMS:
        raise Http404(_("Không có biểu mẫu này."))
    item = visible_to(request.user).filter(pk=pk).only("pk", "code", "uuid").first()
    if item is None:
        raise Http404(_("Không tìm thấy hồ sơ."))
    try:
        content = dossier_forms.render_form(item, form)
    except dossier_forms.FormNotApplicable as exc:
        request.backoffice_section = Page.INBOX
        context = {"dossier": item, "form": form, "message": exc.message}
        return render(request, "backoffice/dossier/form_unavailable.html", context, status=409)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"mau-{form}-{item.code or item.uuid}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("ho-so/<int:pk>/", dossier, name="dossier"),
    path("ho-so/<int:pk>/thao-tac/<str:action>/", dossier_action, name="dossier_action"),
    path("ho-so/<int:pk>/tep/<int:file_id>/", component_file, name="component_file"),
    path("ho-so/<int:pk>/ket-qua/", result_file, name="result_file"),
    path("ho-so/<int:pk>/in/<str:form>/", print_form, name="print_form"),
]
