"""Forms of the citizens' account pages: plain POST forms that work without JavaScript."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.accounts import citizens
from motcua.accounts.models import CitizenKind, CitizenProfile
from motcua.agencies.models import AdministrativeUnit
from motcua.agencies.units import communes, provinces
from motcua.core import codes
from motcua.core.errors import DomainError
from motcua.dossiers.models import Rating

IDENTIFIER_HELP = _("Số điện thoại di động (ví dụ 0912 345 678) hoặc địa chỉ thư điện tử.")


def identifier_field() -> forms.CharField:
    return forms.CharField(
        label=_("Số điện thoại hoặc thư điện tử"),
        max_length=254,
        help_text=IDENTIFIER_HELP,
        error_messages={"required": _("Chưa nhập số điện thoại hoặc địa chỉ thư điện tử.")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )


class RegisterForm(forms.Form):
    identifier = identifier_field()
    password1 = forms.CharField(
        label=_("Mật khẩu"),
        strip=False,
        max_length=128,
        error_messages={"required": _("Chưa nhập mật khẩu.")},
        help_text=_("Ít nhất 8 ký tự, không toàn chữ số, không quá phổ biến."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Nhập lại mật khẩu"),
        strip=False,
        max_length=128,
        error_messages={"required": _("Chưa nhập lại mật khẩu.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_identifier(self) -> citizens.Identifier:
        try:
            identifier = citizens.parse_identifier(self.cleaned_data["identifier"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        if citizens.is_registered(identifier):
            raise forms.ValidationError(citizens._already_registered(identifier).message)
        return identifier

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", gettext("Hai mật khẩu đã nhập không khớp nhau."))
        identifier = data.get("identifier")
        if first and identifier is not None:
            for problem in citizens.password_problems(first, identifier):
                self.add_error("password1", problem)
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Mã xác minh (6 chữ số)"),
        max_length=12,
        error_messages={"required": _("Chưa nhập mã xác minh.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
            }
        ),
    )


class SignInForm(forms.Form):
    identifier = identifier_field()
    password = forms.CharField(
        label=_("Mật khẩu"),
        strip=False,
        max_length=128,
        error_messages={"required": _("Chưa nhập mật khẩu.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_identifier(self) -> citizens.Identifier:
        try:
            return citizens.parse_identifier(self.cleaned_data["identifier"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


def _unit_choices(units, empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(unit.code, unit.full_name) for unit in units]


class ProfileForm(forms.ModelForm):
    """The citizen's personal data; the verified phone or e-mail (the sign-in) is read-only."""

    # Wider than the stored values: people type spaces, dots and +84; cleaned to the stored form.
    personal_id = forms.CharField(
        label=_("Số định danh cá nhân (12 chữ số)"),
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
    phone = forms.CharField(
        label=_("Số điện thoại di động"),
        required=False,
        max_length=25,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    province = forms.ChoiceField(label=_("Tỉnh, thành phố"), required=False)
    commune = forms.ChoiceField(
        label=_("Xã, phường, đặc khu"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "Xã, phường không thuộc tỉnh, thành phố đã chọn: vui lòng chọn lại xã, phường."
            )
        },
    )

    class Meta:
        model = CitizenProfile
        fields = [
            "kind",
            "full_name",
            "personal_id",
            "tax_code",
            "phone",
            "email",
            "address_line",
            "notify_email",
            "notify_sms",
            "notify_zalo",
        ]
        labels = {
            "kind": _("Bạn là"),
            "full_name": _("Họ tên (hoặc tên tổ chức)"),
            "email": _("Thư điện tử"),
            "address_line": _("Số nhà, đường, thôn, xóm"),
            "notify_email": _("Thư điện tử"),
            "notify_sms": _("Tin nhắn SMS"),
            "notify_zalo": _("Zalo"),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "address_line": forms.TextInput(attrs={"autocomplete": "street-address"}),
        }
        error_messages = {
            "email": {"invalid": _("Địa chỉ thư điện tử không hợp lệ.")},
        }

    def __init__(self, *args, communes_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        profile: CitizenProfile = self.instance
        self.fields["kind"].choices = list(CitizenKind.choices)
        self.fields["full_name"].required = True
        self.fields["full_name"].error_messages["required"] = gettext("Chưa nhập họ tên.")
        # What the user proved to own (or the identity provider vouched for) stays as it is.
        for name, verified in (
            ("phone", profile.phone_verified),
            ("email", profile.email_verified),
            ("personal_id", profile.identity_verified),
        ):
            if verified and getattr(profile, name):
                self.fields[name].disabled = True
                self.fields[name].help_text = gettext("Đã xác minh, không sửa được ở đây.")
        if not self.is_bound:
            self.initial["province"] = profile.province.code if profile.province_id else ""
            self.initial["commune"] = profile.commune.code if profile.commune_id else ""
        self.fields["province"].choices = _unit_choices(
            provinces(), gettext("— Chọn tỉnh, thành phố —")
        )
        province = self._current("province")
        self.fields["commune"].choices = _unit_choices(
            communes(province), gettext("— Chọn xã, phường —")
        )
        if communes_url:
            # With JavaScript, choosing a province refreshes the communes at once; without it,
            # saving shows the new province's communes to choose from.
            self.fields["province"].widget.attrs.update(
                {
                    "hx-get": communes_url,
                    "hx-trigger": "change",
                    "hx-target": "#id_commune",
                    "hx-swap": "innerHTML",
                }
            )

    def _current(self, name: str) -> str:
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        return str(self.initial.get(name) or "")

    def clean_personal_id(self) -> str:
        value = (self.cleaned_data.get("personal_id") or "").strip()
        if not value:
            return ""
        try:
            return codes.validate_personal_id(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_tax_code(self) -> str:
        value = (self.cleaned_data.get("tax_code") or "").strip()
        if not value:
            return ""
        try:
            return codes.validate_tax_code(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return ""
        try:
            return codes.normalize_phone(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if (
            kind == CitizenKind.INDIVIDUAL
            and not data.get("personal_id")
            and not (self.has_error("personal_id"))
        ):
            self.add_error(
                "personal_id",
                gettext("Chưa nhập số định danh cá nhân (12 chữ số) — cần để nộp hồ sơ."),
            )
        if (
            kind == CitizenKind.ORGANISATION
            and not data.get("tax_code")
            and not (self.has_error("tax_code"))
        ):
            self.add_error("tax_code", gettext("Chưa nhập mã số thuế của tổ chức."))
        if data.get("commune") and not data.get("province"):
            self.add_error("province", gettext("Chọn tỉnh, thành phố của xã, phường đã chọn."))
        return data

    def save(self, commit: bool = True) -> CitizenProfile:
        profile = super().save(commit=False)
        units = {
            unit.code: unit
            for unit in AdministrativeUnit.objects.filter(
                code__in=[
                    c for c in (self.cleaned_data["province"], self.cleaned_data["commune"]) if c
                ],
                valid_to__isnull=True,
            )
        }
        profile.province = units.get(self.cleaned_data["province"])
        profile.commune = units.get(self.cleaned_data["commune"])
        if commit:
            profile.save()
        return profile


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Mức độ hài lòng của bạn"),
        coerce=int,
        choices=[(choice.value, choice.label) for choice in reversed(Rating.Score)],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Chưa chọn mức độ hài lòng."),
            "invalid_choice": _("Mức độ hài lòng không hợp lệ."),
        },
    )
    comment = forms.CharField(
        label=_("Ý kiến của bạn (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("Ý kiến không được dài quá 2.000 ký tự.")},
    )
