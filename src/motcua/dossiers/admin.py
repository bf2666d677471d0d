"""Read-only admin for dossiers: every change goes through ``services`` (the one write path)."""

from django.contrib import admin

from motcua.core.codes import mask_personal_id, mask_phone

from .models import Applicant, Dossier, DossierEvent, OutboxMessage, Rating, Step


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    fields = ["order", "kind", "name", "agency", "role", "state", "assignee", "due_at", "done_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = DossierEvent
    extra = 0
    fields = ["at", "action", "actor_label", "status_before", "status_after", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    list_display = ["code", "status", "procedure", "receiving_agency", "submitted_at", "due_at"]
    list_filter = ["status", "channel", "timeliness", "receiving_agency"]
    search_fields = ["code", "procedure__code"]
    date_hierarchy = "submitted_at"
    list_select_related = ["procedure", "receiving_agency"]
    inlines = [StepInline, EventInline]
    exclude = ["idempotency_key"]


@admin.register(Applicant)
class ApplicantAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "masked_id", "masked_phone"]
    list_filter = ["kind"]
    search_fields = ["=personal_id", "=tax_code", "name"]

    @admin.display(description="Số định danh / MST")
    def masked_id(self, obj):
        return mask_personal_id(obj.personal_id) if obj.personal_id else obj.tax_code

    @admin.display(description="Điện thoại")
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj.phone else ""


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ["topic", "dossier", "available_at", "attempts", "delivered_at"]
    list_filter = ["topic"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    """Citizens' ratings, as given on the portal (``services.rate``): read-only."""

    list_display = ["dossier", "score", "agency", "officer", "created_at"]
    list_filter = ["score", "agency"]
    search_fields = ["dossier__code"]
    date_hierarchy = "created_at"
    list_select_related = ["dossier", "agency", "officer"]
