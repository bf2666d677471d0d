"""Single sign-on through OpenID Connect (the national VNeID-style login is one such provider).

mozilla-django-oidc runs the authorisation-code flow (state and nonce kept in the session,
PKCE by default); this module narrows it for citizens:

* it is on only when configured (``OIDC_RP_CLIENT_ID`` and the provider's endpoints, see
  docs/citizens-portal.md); otherwise the pages show no button and these URLs answer 404;
* the ID token must be signed with ``OIDC_RP_SIGN_ALGO`` (RS256) by a key of the provider's
  JWKS, be addressed to this client (``aud``), come from ``OIDC_OP_ISSUER`` when set, and carry
  the nonce of this session's request;
* users are found by (issuer, subject) and created on first sign-in from the claims, never
  matched by e-mail (``citizens.citizen_from_sso``); an officer's account never signs in here.
"""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from motcua.accounts import citizens

log = logging.getLogger(__name__)

BACKEND = "motcua.portal.account.oidc.CitizenOIDCBackend"
REQUIRED = (
    "OIDC_RP_CLIENT_ID",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)
# Clock skew tolerated between the provider and this server, in seconds.
LEEWAY = 60


def enabled() -> bool:
    """Whether single sign-on is configured (and its backend installed)."""
    return all(getattr(settings, name, "") for name in REQUIRED) and (
        BACKEND in settings.AUTHENTICATION_BACKENDS
    )


def provider_name() -> str:
    return getattr(settings, "OIDC_PROVIDER_NAME", "") or "VNeID"


def _claim(claims: dict, setting: str, default: str) -> str:
    name = getattr(settings, setting, "") or default
    value = claims.get(name)
    return str(value) if value not in (None, "") else ""


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    """Authenticates the callback of the code flow; see the module docstring."""

    def __init__(self, *args, **kwargs):
        if not enabled():
            # Listed but not configured: answer nothing rather than fail at construction.
            self.disabled = True
            return
        self.disabled = False
        super().__init__(*args, **kwargs)

    def authenticate(self, request, **kwargs):
        if self.disabled or request is None:
            return None
        if "nonce" not in kwargs:  # a password sign-in, not the OIDC callback
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        if self.disabled:
            return None
        return super().get_user(user_id)

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token is not signed with OIDC_RP_SIGN_ALGO.")
        issuer = getattr(settings, "OIDC_OP_ISSUER", "") or None
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "sub", "aud"], "verify_iss": bool(issuer)},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {type(exc).__name__}") from exc

    def get_userinfo(self, access_token, id_token, payload):
        if not getattr(settings, "OIDC_OP_USER_ENDPOINT", ""):
            return {}
        info = super().get_userinfo(access_token, id_token, payload)
        if info.get("sub") not in (None, payload.get("sub")):
            raise SuspiciousOperation("The user info is about another subject.")
        return info

    def get_or_create_user(self, access_token, id_token, payload):
        info = {**payload, **self.get_userinfo(access_token, id_token, payload)}
        issuer = str(payload.get("iss") or getattr(settings, "OIDC_OP_ISSUER", "") or "")
        claims = citizens.SsoClaims(
            issuer=issuer or settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
            subject=str(payload.get("sub") or ""),
            name=_claim(info, "OIDC_CLAIM_NAME", "name"),
            phone=_claim(info, "OIDC_CLAIM_PHONE", "phone_number"),
            email=_claim(info, "OIDC_CLAIM_EMAIL", "email"),
            personal_id=_claim(info, "OIDC_CLAIM_PERSONAL_ID", "personal_id"),
        )
        user = citizens.citizen_from_sso(claims)
        if citizens.is_officer(user) or not user.is_active:
            log.warning("single sign-on refused for an officer or inactive account #%s", user.pk)
            return None
        return user


def _failed(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        _("Đăng nhập qua %(provider)s không thành công. Vui lòng thử lại.")
        % {"provider": provider_name()},
    )
    return HttpResponseRedirect(reverse("portal:account:sign_in"))


class StartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and the PKCE verifier in the session)."""

    def dispatch(self, request, *args, **kwargs):
        if not enabled():
            raise Http404(_("Đăng nhập một lần chưa được cấu hình."))
        return super().dispatch(request, *args, **kwargs)


class CallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: checked, then the citizen is signed in (or told it failed)."""

    @property
    def success_url(self):
        return self.request.session.get("oidc_login_next") or reverse("portal:account:profile")

    def login_failure(self):
        return _failed(self.request)

    def dispatch(self, request, *args, **kwargs):
        if not enabled():
            raise Http404(_("Đăng nhập một lần chưa được cấu hình."))
        try:
            return super().dispatch(request, *args, **kwargs)
        except (SuspiciousOperation, requests.RequestException, ValueError, KeyError) as exc:
            # A wrong state, a tampered or foreign token, a provider that is down.
            log.warning("single sign-on failed: %s", type(exc).__name__)
            return _failed(request)
