"""Admin for the procedure catalogue (Vietnamese).

National content is read-only here: a version may be pinned by dossiers, and new content only
arrives through ``services.save_procedure`` (import or demo). What the province configures is
editable: a variant's process template (steps), the agencies applying a procedure, whether a
procedure is published, and fields. A procedure added here goes through ``save_procedure`` too
(source «local»), with one empty variant to configure.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from motcua.core.errors import DomainError
from motcua.core.text import fold, search_terms

from .models import (
    Component,
    Fee,
    Field,
    OnlineMode,
    Procedure,
    ProcedureAgency,
    ProcedureVersion,
    ProcessStep,
    TimeLimit,
    Variant,
)
from .services import normalize_content, save_procedure


class FoldedSearchMixin:
    """Also search the folded ``search_text``, so «dang ky khai sinh» finds «Đăng ký khai sinh»."""

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        terms = search_terms(search_term)
        if terms:
            folded = Q()
            for term in terms:
                folded &= Q(search_text__contains=term)
            results = results | queryset.filter(folded)
        return results, may_have_duplicates


class ReadOnlyInline:
    """An inline that shows national content and cannot add, change or delete it."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- procedures ------------------------------------------------------------------------------


class VersionInline(ReadOnlyInline, admin.TabularInline):
    model = ProcedureVersion
    fields = ("number", "source", "name", "online_mode", "created_at")
    show_change_link = True
    ordering = ("-number",)
    verbose_name_plural = _("các phiên bản (chỉ xem)")


class ProcedureAgencyInline(admin.TabularInline):
    model = ProcedureAgency
    extra = 0
    fields = ("agency", "is_active")
    autocomplete_fields = ("agency",)


class ProcedureAddForm(forms.ModelForm):
    online_mode = forms.ChoiceField(
        label=_("dịch vụ công trực tuyến"), choices=OnlineMode.choices, initial=OnlineMode.NONE
    )

    class Meta:
        model = Procedure
        fields = ("code", "name", "field", "online_mode", "is_active")

    def content(self) -> dict:
        data = self.cleaned_data
        field = data.get("field")
        return {
            "code": data.get("code", ""),
            "name": data.get("name", ""),
            "field": {"code": field.code, "name": field.name} if field else None,
            "online_mode": data.get("online_mode"),
            "variants": [{"name": ""}],
        }

    def clean(self):
        cleaned = super().clean()
        try:
            normalize_content(self.content())
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        return cleaned


@admin.register(Procedure)
class ProcedureAdmin(FoldedSearchMixin, admin.ModelAdmin):
    list_display = ("code", "name", "field", "version_number", "online_mode", "is_active")
    list_filter = ("is_active", "field", "current_version__online_mode")
    search_fields = ("code", "name")
    list_select_related = ("field", "current_version")
    list_per_page = 50
    inlines = (ProcedureAgencyInline, VersionInline)
    readonly_fields = (
        "code",
        "name",
        "field",
        "national_id",
        "current_version_link",
        "created_at",
        "updated_at",
    )
    fields = (*readonly_fields[:4], "is_active", *readonly_fields[4:])

    @admin.display(description=_("phiên bản"), ordering="current_version__number")
    def version_number(self, obj: Procedure):
        return obj.current_version.number if obj.current_version else None

    @admin.display(description=_("trực tuyến"), ordering="current_version__online_mode")
    def online_mode(self, obj: Procedure):
        return obj.current_version.get_online_mode_display() if obj.current_version else "—"

    @admin.display(description=_("phiên bản hiện hành"))
    def current_version_link(self, obj: Procedure):
        if not obj.current_version_id:
            return "—"
        url = reverse("admin:catalog_procedureversion_change", args=[obj.current_version_id])
        return format_html('<a href="{}">{}</a>', url, obj.current_version)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProcedureAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ProcedureAddForm.Meta.fields
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else (ProcedureAgencyInline,)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["is_active", "updated_at"])
            return
        # New procedures go through the one write path, like imported ones.
        result = save_procedure(form.content(), source=ProcedureVersion.Source.LOCAL)
        procedure = result.procedure
        if procedure.is_active != form.cleaned_data.get("is_active", True):
            procedure.is_active = form.cleaned_data["is_active"]
            procedure.save(update_fields=["is_active"])
        obj.pk = procedure.pk
        obj.__dict__.update({k: v for k, v in procedure.__dict__.items() if k != "_state"})
        obj._state.adding = False


# --- versions and variants (national content read-only) ---------------------------------------


class VariantInline(ReadOnlyInline, admin.TabularInline):
    model = Variant
    fields = ("order", "code", "name")
    show_change_link = True


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(admin.ModelAdmin):
    list_display = ("procedure", "number", "name", "source", "online_mode", "created_at")
    list_filter = ("source", "online_mode")
    search_fields = ("procedure__code", "name")
    list_select_related = ("procedure",)
    list_per_page = 50
    inlines = (VariantInline,)
    exclude = ("raw",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "raw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # View-only: a version may be pinned by dossiers.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ComponentInline(ReadOnlyInline, admin.TabularInline):
    model = Component
    fields = ("order", "code", "name", "originals", "copies", "required", "form_name")


class TimeLimitInline(ReadOnlyInline, admin.TabularInline):
    model = TimeLimit
    fields = ("channel", "amount", "unit", "description")


class FeeInline(ReadOnlyInline, admin.TabularInline):
    model = Fee
    fields = ("channel", "kind", "amount", "description")


class StepFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        shares = [
            form.cleaned_data.get("share") or Decimal(0)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if shares and sum(shares) != 100:
            raise ValidationError(
                _("Tổng tỷ lệ thời gian các bước phải bằng 100%% (đang là %(total)s%%).")
                % {"total": sum(shares)}
            )
        for form in self.forms:
            data = form.cleaned_data or {}
            department, agency = data.get("department"), data.get("agency")
            if department and agency and department.agency_id != agency.pk:
                form.add_error("department", _("Phòng, ban không thuộc cơ quan đã chọn."))


class ProcessStepInline(admin.TabularInline):
    """The local process template: editable even on versions dossiers pin."""

    model = ProcessStep
    formset = StepFormSet
    extra = 0
    fields = ("order", "name", "role", "agency", "department", "share")
    autocomplete_fields = ("agency", "department")


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "version", "order", "step_count")
    search_fields = ("version__procedure__code", "name")
    list_select_related = ("version__procedure",)
    readonly_fields = ("version", "order", "code", "name")
    fields = readonly_fields
    inlines = (ProcessStepInline, ComponentInline, TimeLimitInline, FeeInline)
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_steps=Count("steps"))

    @admin.display(description=_("số bước xử lý"), ordering="_steps")
    def step_count(self, obj):
        return obj._steps

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- fields and applying agencies ----------------------------------------------------------


@admin.register(Field)
class FieldAdmin(FoldedSearchMixin, admin.ModelAdmin):
    list_display = ("name", "code", "procedure_count")
    search_fields = ("name", "code")
    fields = ("code", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_count=Count("procedures"))

    @admin.display(description=_("số thủ tục"), ordering="_count")
    def procedure_count(self, obj):
        return obj._count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            # The field name is part of each procedure's search text.
            procedures = list(obj.procedures.only("pk", "code", "name"))
            for procedure in procedures:
                procedure.search_text = fold(f"{procedure.code} {procedure.name} {obj.name}")
            Procedure.objects.bulk_update(procedures, ["search_text"], batch_size=500)


@admin.register(ProcedureAgency)
class ProcedureAgencyAdmin(admin.ModelAdmin):
    list_display = ("procedure", "agency", "is_active")
    list_filter = ("is_active",)
    search_fields = ("procedure__code", "procedure__name", "agency__name", "agency__electronic_id")
    autocomplete_fields = ("procedure", "agency")
    list_select_related = ("procedure", "agency")
