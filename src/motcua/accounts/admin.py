from django.contrib import admin

from .models import ApiToken, CitizenProfile, Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "department", "role", "is_active"]
    list_filter = ["role", "is_active", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name"]
    autocomplete_fields = ["agency"]
    raw_id_fields = ["user", "department"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        # Tokens are issued with `manage.py issue_api_token` so the raw value can be shown once.
        return False


@admin.register(CitizenProfile)
class CitizenProfileAdmin(admin.ModelAdmin):
    """Citizens' accounts of the portal (created by registration or single sign-on)."""

    list_display = ["__str__", "user", "kind", "phone", "email", "identity_verified", "created_at"]
    list_filter = ["kind", "identity_verified", "phone_verified", "email_verified"]
    search_fields = ["user__username", "full_name", "phone", "email"]
    raw_id_fields = ["user", "province", "commune"]
    readonly_fields = ["oidc_issuer", "oidc_subject", "created_at", "updated_at"]
