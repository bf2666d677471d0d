"""Admin: what was sent (recipients masked in lists, read-only) and applicants' preferences."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.core.codes import mask_phone

from .masking import mask_email, mask_recipient
from .models import Notification, NotificationPreference
from .services import RESENDABLE


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "dossier_code",
        "kind",
        "channel",
        "masked_recipient",
        "status",
        "sandbox",
        "attempts",
        "sent_at",
    ]
    list_filter = ["channel", "status", "kind", "sandbox"]
    search_fields = ["=dossier__code"]
    date_hierarchy = "created_at"
    list_select_related = ["dossier"]
    actions = ["resend"]
    fields = [
        "dossier",
        "event",
        "kind",
        "channel",
        "recipient",
        "status",
        "subject",
        "body",
        "html",
        "provider",
        "sandbox",
        "provider_message_id",
        "provider_response",
        "error",
        "attempts",
        "created_at",
        "sending_since",
        "sent_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("mã hồ sơ"), ordering="dossier__code")
    def dossier_code(self, obj):
        return obj.dossier.code or "—"

    @admin.display(description=_("người nhận"))
    def masked_recipient(self, obj):
        return mask_recipient(obj.channel, obj.recipient)

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_notification")

    @admin.action(
        description=_("Gửi lại các thông báo chưa chắc đã tới người nhận"),
        permissions=["resend"],
    )
    def resend(self, request, queryset):
        from .tasks import resend

        ids = list(queryset.filter(status__in=RESENDABLE).values_list("pk", flat=True))
        for pk in ids:
            resend(pk)
        skipped = queryset.count() - len(ids)
        self.message_user(
            request,
            gettext("Đã xếp %(count)d thông báo vào hàng đợi gửi lại.") % {"count": len(ids)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                gettext("Bỏ qua %(count)d thông báo đã gửi hoặc đang gửi.") % {"count": skipped},
                messages.WARNING,
            )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["applicant", "masked_email", "masked_phone", "email", "sms", "zalo"]
    list_editable = ["email", "sms", "zalo"]
    list_filter = ["email", "sms", "zalo"]
    search_fields = ["=applicant__personal_id", "=applicant__tax_code", "applicant__name"]
    autocomplete_fields = ["applicant"]
    list_select_related = ["applicant"]

    @admin.display(description=_("thư điện tử"))
    def masked_email(self, obj):
        return mask_email(obj.applicant.email) if obj.applicant.email else ""

    @admin.display(description=_("điện thoại"))
    def masked_phone(self, obj):
        return mask_phone(obj.applicant.phone) if obj.applicant.phone else ""
