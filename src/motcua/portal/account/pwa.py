"""The installable web app: the manifest, the service worker and its offline page.

The service worker is served from ``/tai-khoan/sw.js`` with ``Service-Worker-Allowed: /`` and
registered with the scope ``/``, so it controls the lookup page (``/tra-cuu-ho-so/``) and "my
dossiers" (``/ho-so-cua-toi/`` and ``/ho-so-cua-toi/<dossier>/``): network first, the last good
copy when offline, and the offline page for any other portal page. It leaves the back office,
the admin and the API alone. It keeps HTML pages of those two only, never a file download
(``Content-Disposition: attachment``) nor an asset marked ``no-store`` or ``private``. A copy of
"my dossiers" (personal data) is deleted when someone signs in or out on the device.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from motcua.portal.templatetags.portal import site_name

THEME = "#083a73"
# Static files the offline page needs, kept at install.
STATIC_ASSETS = (
    "portal/portal.css",
    "portal/account/account.css",
    "portal/logo.svg",
    "portal/favicon.svg",
    "portal/account/pwa.js",
    "portal/account/icon.svg",
    "portal/account/icon-192.png",
)
# Pages kept offline: public (the lookup form and its answers) and private ("my dossiers").
PUBLIC_PAGES = ("/tra-cuu-ho-so/",)
PRIVATE_PAGES = ("/ho-so-cua-toi/",)
# Never touched by the service worker.
SKIP = ("/can-bo/", "/admin/", "/api/", "/i18n/", "/healthz", "/readyz", "/media/")


@functools.cache
def _assets_digest() -> str:
    digest = hashlib.sha256()
    for name in STATIC_ASSETS:
        found = finders.find(name)
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def _worker_config() -> dict:
    return {
        "offline": reverse("portal:account:offline"),
        "precache": [
            reverse("portal:account:offline"),
            reverse("portal:dossier_lookup"),
            *(static(name) for name in STATIC_ASSETS),
        ],
        "static": f"{settings.STATIC_URL}portal/",
        "public": list(PUBLIC_PAGES),
        "private": list(PRIVATE_PAGES),
        "skip": list(SKIP),
        # Where an account signs in or out (password, new account, single sign-on; an officer
        # in the back office or the admin on the same device too).
        "signInOut": [
            *(
                reverse(f"portal:account:{name}")
                for name in ("sign_in", "sign_out", "register_verify", "oidc_callback")
            ),
            reverse("backoffice:login"),
            reverse("backoffice:logout"),
            reverse("admin:login"),
            reverse("admin:logout"),
        ],
    }


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    config = _worker_config()
    template = get_template("portal/account/sw.js")
    body = template.render({"config": json.dumps(config, ensure_ascii=False)})
    # A new version whenever the script, its configuration or a kept asset changes.
    version = hashlib.sha256((body + _assets_digest()).encode()).hexdigest()[:12]
    body = body.replace("__VERSION__", version)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    name = site_name({"request": request})
    data = {
        "name": name,
        "short_name": _("Dịch vụ công"),
        "description": _(
            "Tra cứu thủ tục, nộp và theo dõi hồ sơ thủ tục hành chính theo cơ chế một cửa."
        ),
        "lang": "vi",
        "dir": "ltr",
        "start_url": reverse("portal:home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": static("portal/account/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("portal/account/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("portal/account/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("portal/account/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": _("Tra cứu hồ sơ"), "url": reverse("portal:dossier_lookup")},
            {"name": _("Tài khoản của tôi"), "url": reverse("portal:account:profile")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker when a page cannot be reached and was not kept."""
    return render(request, "portal/account/offline.html")
