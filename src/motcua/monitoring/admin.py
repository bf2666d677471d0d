"""Administration of violations: read what a rule found, record the explanation, close."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Violation
from .violations import RULES


class RuleFilter(admin.SimpleListFilter):
    title = _("quy tắc")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(code, rule.description) for code, rule in RULES.items()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(rule=self.value())
        return queryset


@admin.register(Violation)
class ViolationAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "rule_display",
        "severity",
        "dossier",
        "agency",
        "officer",
        "status",
    ]
    list_filter = ["status", RuleFilter, "severity", "agency"]
    search_fields = ["dossier__code", "detail", "officer__username"]
    date_hierarchy = "occurred_at"
    list_select_related = ["dossier", "agency", "officer"]
    raw_id_fields = ["dossier", "step", "officer"]
    readonly_fields = [
        "rule_display",
        "severity",
        "dossier",
        "step",
        "agency",
        "officer",
        "detail",
        "occurred_at",
        "detected_at",
        "explained_by",
        "explained_at",
        "closed_by",
        "closed_at",
    ]
    fields = [
        "rule_display",
        "severity",
        "dossier",
        "step",
        "agency",
        "officer",
        "detail",
        "occurred_at",
        "detected_at",
        "status",
        "explanation",
        "explained_by",
        "explained_at",
        "closed_by",
        "closed_at",
    ]
    actions = ["close_selected"]

    @admin.display(description=_("quy tắc"), ordering="rule")
    def rule_display(self, obj):
        return obj.rule_label

    def has_add_permission(self, request):
        return False  # violations are found by the rules, never typed in

    def save_model(self, request, obj, form, change):
        now = timezone.now()
        if "explanation" in form.changed_data and obj.explanation.strip():
            obj.explained_by, obj.explained_at = request.user, now
            if obj.status == Violation.Status.OPEN:
                obj.status = Violation.Status.EXPLAINED
        if "status" in form.changed_data and obj.status == Violation.Status.CLOSED:
            obj.closed_by, obj.closed_at = request.user, now
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Kết thúc các vi phạm đã chọn"))
    def close_selected(self, request, queryset):
        for violation in queryset.exclude(status=Violation.Status.CLOSED):
            violation.close(by=request.user)
