"""Online submission on the portal: e-forms, resumable uploads, drafts, my dossiers."""

from django.urls import path

from motcua.submissions import views as tus

from . import views

app_name = "submission"

urlpatterns = [
    path("nop-ho-so/xa-phuong/", views.commune_options, name="communes"),
    path("nop-ho-so/ban-nhap/<uuid:key>/", views.edit, name="edit"),
    path("nop-ho-so/ban-nhap/<uuid:key>/xoa/", views.discard, name="discard"),
    path("nop-ho-so/<str:code>/", views.start, name="start"),
    path("ho-so-cua-toi/", views.my_dossiers, name="my_dossiers"),
    path("ho-so-cua-toi/<uuid:key>/", views.dossier_detail, name="dossier"),
    path("ho-so-cua-toi/<uuid:key>/bo-sung/", views.supplement, name="supplement"),
    path("ho-so-cua-toi/<uuid:key>/rut-ho-so/", views.withdraw, name="withdraw"),
    # Outside /ho-so-cua-toi/, which the portal's service worker keeps for offline reading:
    # the e-result is never kept in a browser cache.
    path("ket-qua-dien-tu/<uuid:key>/", views.result_file, name="result_file"),
    # The tus 1.0.0 server (docs/citizens-portal.md).
    path("tai-len/", tus.endpoint, name="tus"),
    path("tai-len/<uuid:key>/", tus.upload, name="tus_upload"),
]
