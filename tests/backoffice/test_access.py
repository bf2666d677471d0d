"""Who reaches which back-office page: sign-in, membership, second factor, role (test client).

Most tests run on ``gate_urls``: the real routes, access rules and middleware, with the pages
other modules own replaced by the bare layout (see there). The last test opens the real pages.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, get_resolver, reverse

from motcua.accounts.models import Membership, Role
from motcua.backoffice import access
from tests.agencies.factories import AgencyFactory

from .conftest import build_officers, confirmed_device, make_officer, verify_otp

pytestmark = pytest.mark.urls("tests.backoffice.gate_urls")

LOGIN = "/can-bo/dang-nhap/"
PUBLIC = {"login", "logout", "otp_verify", "otp_setup"}


# A value for each kind of path parameter, to build every back-office URL.
SAMPLES = {
    "IntConverter": 1,
    "StringConverter": "01",
    "SlugConverter": "x",
    "PathConverter": "x",
    "UUIDConverter": "00000000-0000-0000-0000-000000000001",
}


def backoffice_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (mounted,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "backoffice"]
    return list(mounted.url_patterns)


def protected_urls() -> list[str]:
    urls = []
    for pattern in backoffice_patterns():
        if pattern.name in PUBLIC:
            continue
        kwargs = {name: SAMPLES[type(c).__name__] for name, c in pattern.pattern.converters.items()}
        urls.append(reverse(f"backoffice:{pattern.name}", kwargs=kwargs))
    return urls


# Built from the real URL configuration when the module is imported.
PROTECTED = protected_urls()

PAGE_URLS = {
    access.Page.INTAKE: "/can-bo/tiep-nhan/",
    access.Page.INBOX: "/can-bo/ho-so/",
    access.Page.RETURN_DESK: "/can-bo/tra-ket-qua/",
    access.Page.REGISTERS: "/can-bo/so-theo-doi/",
    access.Page.MONITORING: "/can-bo/giam-sat/",
    access.Page.VIOLATIONS: "/can-bo/giam-sat/vi-pham/",
}


def test_the_pages_have_the_agreed_names_and_addresses():
    assert reverse("backoffice:home") == "/can-bo/"
    assert reverse("backoffice:dossier", kwargs={"pk": 7}) == "/can-bo/ho-so/7/"
    assert reverse("backoffice:login") == LOGIN
    for page, url in PAGE_URLS.items():
        assert reverse(f"backoffice:{page}") == url


@pytest.mark.urls("motcua.urls")
def test_every_backoffice_view_declares_who_may_open_it():
    undeclared = [p.name for p in backoffice_patterns() if access.access_of(p.callback) is None]
    assert undeclared == []
    public = {p.name for p in backoffice_patterns() if access.access_of(p.callback).public}
    assert public == PUBLIC


def test_a_view_without_an_access_rule_is_refused_even_to_an_officer(client, officers):
    client.force_login(officers.counter)
    response = client.get("/can-bo/quen-khai-bao/")
    assert response.status_code == 403
    assert "chưa được cấp quyền truy cập" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", PROTECTED)
def test_anonymous_users_are_sent_to_sign_in_and_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url.replace('/', '%2F')}"


@pytest.mark.django_db
def test_an_htmx_request_of_an_anonymous_user_makes_the_browser_go_to_sign_in(client):
    response = client.get("/can-bo/ho-so/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(LOGIN)


@pytest.mark.parametrize("who", ["leader", "administrator", "superuser"])
def test_no_backoffice_page_opens_without_the_second_factor(client, officers, who):
    if who == "superuser":
        user = make_officer("sieuquantri", officers.agency, Role.SPECIALIST)
        user.is_superuser = True
        user.save()
    else:
        user = getattr(officers, who)
    confirmed_device(user)
    client.force_login(user)  # password only: no OTP device in the session
    for url in PROTECTED:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/can-bo/xac-thuc/?next="), url


def test_a_leader_with_the_second_factor_reaches_the_inbox(client, officers):
    client.force_login(officers.leader)
    verify_otp(client, officers.leader)
    assert client.get("/can-bo/")["Location"] == "/can-bo/ho-so/"
    response = client.get("/can-bo/ho-so/")
    assert response.status_code == 200
    assert "Hồ sơ cần xử lý" in response.content.decode()


@pytest.mark.parametrize("who", ["counter", "specialist", "clerk", "monitor"])
def test_other_officers_need_no_second_factor(client, officers, who):
    client.force_login(getattr(officers, who))
    response = client.get("/can-bo/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] in PAGE_URLS.values()


def test_a_user_without_membership_is_refused_everywhere(client, officers):
    client.force_login(officers.no_membership)
    for url in PROTECTED:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "chưa được phân công" in response.content.decode()


def test_an_inactive_membership_or_agency_counts_as_none(client, officers):
    Membership.objects.filter(user=officers.counter).update(is_active=False)
    client.force_login(officers.counter)
    assert client.get("/can-bo/tiep-nhan/").status_code == 403
    Membership.objects.filter(user=officers.clerk).update(is_active=True)
    officers.agency.is_active = False
    officers.agency.save()
    client.force_login(officers.clerk)
    assert client.get("/can-bo/tra-ket-qua/").status_code == 403


EXPECTED_NAV = {
    Role.COUNTER_OFFICER: [
        "Tiếp nhận hồ sơ",
        "Hồ sơ cần xử lý",
        "Trả kết quả",
        "Sổ theo dõi",
        "Vi phạm",
    ],
    Role.SPECIALIST: ["Hồ sơ cần xử lý", "Vi phạm"],
    Role.LEADER: ["Hồ sơ cần xử lý", "Giám sát, đánh giá", "Vi phạm"],
    Role.CLERK: ["Trả kết quả", "Hồ sơ cần xử lý", "Sổ theo dõi", "Vi phạm"],
    Role.MONITOR: ["Giám sát, đánh giá", "Vi phạm", "Hồ sơ cần xử lý", "Sổ theo dõi"],
    Role.ADMINISTRATOR: ["Hồ sơ cần xử lý", "Sổ theo dõi", "Giám sát, đánh giá", "Vi phạm"],
}


@pytest.mark.parametrize("role", list(EXPECTED_NAV))
def test_the_navigation_shows_exactly_the_pages_of_the_role(client, officers, role):
    user = officers.by_role()[role]
    client.force_login(user)
    if access.requires_otp(user):
        verify_otp(client, user)
    home = client.get("/can-bo/")
    first = PAGE_URLS[access.pages_for(role)[0]]
    assert home["Location"] == first
    response = client.get(first)
    nav = [item.label for item in response.context["bo"].nav]
    assert nav == EXPECTED_NAV[role]
    html = response.content.decode()
    for page, url in PAGE_URLS.items():
        label = str(access.PAGE_LABELS[page])
        allowed = label in EXPECTED_NAV[role]
        assert (f'href="{url}"' in html) is allowed, (role, url)
        assert client.get(url).status_code == (200 if allowed else 403), (role, url)
    assert "Đăng xuất" in html


def test_the_current_page_is_marked_in_the_navigation(client, officers):
    client.force_login(officers.counter)
    html = client.get("/can-bo/tra-ket-qua/").content.decode()
    assert '<a href="/can-bo/tra-ket-qua/" aria-current="page">' in html
    assert '<a href="/can-bo/tiep-nhan/" aria-current="page">' not in html


@pytest.mark.parametrize("who, read_only", [("monitor", True), ("specialist", False)])
def test_monitors_are_told_they_only_read(client, officers, who, read_only):
    client.force_login(getattr(officers, who))
    response = client.get("/can-bo/ho-so/")
    assert response.context["bo"].read_only is read_only
    assert ("chỉ xem, không xử lý hồ sơ" in response.content.decode()) is read_only


def test_an_officer_with_two_memberships_chooses_one_and_the_navigation_follows(client, officers):
    commune = AgencyFactory(name="Ủy ban nhân dân xã Hoằng Thanh", short_name="UBND xã Hoằng Thanh")
    second = Membership.objects.create(user=officers.counter, agency=commune, role=Role.CLERK)
    client.force_login(officers.counter)
    page = client.get("/can-bo/tiep-nhan/")
    html = page.content.decode()
    assert 'name="membership"' in html and "UBND xã Hoằng Thanh" in html

    response = client.post("/can-bo/doi-vai-tro/", {"membership": second.pk})
    assert response["Location"] == "/can-bo/"
    assert client.get("/can-bo/")["Location"] == "/can-bo/tra-ket-qua/"
    assert client.get("/can-bo/tiep-nhan/").status_code == 403  # a clerk does no intake
    after = client.get("/can-bo/tra-ket-qua/")
    assert after.context["bo"].membership == second
    assert [item.label for item in after.context["bo"].nav] == EXPECTED_NAV[Role.CLERK]


def test_nobody_can_switch_to_a_membership_of_someone_else(client, officers):
    theirs = Membership.objects.get(user=officers.specialist)
    client.force_login(officers.counter)
    client.post("/can-bo/doi-vai-tro/", {"membership": theirs.pk})
    client.post("/can-bo/doi-vai-tro/", {"membership": "x"})
    response = client.get("/can-bo/tiep-nhan/")
    assert response.context["bo"].membership.user == officers.counter
    assert response.status_code == 200


def test_a_single_membership_is_shown_without_a_chooser(client, officers):
    client.force_login(officers.counter)
    html = client.get("/can-bo/tiep-nhan/").content.decode()
    assert 'name="membership"' not in html
    assert "Cán bộ một cửa — TTPVHCC tỉnh" in html
    assert "Lê Thị Hương" in html


def test_the_layout_has_landmarks_skip_link_language_switch_and_htmx(client, officers):
    client.force_login(officers.counter)
    html = client.get("/can-bo/tiep-nhan/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert 'action="/i18n/setlang/"' in html
    assert "/static/django_htmx/htmx" in html or "/static/django-htmx/htmx" in html
    assert "/static/backoffice/backoffice.css" in html
    assert "Đang xây dựng" in html
    assert "https://" not in html.split("</head>")[0]  # nothing from a CDN


def test_backoffice_pages_are_never_cached(client, officers):
    # Counter computers are shared: "back" after signing out must not show a page.
    client.force_login(officers.counter)
    for url in ("/can-bo/tiep-nhan/", "/can-bo/dang-nhap/", "/can-bo/ho-so/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_build_officers_is_usable_outside_fixtures(db):
    # Other test modules (and the browser tests) build the same officers.
    officers = build_officers()
    assert set(officers.by_role()) == set(Role.values)


@pytest.mark.urls("motcua.urls")
@pytest.mark.parametrize("role", list(EXPECTED_NAV))
def test_every_page_the_navigation_offers_opens_for_its_role(client, officers, role):
    # The real pages, end to end: what the menu offers must open.
    user = officers.by_role()[role]
    client.force_login(user)
    if access.requires_otp(user):
        verify_otp(client, user)
    for item in client.get("/can-bo/dang-xuat/").context["bo"].nav:
        assert client.get(item.url).status_code == 200, (role, item.url)
