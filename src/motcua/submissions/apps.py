from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "motcua.submissions"
    verbose_name = _("Nộp hồ sơ trực tuyến")
    default_auto_field = "django.db.models.BigAutoField"
