from django.urls import include, path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("thu-tuc/", views.catalogue, name="catalogue"),
    path("thu-tuc/<str:code>/", views.procedure, name="procedure"),
    path("tra-cuu-ho-so/", views.dossier_lookup, name="dossier_lookup"),
    path("tai-khoan/", include("motcua.portal.account.urls")),
    path("", include("motcua.portal.submission.urls")),
]
