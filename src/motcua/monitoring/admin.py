"""Administration of violations: read what a rule found, record the explanation, close."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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
        "history",
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
        "history",
    ]
    actions = ["close_selected"]

    @admin.display(description=_("lịch sử xử lý"))
    def history(self, obj):
        rows = [
            format_html(
                "<li>{} — {}: {} → {}{}</li>",
                timezone.localtime(change.at).strftime("%H:%M %d/%m/%Y"),
                change.actor or "—",
                change.get_status_before_display(),
                change.get_status_after_display(),
                f" ({change.note})" if change.note else "",
            )
            for change in obj.changes.select_related("actor").order_by("at", "id")
        ]
        return format_html("<ol>{}</ol>", format_html_join("", "{}", ((r,) for r in rows)))

    @admin.display(description=_("quy tắc"), ordering="rule")
    def rule_display(self, obj):
        return obj.rule_label

    def has_add_permission(self, request):
        return False  # violations are found by the rules, never typed in

    def save_model(self, request, obj, form, change):
        """Explanation and closing go through the model's methods, which write the history
        row (``ViolationChange``) in the same transaction."""
        explained = "explanation" in form.changed_data and obj.explanation.strip()
        closing = "status" in form.changed_data and obj.status == Violation.Status.CLOSED
        if not change or not (explained or closing):
            super().save_model(request, obj, form, change)
            return
        stored = Violation.objects.get(pk=obj.pk)
        if explained and stored.status != Violation.Status.CLOSED:
            stored.explain(obj.explanation, by=request.user)
        if closing and stored.status != Violation.Status.CLOSED:
            stored.close(by=request.user)
        obj.refresh_from_db()

    @admin.action(description=_("Kết thúc các vi phạm đã chọn"))
    def close_selected(self, request, queryset):
        for violation in queryset.exclude(status=Violation.Status.CLOSED):
            violation.close(by=request.user)
