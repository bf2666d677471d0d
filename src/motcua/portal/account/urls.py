from django.urls import path

from . import oidc, pwa, views

app_name = "account"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("dang-nhap/", views.sign_in, name="sign_in"),
    path("dang-xuat/", views.sign_out, name="sign_out"),
    path("dang-ky/", views.register, name="register"),
    path("dang-ky/xac-minh/", views.register_verify, name="register_verify"),
    path("dang-nhap/dinh-danh/", oidc.StartView.as_view(), name="oidc_start"),
    path("dang-nhap/dinh-danh/ket-qua/", oidc.CallbackView.as_view(), name="oidc_callback"),
    path("xa-phuong/", views.commune_options, name="communes"),
    path("danh-gia/<str:code>/", views.rate, name="rate"),
    # The installable web app (served here, controlling the whole site: see pwa.py).
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("ngoai-tuyen/", pwa.offline, name="offline"),
]
