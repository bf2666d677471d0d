"""Forms of online submission: where to start, who applies, how the result comes back."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.agencies.units import communes, provinces
from motcua.catalog.models import OnlineMode
from motcua.dossiers.applicant_form import ApplicantChecks
from motcua.dossiers.models import Applicant, Delivery

APPLICANT_FIELDS = (
    "kind",
    "personal_id",
    "tax_code",
    "name",
    "phone",
    "email",
    "province",
    "commune",
    "address_line",
)


def described(form: forms.Form) -> forms.Form:
    """Tie each field to its help text and error message for screen readers
    (``aria-describedby``, ``aria-invalid``), with the ids ``_field.html`` gives them."""
    errors = form.errors if form.is_bound else {}
    for name, field in form.fields.items():
        bound = form[name]
        ids = []
        if field.help_text:
            ids.append(f"{bound.auto_id}_help")
        if name in errors:
            ids.append(f"{bound.auto_id}_error")
            field.widget.attrs["aria-invalid"] = "true"
        if ids and getattr(field.widget, "input_type", "") != "radio":
            field.widget.attrs["aria-describedby"] = " ".join(ids)
    return form


class StartForm(forms.Form):
    """Which case (trường hợp) and which receiving agency, when there is a choice."""

    variant = forms.TypedChoiceField(
        label=_("Trường hợp của bạn"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Vui lòng chọn trường hợp.")},
    )
    agency = forms.TypedChoiceField(
        label=_("Nơi tiếp nhận hồ sơ"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Vui lòng chọn nơi tiếp nhận hồ sơ.")},
    )

    def __init__(self, *args, variants=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [
            (v.pk, v.name or gettext("Trường hợp %(n)s") % {"n": i})
            for i, v in enumerate(variants, start=1)
        ]
        self.fields["agency"].choices = [
            (a.pk, f"{a.name} — {a.address}" if a.address else a.name) for a in agencies
        ]
        if len(variants) == 1:
            self.fields["variant"].initial = variants[0].pk
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].pk


class ApplicantForm(ApplicantChecks, forms.Form):
    """The person or organisation applying: prefilled from the account, always editable."""

    kind = forms.ChoiceField(
        label=_("Người nộp là"),
        choices=Applicant.Kind.choices,
        initial=Applicant.Kind.INDIVIDUAL,
        widget=forms.RadioSelect,
    )
    personal_id = forms.CharField(
        label=_("Số định danh cá nhân"),
        help_text=_("12 chữ số trên thẻ căn cước."),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    tax_code = forms.CharField(
        label=_("Mã số thuế (tổ chức)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=_("Họ và tên / Tên tổ chức"),
        max_length=255,
        error_messages={"required": _("Chưa nhập họ tên người nộp hồ sơ.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Số điện thoại di động"),
        help_text=_("Để nhận tin nhắn về hồ sơ."),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Thư điện tử"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Địa chỉ thư điện tử không hợp lệ.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    province = forms.ChoiceField(
        label=_("Tỉnh, thành phố"),
        required=False,
        error_messages={"invalid_choice": _("Tỉnh, thành phố không hợp lệ.")},
    )
    commune = forms.ChoiceField(
        label=_("Xã, phường, đặc khu"),
        required=False,
        error_messages={"invalid_choice": _("Xã, phường không thuộc tỉnh, thành phố đã chọn.")},
    )
    address_line = forms.CharField(
        label=_("Số nhà, đường, thôn, xóm"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "applicant")
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = [("", gettext("— Chọn tỉnh, thành phố —"))] + [
            (unit.code, unit.full_name) for unit in provinces()
        ]
        self.fields["province"].widget.attrs.update(
            {
                "hx-get": reverse("portal:submission:communes"),
                "hx-trigger": "change",
                "hx-target": f"#id_{self.add_prefix('commune')}",
                "hx-swap": "innerHTML",
                "autocomplete": "address-level1",
            }
        )
        self.fields["commune"].choices = [("", gettext("— Chọn xã, phường —"))] + [
            (unit.code, unit.full_name) for unit in communes(self.current("province"))
        ]

    def current(self, name: str) -> str:
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        return str(self.initial.get(name) or self.fields[name].initial or "")

    def raw(self) -> dict[str, str]:
        """What was typed, to keep in the draft even when it is not valid yet."""
        return {name: self.current(name)[:500] for name in APPLICANT_FIELDS}

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            self.add_error(
                "phone", gettext("Cần số điện thoại hoặc thư điện tử để nhận thông báo về hồ sơ.")
            )
        return data


def delivery_choices(version) -> list[tuple[str, str]]:
    """How the result may come back: online only for full-process (toàn trình) procedures,
    by post only where the procedure allows it."""
    choices = []
    if version.online_mode == OnlineMode.FULL:
        choices.append((Delivery.ONLINE, _("Nhận kết quả điện tử trên Cổng (tải về)")))
    choices.append((Delivery.COUNTER, _("Nhận tại Bộ phận Một cửa nơi nộp hồ sơ")))
    if version.postal_allowed:
        choices.append((Delivery.POSTAL, _("Nhận qua dịch vụ bưu chính công ích (trả phí)")))
    return choices


class DeliveryForm(forms.Form):
    delivery = forms.ChoiceField(
        label=_("Cách nhận kết quả"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vui lòng chọn cách nhận kết quả."),
            "invalid_choice": _("Cách nhận kết quả này không áp dụng cho thủ tục."),
        },
    )
    delivery_address = forms.CharField(
        label=_("Địa chỉ nhận kết quả qua bưu chính"),
        help_text=_("Số nhà, đường, thôn, xóm, xã/phường, tỉnh/thành phố."),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "shipping street-address"}),
    )
    summary = forms.CharField(
        label=_("Nội dung đề nghị (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery"].choices = delivery_choices(version)

    def clean(self):
        data = super().clean()
        if data.get("delivery") == Delivery.POSTAL and not (data.get("delivery_address") or ""):
            self.add_error(
                "delivery_address", gettext("Nhận kết quả qua bưu chính cần địa chỉ nhận.")
            )
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Lý do rút hồ sơ (không bắt buộc)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("Tôi hiểu rằng hồ sơ sẽ dừng giải quyết và không thể khôi phục."),
        error_messages={"required": _("Vui lòng xác nhận trước khi rút hồ sơ.")},
    )


class SupplementForm(forms.Form):
    note = forms.CharField(
        label=_("Giải trình, ghi chú cho cơ quan (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
