"""Single sign-on against a real OpenID Connect provider on 127.0.0.1 (oidc_provider.py): the
code flow with state, nonce and PKCE, RS256 ID tokens checked against the provider's JWKS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.contrib.auth import SESSION_KEY, get_user_model

from motcua.accounts.models import CitizenProfile, Membership, Role
from motcua.portal.account.oidc import BACKEND
from tests.agencies.factories import ProvincialAgencyFactory
from tests.portal.account.helpers import make_citizen
from tests.portal.account.oidc_provider import CLIENT_ID, Provider

pytestmark = pytest.mark.django_db

START = "/tai-khoan/dang-nhap/dinh-danh/"
CALLBACK = "/tai-khoan/dang-nhap/dinh-danh/ket-qua/"
PERSON = {
    "sub": "vneid-000123",
    "name": "Trần Văn Minh",
    "phone_number": "+84 987 654 321",
    "email": "Minh.Tran@Example.VN",
    "so_dinh_danh": "038090001234",
}
User = get_user_model()


@pytest.fixture
def provider(settings):
    running = Provider(person=dict(PERSON)).start()
    for name, value in running.settings().items():
        setattr(settings, name, value)
    settings.OIDC_CLAIM_PERSONAL_ID = "so_dinh_danh"
    settings.OIDC_PROVIDER_NAME = "VNeID"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]
    yield running
    running.stop()


def go_to_provider(client, next_url: str | None = None) -> str:
    """Start the flow; let the provider answer; return the callback URL it redirects to."""
    start = client.get(START, {"next": next_url} if next_url else {})
    assert start.status_code == 302
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back(client, callback: str):
    url = urlparse(callback)
    assert url.path == CALLBACK
    return client.get(f"{url.path}?{url.query}")


def signed_in(client):
    return client.session.get(SESSION_KEY)


def test_the_button_and_the_request_to_the_provider(client, provider):
    html = client.get("/tai-khoan/dang-nhap/").content.decode()
    assert "Đăng nhập bằng tài khoản VNeID" in html
    start = client.get(START)
    url = urlparse(start["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == f"http://testserver{CALLBACK}"
    assert query["state"] and query["nonce"] and query["code_challenge_method"] == "S256"


def test_first_sign_in_creates_the_citizen_from_the_claims(client, provider):
    response = back(client, go_to_provider(client, next_url="/tai-khoan/danh-gia/X/"))
    assert response.status_code == 302
    assert response["Location"] == "/tai-khoan/danh-gia/X/"
    profile = CitizenProfile.objects.select_related("user").get()
    assert signed_in(client) == str(profile.user.pk)
    assert profile.oidc_issuer == provider.issuer and profile.oidc_subject == "vneid-000123"
    assert profile.full_name == "Trần Văn Minh"
    assert (profile.phone, profile.phone_verified) == ("0987654321", True)
    assert (profile.email, profile.email_verified) == ("minh.tran@example.vn", True)
    assert (profile.personal_id, profile.identity_verified) == ("038090001234", True)
    assert not profile.user.has_usable_password()
    assert provider.token_requests == 1

    # Next time: the same account, refreshed from the claims.
    client.post("/tai-khoan/dang-xuat/")
    provider.person["name"] = "Trần Văn Minh Khôi"
    response = back(client, go_to_provider(client))
    assert response["Location"] == "/tai-khoan/"
    assert User.objects.count() == 1
    assert CitizenProfile.objects.get().full_name == "Trần Văn Minh Khôi"
    # The verified personal id is not editable on the profile page.
    html = client.get("/tai-khoan/").content.decode()
    assert 'name="personal_id" value="038090001234"' in html and "disabled" in html


def test_an_existing_account_with_the_same_email_is_not_taken_over(client, provider):
    local = make_citizen("minh.tran@example.vn")
    back(client, go_to_provider(client))
    assert signed_in(client) != str(local.pk)
    assert User.objects.count() == 2


def refused(client, response) -> bool:
    assert response.status_code == 302
    assert response["Location"] == "/tai-khoan/dang-nhap/"
    page = client.get(response["Location"]).content.decode()
    return "Đăng nhập qua VNeID không thành công" in page and signed_in(client) is None


def test_a_callback_with_another_state_is_refused(client, provider):
    callback = go_to_provider(client)
    forged = callback.replace("state=", "state=x")
    assert refused(client, back(client, forged))
    assert provider.token_requests == 0 and not User.objects.exists()


def test_a_callback_cannot_be_replayed(client, provider):
    callback = go_to_provider(client)
    back(client, callback)
    client.post("/tai-khoan/dang-xuat/")
    assert refused(client, back(client, callback))


@pytest.mark.parametrize("tamper", ["signature", "nonce", "audience", "expired"])
def test_a_tampered_or_foreign_id_token_is_refused(client, provider, tamper):
    provider.tamper = tamper
    assert refused(client, back(client, go_to_provider(client)))
    assert provider.token_requests == 1
    assert not User.objects.exists()


def test_an_officer_never_signs_in_through_single_sign_on(client, provider):
    back(client, go_to_provider(client))
    user = User.objects.get()
    Membership.objects.create(user=user, agency=ProvincialAgencyFactory(), role=Role.LEADER)
    client.post("/tai-khoan/dang-xuat/")
    assert refused(client, back(client, go_to_provider(client)))
