from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from motcua import health
from motcua.api.api import api
from motcua.ops.metrics import metrics_view

admin.site.site_header = "Quản trị motcua"
admin.site.site_title = "Quản trị motcua"
admin.site.index_title = "Quản trị hệ thống một cửa điện tử"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("can-bo/", include("motcua.backoffice.urls")),
    path("", include("motcua.portal.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
