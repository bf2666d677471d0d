"""The small form of each action on the dossier page, and how it calls the service.

Each form validates what the officer typed (Vietnamese messages next to the fields), carries
the dossier's ``version`` (its last event id) so that an action prepared on a page someone else
has changed since is refused, and ``perform`` calls the one service function of its action.
A ``DomainError`` the service raises is put back on the form: on the field it concerns when the
code says which (``FIELD_OF_ERROR``), else above the form.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.agencies.calendar import calendar_for
from motcua.core.errors import DomainError
from motcua.core.worktime import VN_TZ
from motcua.dossiers import files, services
from motcua.dossiers.lifecycle import ACTION_LABELS, Action
from motcua.dossiers.models import Delivery, Dossier, Result

from . import actions
from .actions import DossierState


def _required(message) -> dict:
    return {"required": message}


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


class ActionForm(forms.Form):
    """Base of the action forms: the dossier's version and the call to the service."""

    action: Action
    submit_label = gettext_lazy("Xác nhận")
    help = ""  # one sentence shown above the fields

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, state: DossierState, user, **kwargs):
        self.state = state
        self.user = user
        kwargs.setdefault("prefix", str(self.action))
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", state.version)
        super().__init__(*args, **kwargs)

    @property
    def title(self) -> str:
        return str(ACTION_LABELS[self.action])

    @property
    def dossier(self):
        return self.state.dossier

    def perform(self) -> str:
        """Call the service; return the confirmation to show. Raises ``DomainError``."""
        raise NotImplementedError


# --- intake decisions (online dossiers) ------------------------------------------------------


class ReceiveForm(ActionForm):
    action = Action.RECEIVE
    submit_label = gettext_lazy("Tiếp nhận hồ sơ")
    help = gettext_lazy("Hồ sơ đủ thành phần: cấp mã hồ sơ, hẹn ngày trả kết quả (Mẫu 01).")
    note = forms.CharField(label=gettext_lazy("Ghi chú"), required=False, widget=_textarea(2))

    def perform(self) -> str:
        dossier = services.receive(self.dossier, actor=self.user, note=self.cleaned_data["note"])
        return _("Đã tiếp nhận hồ sơ, mã hồ sơ %(code)s.") % {"code": dossier.code}


class RefuseForm(ActionForm):
    action = Action.REFUSE
    submit_label = gettext_lazy("Từ chối tiếp nhận")
    help = gettext_lazy("Hồ sơ không thuộc thẩm quyền hoặc không đủ điều kiện (Mẫu 03).")
    reason = forms.CharField(
        label=gettext_lazy("Lý do từ chối"),
        widget=_textarea(),
        error_messages=_required(gettext_lazy("Cần ghi rõ lý do từ chối tiếp nhận.")),
    )

    def perform(self) -> str:
        services.refuse(self.dossier, actor=self.user, reason=self.cleaned_data["reason"])
        return _("Đã từ chối tiếp nhận hồ sơ.")


# --- supplements and payments -----------------------------------------------------------------


class RequestSupplementForm(ActionForm):
    action = Action.REQUEST_SUPPLEMENT
    submit_label = gettext_lazy("Gửi yêu cầu bổ sung")
    help = gettext_lazy(
        "Yêu cầu một lần, đầy đủ các giấy tờ, nội dung cần bổ sung (Mẫu 02). Thời gian giải "
        "quyết tạm dừng đến khi nhận đủ hồ sơ bổ sung."
    )
    items = forms.CharField(
        label=gettext_lazy("Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)"),
        widget=_textarea(4),
        error_messages=_required(
            gettext_lazy("Cần liệt kê đầy đủ các giấy tờ, nội dung phải bổ sung.")
        ),
    )
    reason = forms.CharField(label=gettext_lazy("Lý do"), required=False, widget=_textarea(2))
    legal_basis = forms.CharField(
        label=gettext_lazy("Căn cứ pháp lý"), required=False, max_length=500
    )
    approver = UserChoiceField(
        label=gettext_lazy("Lãnh đạo phê duyệt"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("— Chọn lãnh đạo —"),
    )
    approval_reason = forms.CharField(
        label=gettext_lazy("Lý do phải yêu cầu bổ sung lần nữa"),
        required=False,
        widget=_textarea(2),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.state.second_supplement:
            self.fields["approver"].queryset = actions.approvers(self.state)
            self.fields["approver"].required = True
            self.fields["approver"].error_messages["required"] = _(
                "Yêu cầu bổ sung lần nữa cần lãnh đạo phê duyệt."
            )
            self.fields["approval_reason"].required = True
            self.fields["approval_reason"].error_messages["required"] = _(
                "Cần ghi rõ lý do phải yêu cầu bổ sung lần nữa."
            )
            self.help = _(
                "Hồ sơ đã được yêu cầu bổ sung trong quá trình giải quyết: yêu cầu lần nữa cần "
                "lãnh đạo phê duyệt và ghi rõ lý do (lần yêu cầu thứ hai tính là quá hạn)."
            )
        else:
            del self.fields["approver"]
            del self.fields["approval_reason"]

    def clean_items(self) -> list[str]:
        items = [" ".join(line.split()) for line in self.cleaned_data["items"].splitlines()]
        items = [item for item in items if item]
        if not items:
            raise forms.ValidationError(_("Cần liệt kê đầy đủ các giấy tờ, nội dung phải bổ sung."))
        return items

    def perform(self) -> str:
        data = self.cleaned_data
        services.request_supplement(
            self.dossier,
            actor=self.user,
            items=data["items"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            approver=data.get("approver"),
            approval_reason=data.get("approval_reason") or "",
        )
        return _("Đã yêu cầu bổ sung hồ sơ; thời gian giải quyết tạm dừng. In Mẫu 02 để gửi.")


class ProvideSupplementForm(ActionForm):
    action = Action.PROVIDE_SUPPLEMENT
    submit_label = gettext_lazy("Xác nhận đã nhận bổ sung")
    help = gettext_lazy(
        "Tổ chức, cá nhân đã nộp đủ hồ sơ bổ sung: thời gian giải quyết được tính tiếp."
    )
    note = forms.CharField(
        label=gettext_lazy("Giấy tờ đã nhận bổ sung"), required=False, widget=_textarea(2)
    )

    def perform(self) -> str:
        services.provide_supplement(self.dossier, actor=self.user, note=self.cleaned_data["note"])
        return _("Đã nhận hồ sơ bổ sung; thời gian giải quyết được tính tiếp.")


class RequestPaymentForm(ActionForm):
    action = Action.REQUEST_PAYMENT
    submit_label = gettext_lazy("Gửi yêu cầu")
    amount = forms.IntegerField(
        label=gettext_lazy("Số tiền (đồng)"),
        min_value=1,
        max_value=10**15,
        error_messages={
            "required": gettext_lazy("Cần nhập số tiền phải nộp."),
            "invalid": gettext_lazy("Số tiền phải là số nguyên (đồng)."),
            "min_value": gettext_lazy("Số tiền phải lớn hơn 0."),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Nghĩa vụ tài chính phải thực hiện"),
        widget=_textarea(2),
        error_messages=_required(gettext_lazy("Cần ghi rõ nghĩa vụ tài chính phải thực hiện.")),
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Căn cứ pháp lý"), required=False, max_length=500
    )

    def perform(self) -> str:
        data = self.cleaned_data
        services.request_payment(
            self.dossier,
            actor=self.user,
            amount=data["amount"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
        )
        return _("Đã yêu cầu thực hiện nghĩa vụ tài chính.")


class ConfirmPaymentForm(ActionForm):
    action = Action.CONFIRM_PAYMENT
    submit_label = gettext_lazy("Xác nhận đã nộp")
    help = gettext_lazy("Tổ chức, cá nhân đã thực hiện nghĩa vụ tài chính: hồ sơ được xử lý tiếp.")
    receipt = forms.CharField(
        label=gettext_lazy("Số biên lai, chứng từ"), required=False, max_length=100
    )

    def perform(self) -> str:
        services.confirm_payment(
            self.dossier, actor=self.user, receipt=self.cleaned_data["receipt"]
        )
        return _("Đã xác nhận thực hiện nghĩa vụ tài chính; hồ sơ được xử lý tiếp.")


# --- processing -------------------------------------------------------------------------------


class AssignForm(ActionForm):
    action = Action.ASSIGN
    submit_label = gettext_lazy("Phân công")
    assignee = UserChoiceField(
        label=gettext_lazy("Người xử lý"),
        queryset=None,
        empty_label=gettext_lazy("— Chọn cán bộ —"),
        error_messages=_required(gettext_lazy("Cần chọn người xử lý.")),
    )
    note = forms.CharField(
        label=gettext_lazy("Ý kiến chỉ đạo"), required=False, widget=_textarea(2)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = actions.assignees(self.state)
        step = self.state.processing_step
        if step is not None:
            self.help = _("Bước «%(step)s» tại %(agency)s.") % {
                "step": step.name,
                "agency": step.department.name if step.department_id else step.agency.name,
            }

    def perform(self) -> str:
        assignee = self.cleaned_data["assignee"]
        services.assign(
            self.dossier, actor=self.user, assignee=assignee, note=self.cleaned_data["note"]
        )
        return _("Đã phân công %(name)s xử lý hồ sơ.") % {"name": user_label(assignee)}


class CompleteStepForm(ActionForm):
    action = Action.COMPLETE_STEP
    submit_label = gettext_lazy("Hoàn thành, chuyển bước tiếp")
    note = forms.CharField(
        label=gettext_lazy("Ý kiến xử lý"),
        widget=_textarea(),
        error_messages=_required(gettext_lazy("Cần ghi ý kiến xử lý của bước này.")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        following = self.state.next_step
        if following is not None:
            self.help = _("Bước tiếp theo: «%(step)s» tại %(agency)s.") % {
                "step": following.name,
                "agency": following.agency.name,
            }

    def perform(self) -> str:
        following = services.complete_step(
            self.dossier, actor=self.user, note=self.cleaned_data["note"]
        )
        return _("Đã hoàn thành bước xử lý; hồ sơ chuyển sang bước «%(step)s».") % {
            "step": following.name
        }


class SendBackForm(ActionForm):
    action = Action.SEND_BACK
    submit_label = gettext_lazy("Chuyển trả")
    to_step = forms.TypedChoiceField(
        label=gettext_lazy("Chuyển trả về bước"),
        coerce=int,
        error_messages=_required(gettext_lazy("Cần chọn bước chuyển trả về.")),
    )
    reason = forms.CharField(
        label=gettext_lazy("Lý do chuyển trả"),
        widget=_textarea(2),
        error_messages=_required(gettext_lazy("Cần ghi rõ lý do chuyển trả.")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_step"].choices = [
            (s.pk, f"{s.order}. {s.name} — {s.agency.name}") for s in self.state.send_back_targets
        ]
        targets = self.state.send_back_targets
        if len(targets) == 1:
            self.fields["to_step"].initial = targets[0].pk

    def perform(self) -> str:
        services.send_back(
            self.dossier,
            actor=self.user,
            to_step_id=self.cleaned_data["to_step"],
            reason=self.cleaned_data["reason"],
        )
        return _("Đã chuyển trả hồ sơ về bước trước để xử lý lại.")


def end_of_working_day(agency_id: int, day: dt.date) -> dt.datetime | None:
    """The end of the last session of ``day`` on the agency's calendar (None: a day off)."""
    from motcua.agencies.models import Agency

    calendar = calendar_for(Agency(pk=agency_id))
    sessions = calendar.sessions_on(day)
    if not sessions:
        return None
    return dt.datetime.combine(day, sessions[-1].end, tzinfo=VN_TZ)


class ProposeExtensionForm(ActionForm):
    action = Action.PROPOSE_EXTENSION
    submit_label = gettext_lazy("Trình lãnh đạo")
    help = gettext_lazy(
        "Văn bản xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) phải gửi trước ngày hẹn trả; "
        "lãnh đạo phê duyệt."
    )
    new_due = forms.DateField(
        label=gettext_lazy("Ngày hẹn trả mới"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Cần chọn ngày hẹn trả mới."),
            "invalid": gettext_lazy("Ngày không hợp lệ."),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Lý do chậm trả kết quả"),
        widget=_textarea(),
        error_messages=_required(gettext_lazy("Cần ghi rõ lý do chậm trả kết quả.")),
    )

    def clean_new_due(self) -> dt.datetime:
        day = self.cleaned_data["new_due"]
        due = end_of_working_day(self.dossier.receiving_agency_id, day)
        if due is None:
            raise forms.ValidationError(_("Ngày hẹn trả mới phải là ngày làm việc."))
        if self.dossier.due_at is not None and due <= self.dossier.due_at:
            raise forms.ValidationError(
                _("Ngày hẹn trả mới phải sau ngày hẹn trả hiện tại (%(due)s).")
                % {"due": self.dossier.due_at.astimezone(VN_TZ).strftime("%d/%m/%Y")}
            )
        return due

    def perform(self) -> str:
        services.propose_extension(
            self.dossier,
            actor=self.user,
            reason=self.cleaned_data["reason"],
            new_due_at=self.cleaned_data["new_due"],
        )
        return _("Đã trình lãnh đạo đề nghị gia hạn và văn bản xin lỗi (Mẫu 04).")


class DecideExtensionForm(ActionForm):
    action = Action.DECIDE_EXTENSION
    submit_label = gettext_lazy("Ghi quyết định")
    decision = forms.ChoiceField(
        label=gettext_lazy("Quyết định"),
        widget=forms.RadioSelect,
        choices=[
            ("approve", gettext_lazy("Phê duyệt gia hạn, gửi văn bản xin lỗi")),
            ("reject", gettext_lazy("Không phê duyệt")),
        ],
        error_messages=_required(gettext_lazy("Cần chọn phê duyệt hoặc không phê duyệt.")),
    )
    note = forms.CharField(label=gettext_lazy("Ý kiến"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        proposal = self.state.proposed_extension
        if proposal is not None:
            self.help = _("Đề nghị hẹn trả mới: %(due)s. Lý do: %(reason)s") % {
                "due": proposal.new_due_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y"),
                "reason": proposal.reason,
            }

    def perform(self) -> str:
        approve = self.cleaned_data["decision"] == "approve"
        services.decide_extension(
            self.dossier, actor=self.user, approve=approve, note=self.cleaned_data["note"]
        )
        if approve:
            return _("Đã phê duyệt gia hạn; ngày hẹn trả kết quả đã được cập nhật.")
        return _("Đã ghi quyết định không phê duyệt gia hạn.")


# --- endings ----------------------------------------------------------------------------------


class StopForm(ActionForm):
    action = Action.STOP
    submit_label = gettext_lazy("Dừng giải quyết")
    help = gettext_lazy("Theo đề nghị của tổ chức, cá nhân (Mẫu 05).")
    reason = forms.CharField(
        label=gettext_lazy("Nội dung đề nghị dừng giải quyết"),
        widget=_textarea(2),
        error_messages=_required(gettext_lazy("Cần ghi rõ nội dung đề nghị dừng giải quyết.")),
    )

    def perform(self) -> str:
        services.stop(self.dossier, actor=self.user, reason=self.cleaned_data["reason"])
        return _("Đã dừng giải quyết hồ sơ. In Mẫu 05 để gửi tổ chức, cá nhân.")


class WithdrawForm(ActionForm):
    action = Action.WITHDRAW
    submit_label = gettext_lazy("Rút hồ sơ")
    help = gettext_lazy("Theo đề nghị của tổ chức, cá nhân.")
    reason = forms.CharField(
        label=gettext_lazy("Nội dung đề nghị rút hồ sơ"),
        widget=_textarea(2),
        error_messages=_required(gettext_lazy("Cần ghi nội dung đề nghị rút hồ sơ.")),
    )

    def perform(self) -> str:
        services.withdraw(self.dossier, actor=self.user, reason=self.cleaned_data["reason"])
        return _("Đã rút hồ sơ theo đề nghị.")


class RecordResultForm(ActionForm):
    action = Action.RECORD_RESULT
    submit_label = gettext_lazy("Cập nhật kết quả")
    kind = forms.ChoiceField(
        label=gettext_lazy("Kết quả"),
        widget=forms.RadioSelect,
        choices=Result.Kind.choices,
        initial=Result.Kind.GRANTED,
        error_messages=_required(gettext_lazy("Cần chọn loại kết quả.")),
    )
    number = forms.CharField(
        label=gettext_lazy("Số, ký hiệu văn bản"),
        max_length=100,
        error_messages=_required(gettext_lazy("Cần nhập số, ký hiệu văn bản kết quả.")),
    )
    signed_on = forms.DateField(
        label=gettext_lazy("Ngày ký"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Cần nhập ngày ký."),
            "invalid": gettext_lazy("Ngày không hợp lệ."),
        },
    )
    signer = forms.CharField(
        label=gettext_lazy("Người ký"),
        max_length=255,
        error_messages=_required(gettext_lazy("Cần nhập người ký kết quả.")),
    )
    summary = forms.CharField(label=gettext_lazy("Trích yếu"), required=False, widget=_textarea(2))
    file = forms.FileField(
        label=gettext_lazy("Tệp kết quả (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    note = forms.CharField(label=gettext_lazy("Ghi chú"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.now().astimezone(VN_TZ).date()

    def clean_signed_on(self) -> dt.date:
        day = self.cleaned_data["signed_on"]
        if day > timezone.now().astimezone(VN_TZ).date():
            raise forms.ValidationError(_("Ngày ký không được sau ngày hiện tại."))
        return day

    def clean_file(self):
        """A PDF, checked by its content (``dossiers.files``, as the API checks it)."""
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        try:
            files.check_size(upload.size)
            mime, _ext = files.file_kind(upload)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        if mime != "application/pdf":
            raise forms.ValidationError(_("Tệp kết quả phải là tệp PDF."))
        return upload

    def perform(self) -> str:
        data = self.cleaned_data
        upload = data.get("file")
        result = services.ResultInput(
            number=data["number"],
            signed_on=data["signed_on"],
            signer=data["signer"],
            kind=data["kind"],
            summary=data["summary"],
            file_name=upload.name if upload else "",
            file_content=upload.read() if upload else None,
        )
        services.record_result(self.dossier, actor=self.user, result=result, note=data["note"])
        return _("Đã cập nhật kết quả giải quyết; hồ sơ chuyển Bộ phận Một cửa để trả kết quả.")


class ReturnResultForm(ActionForm):
    """Hand the result over: who received it, how, with which identity paper."""

    action = Action.RETURN_RESULT
    submit_label = gettext_lazy("Xác nhận đã trả kết quả")

    RELATIONS = (
        ("self", gettext_lazy("Chính người nộp, chủ hồ sơ")),
        ("authorised", gettext_lazy("Người được ủy quyền")),
        ("family", gettext_lazy("Người thân trong gia đình")),
        ("other", gettext_lazy("Khác")),
    )

    method = forms.ChoiceField(
        label=gettext_lazy("Hình thức trả"),
        widget=forms.RadioSelect,
        choices=Delivery.choices,
        error_messages=_required(gettext_lazy("Cần chọn hình thức trả kết quả.")),
    )
    recipient_name = forms.CharField(
        label=gettext_lazy("Họ tên người nhận"), required=False, max_length=200
    )
    recipient_id = forms.CharField(
        label=gettext_lazy("Số giấy tờ tùy thân của người nhận"),
        required=False,
        max_length=50,
        help_text=gettext_lazy(
            "Căn cước, hộ chiếu hoặc giấy tờ khác; lưu dạng che bớt trong lịch sử."
        ),
    )
    relation = forms.ChoiceField(
        label=gettext_lazy("Quan hệ với người nộp"), choices=RELATIONS, initial="self"
    )
    waybill = forms.CharField(
        label=gettext_lazy("Mã vận đơn bưu chính"), required=False, max_length=50
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dossier = self.state.dossier
        self.fields["method"].initial = dossier.delivery
        owner = dossier.owner or dossier.applicant
        self.fields["recipient_name"].initial = owner.name if owner else ""

    def clean(self):
        data = super().clean()
        method = data.get("method")
        if method == Delivery.COUNTER and not (data.get("recipient_name") or "").strip():
            self.add_error("recipient_name", _("Cần ghi tên người nhận kết quả."))
        if method == Delivery.POSTAL and not (data.get("waybill") or "").strip():
            self.add_error("waybill", _("Cần ghi mã vận đơn bưu chính."))
        return data

    def recipient(self) -> str:
        """The recipient's name, with their relation to the applicant when it is not them."""
        data = self.cleaned_data
        name = " ".join((data.get("recipient_name") or "").split())
        relation = data.get("relation") or "self"
        if name and relation != "self":
            name = f"{name} ({dict(self.RELATIONS)[relation]})"
        return name

    def perform(self) -> str:
        data = self.cleaned_data
        services.return_result(
            self.dossier,
            actor=self.user,
            method=data["method"],
            recipient_name=self.recipient(),
            recipient_id=data["recipient_id"],
            waybill=data["waybill"],
        )
        return _("Đã trả kết quả hồ sơ %(code)s.") % {"code": self.dossier.code}


FORMS: dict[Action, type[ActionForm]] = {
    form.action: form
    for form in (
        ReceiveForm,
        RefuseForm,
        RequestSupplementForm,
        ProvideSupplementForm,
        AssignForm,
        CompleteStepForm,
        SendBackForm,
        RequestPaymentForm,
        ConfirmPaymentForm,
        ProposeExtensionForm,
        DecideExtensionForm,
        StopForm,
        WithdrawForm,
        RecordResultForm,
        ReturnResultForm,
    )
}

# Which field a service error is about, by its code (others go above the form).
FIELD_OF_ERROR = {
    "missing_reason": "reason",
    "missing_items": "items",
    "second_supplement_needs_approval": "approver",
    "approver_not_leader": "approver",
    "invalid_assignee": "assignee",
    "invalid_step": "to_step",
    "invalid_amount": "amount",
    "invalid_new_due": "new_due",
    "invalid_signed_on": "signed_on",
    "missing_result_fields": "number",
    "missing_recipient": "recipient_name",
    "missing_waybill": "waybill",
    "invalid_delivery": "method",
}


def attach_error(form: ActionForm, exc) -> None:
    """Show a service's refusal on the form: next to its field, else above the form."""
    name = FIELD_OF_ERROR.get(exc.code)
    if name in form.fields:
        form.add_error(name, exc.message)
    else:
        form.add_error(None, exc.message)


class StaleDossier(Exception):
    """The dossier changed (someone acted) after the page with the form was shown."""


def execute(form: ActionForm) -> str:
    """Carry out a valid action form: lock the dossier's row, refuse with ``StaleDossier`` if
    its version is no longer the one the page showed, else call the service. Nothing is
    written when anything raises (``StaleDossier``, a service's ``DomainError``)."""
    with transaction.atomic():
        list(Dossier.objects.select_for_update().filter(pk=form.dossier.pk).values_list("pk"))
        if actions.last_event_id(form.dossier.pk) != form.cleaned_data["version"]:
            raise StaleDossier
        return form.perform()
