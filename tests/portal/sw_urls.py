"""The site's URLs plus answers with the headers the service worker must respect (for
tests/portal/test_pwa.py): pages under /ho-so-cua-toi/ that it may or may not keep, and assets
marked no-store, private or as a download."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache

from motcua.urls import urlpatterns as site

PAGE = (
    '<!doctype html><html lang="vi"><head><title>{0}</title></head><body><h1>{0}</h1></body></html>'
)


@never_cache
def page(request, name: str = "Trang thử"):
    """An HTML page marked no-store and private, like the real pages of "my dossiers"."""
    return HttpResponse(PAGE.format(name))


@never_cache
def data(request):
    """Not a page: personal data as JSON, marked no-store and private."""
    return JsonResponse({"ho_ten": "Nguyễn Thị Hằng"})


def download(request):
    """A download: even an HTML one is never kept."""
    response = HttpResponse(PAGE.format("Tệp tải về"))
    response["Content-Disposition"] = 'attachment; filename="ho-so.html"'
    return response


ASSET_HEADERS = {
    "no-store": {"Cache-Control": "no-store"},
    "private": {"Cache-Control": 'private="Set-Cookie", max-age=600'},
    "attachment": {
        "Cache-Control": "max-age=600",
        "Content-Disposition": 'attachment; filename="mau.css"',
    },
    "public": {"Cache-Control": "public, max-age=600"},
}


def asset(request, kind: str):
    response = HttpResponse("body { color: #111; }", content_type="text/css")
    for name, value in ASSET_HEADERS[kind].items():
        response[name] = value
    return response


urlpatterns = [
    path("ho-so-cua-toi/thu-trang/", page, name="sw_test_page"),
    path("ho-so-cua-toi/thu-du-lieu/", data, name="sw_test_data"),
    path("ho-so-cua-toi/thu-tai-ve/", download, name="sw_test_download"),
    path("ho-so-cua-toi/thu-trang/bo-sung/", page, {"name": "Biểu mẫu"}, name="sw_test_form"),
    path("thu-tai-nguyen/<str:kind>/", asset, name="sw_test_asset"),
    *site,
]
