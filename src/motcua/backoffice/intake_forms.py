"""The forms of the counter intake screen, validated on the server with Vietnamese messages.

``IntakeBundle`` holds everything one intake page posts: the dossier form (procedure, variant,
delivery, the outcome's reason), the applicant and the optional owner, one small form per
component of the chosen variant, and the formset of papers outside the published list. It
turns a valid post into a ``services.SubmissionInput`` plus the staged scans of each component;
the services then decide (they re-check everything and write nothing on a refusal).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.agencies import units
from motcua.agencies.models import Agency, Counter
from motcua.catalog.models import Channel, Component, Procedure, Variant
from motcua.core.errors import DomainError
from motcua.dossiers import services
from motcua.dossiers.applicant_form import ApplicantChecks
from motcua.dossiers.models import Applicant, Delivery

from . import intake_queries, staging


class Outcome:
    RECEIVE = "receive"
    SUPPLEMENT = "supplement"
    REFUSE = "refuse"
    ALL = (RECEIVE, SUPPLEMENT, REFUSE)


# --- fields ---------------------------------------------------------------------------------


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (the form's fallback when scripts do not run)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class StagedFilesField(forms.Field):
    """The ids of scans already staged for this form (hidden inputs, one per file)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        ids = []
        for item in value:
            parsed = staging.parse_id(item)
            if parsed is None:
                raise forms.ValidationError(_("Tệp đính kèm không hợp lệ: vui lòng tải lên lại."))
            if parsed not in ids:
                ids.append(parsed)
        return ids


def _count_field(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=99,
        error_messages={
            "required": _("Nhập số bản (0 nếu không có)."),
            "invalid": _("Số bản phải là số nguyên."),
            "min_value": _("Số bản không được là số âm."),
            "max_value": _("Số bản tối đa là 99."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count"}),
    )


# --- applicant ------------------------------------------------------------------------------


class ApplicantForm(ApplicantChecks, forms.Form):
    """The applicant (người nộp) or the owner (chủ hồ sơ): person or organisation."""

    kind = forms.ChoiceField(
        label=_("Người nộp là"),
        choices=Applicant.Kind.choices,
        initial=Applicant.Kind.INDIVIDUAL,
        widget=forms.RadioSelect(attrs={"class": "kind"}),
    )
    personal_id = forms.CharField(
        label=_("Số định danh cá nhân"),
        help_text=_("12 chữ số (số căn cước). Người đã nộp trước đây được điền sẵn thông tin."),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "spellcheck": "false",
                "maxlength": "20",
            }
        ),
    )
    tax_code = forms.CharField(
        label=_("Mã số thuế"),
        help_text=_("10 chữ số, hoặc 10 chữ số kèm «-» và 3 chữ số của đơn vị phụ thuộc."),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    name = forms.CharField(
        label=_("Họ và tên / Tên tổ chức"),
        max_length=255,
        error_messages={"required": _("Chưa nhập họ tên người nộp hồ sơ.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Số điện thoại di động"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Thư điện tử"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Địa chỉ thư điện tử không hợp lệ.")},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
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
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, provinces: Iterable = (), default_province: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if self.prefix == "owner":
            self.fields["kind"].label = _("Chủ hồ sơ là")
            self.fields["name"].error_messages["required"] = _("Chưa nhập họ tên chủ hồ sơ.")
        # Typing a personal id or tax code (then Enter or leaving the field) looks it up.
        lookup = {
            "hx-get": reverse("backoffice:intake_applicant"),
            "hx-trigger": "change, keydown[key=='Enter']",
            "hx-include": "closest fieldset",
            "hx-target": "closest fieldset",
            "hx-swap": "outerHTML",
            "hx-sync": "closest fieldset:replace",
            "hx-vals": json.dumps({"prefix": self.prefix or "applicant"}),
        }
        self.fields["personal_id"].widget.attrs.update(lookup)
        self.fields["tax_code"].widget.attrs.update(lookup)
        self.fields["province"].widget.attrs.update(
            {
                "hx-get": reverse("backoffice:intake_communes"),
                "hx-trigger": "change",
                "hx-target": f"#id_{self.add_prefix('commune')}",
                "hx-swap": "innerHTML",
                "hx-vals": json.dumps({"prefix": self.prefix or "applicant"}),
            }
        )
        self.fields["province"].choices = [("", gettext("— Chọn tỉnh, thành phố —"))] + [
            (unit.code, unit.full_name) for unit in provinces
        ]
        if default_province and not self.is_bound and "province" not in self.initial:
            self.initial["province"] = default_province
        province = self.current("province")
        self.fields["commune"].choices = [("", gettext("— Chọn xã, phường —"))] + [
            (unit.code, unit.full_name) for unit in units.communes(province)
        ]

    def current(self, name: str) -> str:
        """The value shown for ``name``: posted if bound, else the initial one."""
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        value = self.initial.get(name, self.fields[name].initial)
        return str(value or "")


def applicant_initial(applicant: Applicant) -> dict[str, str]:
    """A known applicant as form values."""
    return {
        "kind": applicant.kind,
        "personal_id": applicant.personal_id,
        "tax_code": applicant.tax_code,
        "name": applicant.name,
        "phone": applicant.phone,
        "email": applicant.email,
        "province": applicant.province.code if applicant.province_id else "",
        "commune": applicant.commune.code if applicant.commune_id else "",
        "address_line": applicant.address_line,
    }


# --- components -----------------------------------------------------------------------------


class _FilesMixin(forms.Form):
    files = StagedFilesField(required=False)
    upload = MultipleFileField(
        label=_("Chọn tệp quét"),
        required=False,
        widget=MultipleFileInput(
            attrs={
                "accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
                "class": "file-input",
            }
        ),
    )

    staged: list[staging.StagedFile]


class ListedComponentForm(_FilesMixin):
    """One paper of the variant's published list: handed in or not, how many copies, scans."""

    received = forms.BooleanField(required=False)
    originals = _count_field(_("Bản chính"))
    copies = _count_field(_("Bản sao"))

    def __init__(self, *args, component: Component, **kwargs):
        kwargs.setdefault("prefix", f"c{component.pk}")
        kwargs.setdefault(
            "initial", {"originals": component.originals or 0, "copies": component.copies or 0}
        )
        super().__init__(*args, **kwargs)
        self.component = component
        self.fields["received"].label = component.name
        self.staged = []

    @property
    def is_received(self) -> bool:
        if self.is_bound and hasattr(self, "cleaned_data"):
            return bool(self.cleaned_data.get("received"))
        return bool(self.is_bound and self.data.get(self.add_prefix("received")))


class OutsideComponentForm(_FilesMixin):
    """A paper outside the published list: accepted only with the reason why."""

    name = forms.CharField(
        label=_("Tên giấy tờ"), required=False, max_length=1000, widget=forms.TextInput()
    )
    originals = _count_field(_("Bản chính"))
    copies = _count_field(_("Bản sao"))
    reason = forms.CharField(
        label=_("Lý do nhận giấy tờ ngoài danh mục"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"originals": 1, "copies": 0})
        super().__init__(*args, **kwargs)
        self.staged = []

    def is_blank(self) -> bool:
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return True
        data = self.cleaned_data
        return not (data.get("name") or data.get("reason") or data.get("files") or self.staged)

    def clean(self):
        data = super().clean()
        name = " ".join((data.get("name") or "").split())
        data["name"] = name
        data["reason"] = (data.get("reason") or "").strip()
        if name or data["reason"] or data.get("files") or data.get("upload"):
            if not name:
                self.add_error("name", gettext("Chưa nhập tên giấy tờ."))
            if not data["reason"]:
                self.add_error(
                    "reason",
                    gettext(
                        "Giấy tờ ngoài danh mục công bố chỉ được nhận khi ghi rõ lý do tiếp nhận."
                    ),
                )
        return data


OutsideFormSet = forms.formset_factory(OutsideComponentForm, extra=1, max_num=30, validate_max=True)


# --- the dossier ----------------------------------------------------------------------------


class IntakeForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    procedure = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": _("Chưa chọn thủ tục hành chính.")},
    )
    variant = forms.TypedChoiceField(
        label=_("Trường hợp giải quyết"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Chưa chọn trường hợp giải quyết."),
            "invalid_choice": _("Trường hợp đã chọn không thuộc thủ tục này."),
        },
    )
    counter = forms.TypedChoiceField(
        label=_("Quầy tiếp nhận"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Quầy không thuộc cơ quan tiếp nhận.")},
    )
    has_owner = forms.BooleanField(
        label=_("Chủ hồ sơ khác người nộp (nộp thay, theo ủy quyền)"), required=False
    )
    authorisation = forms.CharField(
        label=_("Giấy ủy quyền (số, ngày)"), required=False, max_length=500
    )
    delivery = forms.ChoiceField(
        label=_("Hình thức nhận kết quả"),
        choices=Delivery.choices,
        initial=Delivery.COUNTER,
        widget=forms.RadioSelect,
    )
    delivery_address = forms.CharField(
        label=_("Địa chỉ nhận kết quả qua bưu chính"), required=False, max_length=500
    )
    sets = forms.IntegerField(
        label=_("Số bộ hồ sơ"),
        min_value=1,
        max_value=100,
        initial=1,
        error_messages={
            "required": _("Nhập số bộ hồ sơ."),
            "invalid": _("Số bộ hồ sơ phải là số nguyên."),
            "min_value": _("Số bộ hồ sơ phải từ 1 đến 100."),
            "max_value": _("Số bộ hồ sơ phải từ 1 đến 100."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count"}),
    )
    summary = forms.CharField(
        label=_("Nội dung yêu cầu giải quyết"),
        help_text=_("Để trống: ghi tên thủ tục."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    supplement_items = forms.CharField(
        label=_("Nội dung cần bổ sung, hoàn thiện thêm"),
        help_text=_(
            "Mỗi dòng một mục. Các giấy tờ bắt buộc chưa nhận được liệt kê tự động trên phiếu."
        ),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    refuse_reason = forms.CharField(
        label=_("Lý do từ chối tiếp nhận"),
        help_text=_("Ghi trên Phiếu từ chối tiếp nhận giải quyết hồ sơ (Mẫu 03)."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        variants: list[Variant] = (),
        counters: list[Counter] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, str(v)) for v in variants]
        self.fields["counter"].choices = [("", gettext("— Không ghi quầy —"))] + [
            (c.pk, c.name or gettext("Quầy số %(number)s") % {"number": c.number}) for c in counters
        ]

    def clean(self):
        data = super().clean()
        if (
            data.get("delivery") == Delivery.POSTAL
            and not (data.get("delivery_address") or "").strip()
        ):
            self.add_error(
                "delivery_address", gettext("Nhận kết quả qua bưu chính cần địa chỉ nhận.")
            )
        return data


# --- the whole page -------------------------------------------------------------------------


@dataclass
class Submission:
    """A valid intake: what to give ``services.submit`` and the scans of each component."""

    data: services.SubmissionInput
    files: list[list[staging.StagedFile]]
    supplement_items: list[str]
    refuse_reason: str
    token: uuid.UUID


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


class IntakeBundle:
    """Every form of the intake page, bound to one post (or unbound for a fresh page)."""

    def __init__(
        self,
        *,
        agency: Agency,
        user,
        data=None,
        files=None,
        procedure: Procedure | None = None,
        variant_id: int | None = None,
        token: uuid.UUID | None = None,
        counter_id: int | None = None,
    ):
        self.agency = agency
        self.user = user
        self.bound = data is not None
        self.counters = list(
            Counter.objects.filter(agency=agency, is_active=True).order_by("number")
        )
        if self.bound:
            procedure = intake_queries.procedure_for(agency, data.get("procedure", ""))
        self.procedure = procedure
        self.variants = intake_queries.variants_of(procedure) if procedure is not None else []
        if self.bound:
            variant_id = data.get("variant")
        self.variant = self._pick_variant(variant_id)
        initial = {
            "token": token or uuid.uuid4(),
            "procedure": procedure.code if procedure is not None else "",
            "variant": self.variant.pk if self.variant is not None else None,
            "counter": counter_id,
        }
        self.form = IntakeForm(
            data, variants=self.variants, counters=self.counters, initial=initial
        )
        provinces = units.provinces()
        home = intake_queries.home_province(agency)
        self.applicant = ApplicantForm(
            data, prefix="applicant", provinces=provinces, default_province=home
        )
        self.owner = ApplicantForm(data, prefix="owner", provinces=provinces, default_province=home)
        components = list(self.variant.components.all()) if self.variant is not None else []
        self.components = [
            ListedComponentForm(data, files, component=component) for component in components
        ]
        self.outside = OutsideFormSet(data, files, prefix="x")
        self.token = None
        if self.bound:
            self.token = staging.parse_id(data.get("token", ""))

    def _pick_variant(self, variant_id) -> Variant | None:
        try:
            wanted = int(variant_id) if variant_id not in (None, "") else None
        except (TypeError, ValueError):
            wanted = None
        for variant in self.variants:
            if variant.pk == wanted:
                return variant
        if len(self.variants) == 1:
            return self.variants[0]
        return None

    # --- reading the post -----------------------------------------------------------------

    @property
    def has_owner(self) -> bool:
        if self.bound:
            return bool(self.form.data.get("has_owner"))
        return False

    def component_forms(self) -> list[_FilesMixin]:
        return [*self.components, *self.outside.forms]

    def token_uuid(self) -> uuid.UUID | None:
        return uuid.UUID(hex=self.token) if self.token else None

    def _resolve_files(self, form: _FilesMixin) -> None:
        """Gather the form's scans: those staged before (by id) and any sent with this post
        (staged now, so they survive a page shown again with errors)."""
        token = self.token_uuid()
        form.staged = []
        if token is None:
            return
        for file_id in form.cleaned_data.get("files") or []:
            staged = staging.find(self.user.pk, token, file_id)
            if staged is None:
                form.add_error(
                    None,
                    gettext(
                        "Một tệp đã tải lên không còn trong bộ nhớ tạm (quá hạn lưu): "
                        "vui lòng tải lên lại."
                    ),
                )
                continue
            form.staged.append(staged)
        for upload in form.cleaned_data.get("upload") or []:
            try:
                form.staged.append(staging.stage(self.user.pk, token, upload))
            except DomainError as exc:
                form.add_error(None, f"«{upload.name}»: {exc.message}")

    def is_valid(self, outcome: str) -> bool:
        forms_ok = [
            self.form.is_valid(),
            self.applicant.is_valid(),
            self.outside.is_valid(),
        ]
        if self.has_owner:
            forms_ok.append(self.owner.is_valid())
        for form in self.components:
            forms_ok.append(form.is_valid())
        for form in self.component_forms():
            if hasattr(form, "cleaned_data"):
                self._resolve_files(form)
        posted_code = (self.form.data.get("procedure") or "").strip()
        if posted_code and self.procedure is None:
            self.form.add_error(
                "procedure",
                gettext("Thủ tục đã chọn không thuộc thẩm quyền tiếp nhận của %(agency)s.")
                % {"agency": self.agency.name},
            )
        if outcome not in Outcome.ALL:
            self.form.add_error(
                None, gettext("Chọn một kết quả: tiếp nhận, yêu cầu bổ sung hoặc từ chối.")
            )
        for form in self.components:
            if hasattr(form, "cleaned_data") and form.staged and not form.is_received:
                form.add_error(
                    "received",
                    gettext("Đã đính kèm tệp quét: đánh dấu đã nhận giấy tờ này."),
                )
        if self.variant is not None and hasattr(self.form, "cleaned_data"):
            self._check_outcome(outcome)
        valid = (
            all(forms_ok)
            and not self.form.errors
            and not any(form.errors for form in self.component_forms())
        )
        return valid

    def missing(self) -> list[Component]:
        """Required papers of the variant not ticked as received."""
        return [
            form.component
            for form in self.components
            if form.component.required and not form.is_received
        ]

    def _check_outcome(self, outcome: str) -> None:
        missing = self.missing()
        if outcome == Outcome.RECEIVE and missing:
            for form in self.components:
                if form.component in missing:
                    form.add_error("received", gettext("Giấy tờ bắt buộc chưa nhận."))
            self.form.add_error(
                None,
                gettext(
                    "Chưa thể tiếp nhận: hồ sơ còn thiếu %(count)s giấy tờ bắt buộc: %(names)s. "
                    "Nhận đủ giấy tờ, hoặc chọn «Yêu cầu bổ sung» để lập Phiếu yêu cầu bổ sung, "
                    "hoàn thiện hồ sơ (Mẫu 02) liệt kê tất cả những gì còn thiếu."
                )
                % {"count": len(missing), "names": "; ".join(c.name for c in missing)},
            )
        elif outcome == Outcome.SUPPLEMENT:
            extra = _lines(self.form.cleaned_data.get("supplement_items", ""))
            if not missing and not extra:
                self.form.add_error(
                    "supplement_items",
                    gettext(
                        "Hồ sơ đã đủ giấy tờ bắt buộc: ghi rõ nội dung cần bổ sung, hoàn thiện "
                        "(mỗi dòng một mục), hoặc tiếp nhận hồ sơ."
                    ),
                )
        elif (
            outcome == Outcome.REFUSE
            and not (self.form.cleaned_data.get("refuse_reason") or "").strip()
        ):
            self.form.add_error("refuse_reason", gettext("Cần ghi rõ lý do từ chối tiếp nhận."))

    def supplement_items(self) -> list[str]:
        items = [component.name for component in self.missing()]
        for line in _lines(self.form.cleaned_data.get("supplement_items", "")):
            if line not in items:
                items.append(line)
        return items

    def submission(self) -> Submission:
        """The services' input for a valid bundle (call ``is_valid`` first)."""
        form = self.form.cleaned_data
        components: list[services.ComponentInput] = []
        scans: list[list[staging.StagedFile]] = []
        for item in self.components:
            if not item.is_received:
                continue
            components.append(
                services.ComponentInput(
                    component_id=item.component.pk,
                    originals=item.cleaned_data["originals"],
                    copies=item.cleaned_data["copies"],
                )
            )
            scans.append(item.staged)
        for item in self.outside.forms:
            if item.is_blank():
                continue
            components.append(
                services.ComponentInput(
                    name=item.cleaned_data["name"],
                    originals=item.cleaned_data["originals"],
                    copies=item.cleaned_data["copies"],
                    outside_reason=item.cleaned_data["reason"],
                )
            )
            scans.append(item.staged)
        data = services.SubmissionInput(
            procedure_code=self.procedure.code,
            receiving_agency_id=self.agency.pk,
            applicant=self.applicant.to_input(),
            channel=Channel.COUNTER,
            variant_id=self.variant.pk,
            owner=self.owner.to_input() if self.has_owner else None,
            authorisation=form.get("authorisation", "") if self.has_owner else "",
            components=components,
            delivery=form["delivery"],
            delivery_address=form.get("delivery_address", "")
            if form["delivery"] == Delivery.POSTAL
            else "",
            summary=form.get("summary", ""),
            sets=form["sets"],
            counter_id=form.get("counter"),
        )
        return Submission(
            data=data,
            files=scans,
            supplement_items=self.supplement_items(),
            refuse_reason=(form.get("refuse_reason") or "").strip(),
            token=form["token"],
        )

    def add_error(self, message: str) -> None:
        """A refusal from the services, shown above the form."""
        self.form.add_error(None, message)

    def error_summary(self) -> list[tuple[str, str]]:
        """``(element id, message)`` for every error next to a field, in page order, so the
        summary at the top links to each."""
        if not self.bound:
            return []
        anchors = {"procedure": "procedure-search", "variant": "section-variant"}
        items: list[tuple[str, str]] = []

        def add(form: forms.Form, title: str = "") -> None:
            for name, errors in form.errors.items():
                if name == NON_FIELD_ERRORS:
                    if form is self.form:
                        continue  # shown above the summary
                    anchor = form["received"].id_for_label if "received" in form.fields else ""
                    anchor = anchor or form["upload"].id_for_label
                    label = title
                else:
                    anchor = anchors.get(name) if form is self.form else None
                    anchor = anchor or form[name].id_for_label or f"id_{form.add_prefix(name)}"
                    label = str(form[name].label)
                    if title:
                        label = title if name == "received" else f"{title} — {label}"
                for error in errors:
                    items.append((anchor, f"{label}: {error}" if label else str(error)))

        form_fields = ["procedure", "variant"]
        for name in form_fields:
            if name in self.form.errors:
                for error in self.form.errors[name]:
                    items.append((anchors[name], str(error)))
        for form in self.components:
            add(form, gettext("Giấy tờ «%(name)s»") % {"name": _short(form.component.name)})
        for index, form in enumerate(self.outside.forms, start=1):
            add(form, gettext("Giấy tờ ngoài danh mục %(n)s") % {"n": index})
        add(self.applicant, gettext("Người nộp"))
        if self.has_owner:
            add(self.owner, gettext("Chủ hồ sơ"))
        for name, errors in self.form.errors.items():
            if name in form_fields or name == NON_FIELD_ERRORS:
                continue
            for error in errors:
                items.append((f"id_{name}", f"{self.form[name].label}: {error}"))
        return items


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
