"""Admin for administrative units, agencies and the working calendar (Vietnamese)."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.agencies.models import (
    AdministrativeUnit,
    Agency,
    CalendarDay,
    Counter,
    Department,
    WorkingSession,
)
from motcua.core.text import search_terms


class FoldedSearchMixin:
    """Search the folded ``search_text`` column too, so «thanh hoa» finds «Thanh Hóa»."""

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        terms = search_terms(search_term)
        if terms:
            folded = Q()
            for term in terms:
                folded &= Q(search_text__contains=term)
            results = results | queryset.filter(folded)
        return results, may_have_duplicates


class EraFilter(admin.SimpleListFilter):
    title = _("thời kỳ")
    parameter_name = "era"

    def lookups(self, request, model_admin):
        return [
            ("current", _("Đang có hiệu lực")),
            ("historical", _("Đã hết hiệu lực (trước sắp xếp)")),
        ]

    def queryset(self, request, queryset):
        today = dt.date.today()
        if self.value() == "current":
            return queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        if self.value() == "historical":
            return queryset.filter(valid_to__lt=today)
        return queryset


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(FoldedSearchMixin, admin.ModelAdmin):
    list_display = ("code", "full_name", "level", "unit_type", "parent", "valid_from", "valid_to")
    list_filter = ("level", EraFilter, "unit_type")
    search_fields = ("code", "name", "full_name", "name_en")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("code", "level", "unit_type", "name", "full_name", "name_en")}),
        (_("Quan hệ và hiệu lực"), {"fields": ("parent", "valid_from", "valid_to", "formed_from")}),
    )


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0
    fields = ("code", "name", "is_active")


class CounterInline(admin.TabularInline):
    model = Counter
    extra = 0
    fields = ("number", "name", "department", "is_active")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the departments of the agency being edited make sense for its counters.
        if db_field.name == "department":
            agency_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Department.objects.filter(agency_id=agency_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class WorkingSessionInline(admin.TabularInline):
    model = WorkingSession
    extra = 0
    fields = ("weekday", "start", "end", "valid_from", "valid_to")


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0
    fields = ("date", "kind", "name", "basis")
    verbose_name = _("ngày nghỉ / làm bù riêng của cơ quan")
    verbose_name_plural = _("lịch riêng của cơ quan (ghi đè lịch toàn quốc)")


@admin.register(Agency)
class AgencyAdmin(FoldedSearchMixin, admin.ModelAdmin):
    list_display = ("electronic_id", "name", "level", "kind", "unit", "is_active")
    list_filter = ("level", "kind", "is_active")
    search_fields = ("electronic_id", "name", "short_name")
    autocomplete_fields = ("unit", "parent")
    list_select_related = ("unit",)
    inlines = (DepartmentInline, CounterInline, WorkingSessionInline, CalendarDayInline)
    fieldsets = (
        (None, {"fields": ("name", "short_name", "electronic_id", "level", "kind", "is_active")}),
        (_("Địa bàn và cấp trên"), {"fields": ("unit", "parent")}),
        (_("Liên hệ"), {"fields": ("address", "phone", "email")}),
    )


class ScopeFilter(admin.SimpleListFilter):
    title = _("phạm vi")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("national", _("Toàn quốc")), ("agency", _("Riêng cơ quan"))]

    def queryset(self, request, queryset):
        if self.value() == "national":
            return queryset.filter(agency__isnull=True)
        if self.value() == "agency":
            return queryset.filter(agency__isnull=False)
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "kind", "name", "basis", "agency")
    list_filter = ("kind", ScopeFilter, ("agency", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "date"
    search_fields = ("name", "basis")
    autocomplete_fields = ("agency",)
    list_select_related = ("agency",)
    ordering = ("-date",)

    @admin.display(description=_("thứ"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return WorkingSession.Weekday(obj.date.weekday()).label


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "agency", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code", "agency__name", "agency__electronic_id")
    autocomplete_fields = ("agency",)
    list_select_related = ("agency",)


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "agency", "department", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "agency__name", "agency__electronic_id")
    autocomplete_fields = ("agency", "department")
    list_select_related = ("agency", "department__agency")
