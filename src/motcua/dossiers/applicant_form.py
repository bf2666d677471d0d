"""What the counter's and the portal's applicant forms check and hand to the services.

Both forms declare the same fields (kind, personal_id, tax_code, name, phone, email, province,
commune, address_line) with their own widgets; this mixin gives them one ``clean`` and one
``to_input``.
"""

from __future__ import annotations

from django.utils.translation import gettext

from motcua.core import codes
from motcua.core.errors import DomainError

from . import services
from .models import Applicant


class ApplicantChecks:
    """For a ``forms.Form`` with the applicant fields: the identifier the kind needs, validated
    (§6.1, §6.2), the phone normalised, a commune only with its province."""

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Applicant.Kind.INDIVIDUAL:
            data["tax_code"] = ""
            self._identifier(
                data,
                "personal_id",
                gettext("Chưa nhập số định danh cá nhân (12 chữ số)."),
                codes.validate_personal_id,
            )
        elif kind == Applicant.Kind.ORGANISATION:
            data["personal_id"] = ""
            self._identifier(
                data,
                "tax_code",
                gettext("Chưa nhập mã số thuế của tổ chức."),
                codes.validate_tax_code,
            )
        if data.get("phone"):
            try:
                data["phone"] = codes.normalize_phone(data["phone"])
            except DomainError as exc:
                self.add_error("phone", exc.message)
        if data.get("commune") and not data.get("province"):
            self.add_error("province", gettext("Chọn tỉnh, thành phố của xã, phường đã chọn."))
        return data

    def _identifier(self, data: dict, name: str, missing: str, validate) -> None:
        value = data.get(name, "")
        if not value:
            self.add_error(name, missing)
            return
        try:
            data[name] = validate(value)
        except DomainError as exc:
            self.add_error(name, exc.message)

    def to_input(self) -> services.ApplicantInput:
        data = self.cleaned_data
        return services.ApplicantInput(
            kind=data["kind"],
            name=" ".join(data["name"].split()),
            personal_id=data.get("personal_id", ""),
            tax_code=data.get("tax_code", ""),
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            province_code=data.get("province", ""),
            commune_code=data.get("commune", ""),
            address_line=data.get("address_line", ""),
        )
