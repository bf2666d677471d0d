"""The applicant's satisfaction rating: once, after the return, only by the applicant's own
account (``services.rate``), and its page on the portal (/tai-khoan/danh-gia/<code>/)."""

from __future__ import annotations

import pytest

from motcua.core.errors import DomainError, InvalidInput, NotFound
from motcua.dossiers import services
from motcua.dossiers.models import Applicant, DossierEvent, OutboxMessage, Rating
from motcua.dossiers.services import SYSTEM
from tests.portal.account.helpers import PASSWORD, make_citizen, returned_dossier

from .actions import snapshot
from .world import vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(world):
    return make_citizen("0912345678")


def test_the_applicant_rates_a_returned_dossier_once(world, citizen):
    dossier = returned_dossier(world, citizen)
    rating = services.rate(
        dossier, actor=citizen, score=3, comment="  Cán bộ tận tình. ", at=vn(6, 10)
    )
    assert (rating.score, rating.comment, rating.created_at) == (3, "Cán bộ tận tình.", vn(6, 10))
    assert rating.agency == world.centre
    assert rating.officer == world.counter  # who handed the result over
    assert rating.rated_by == citizen
    event = DossierEvent.objects.get(dossier=dossier, action="rate")
    assert event.data == {"score": 3}
    assert event.status_before == event.status_after == 10
    assert event.actor == citizen
    topics = set(OutboxMessage.objects.filter(event=event).values_list("topic", flat=True))
    assert topics == {"monitor.rate"}
    dossier.refresh_from_db()
    assert dossier.status == 10  # a rating changes no status

    before = snapshot(dossier), Rating.objects.count()
    with pytest.raises(services.AlreadyRated) as caught:
        services.rate(dossier, actor=citizen, score=1)
    assert caught.value.code == "already_rated"
    assert caught.value.message == (
        "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần."
    )
    assert (snapshot(dossier), Rating.objects.count()) == before


def test_the_owners_account_may_rate_too(world, citizen):
    dossier = returned_dossier(world)
    owner = Applicant.objects.create(kind="individual", name="Lê Văn Chủ", user=citizen)
    type(dossier).objects.filter(pk=dossier.pk).update(owner=owner)
    assert services.rate(dossier, actor=citizen, score=2).score == 2


def test_nobody_else_may_rate_and_learns_nothing(world, citizen):
    dossier = returned_dossier(world, citizen)
    stranger = make_citizen("0987654321")
    before = snapshot(dossier)
    for actor in (stranger, world.counter, SYSTEM, None):
        with pytest.raises(NotFound) as caught:
            services.rate(dossier, actor=actor, score=3)
        assert caught.value.code == "dossier_not_found" and caught.value.status == 404
    citizen.is_active = False
    with pytest.raises(NotFound):
        services.rate(dossier, actor=citizen, score=3)
    assert snapshot(dossier) == before and not Rating.objects.exists()


def test_a_dossier_not_yet_returned_cannot_be_rated(world, citizen):
    dossier = world.received()
    Applicant.objects.filter(pk=dossier.applicant_id).update(user=citizen)
    before = snapshot(dossier)
    with pytest.raises(DomainError) as caught:
        services.rate(dossier, actor=citizen, score=3)
    assert caught.value.code == "not_returned" and caught.value.status == 409
    assert "chưa được trả kết quả" in caught.value.message
    assert snapshot(dossier) == before and not Rating.objects.exists()


@pytest.mark.parametrize("score", [0, 4, -1, True, "3", 2.0, None])
def test_the_score_is_on_the_three_level_scale(world, citizen, score):
    dossier = returned_dossier(world, citizen)
    with pytest.raises(InvalidInput) as caught:
        services.rate(dossier, actor=citizen, score=score)
    assert caught.value.code == "invalid_score"
    assert not Rating.objects.exists()


def test_a_comment_has_a_limit(world, citizen):
    dossier = returned_dossier(world, citizen)
    with pytest.raises(InvalidInput) as caught:
        services.rate(dossier, actor=citizen, score=2, comment="x" * 2001)
    assert caught.value.code == "comment_too_long"


def test_without_a_returning_officer_the_last_step_is_rated(world, citizen):
    dossier = returned_dossier(world, citizen)
    dossier.result.returned_by = None
    dossier.result.save()
    last = dossier.steps.filter(done_by__isnull=False).order_by("-done_at", "-order").first()
    rating = services.rate(dossier, actor=citizen, score=1)
    assert rating.officer == last.done_by


# --- the page ----------------------------------------------------------------------------------


def rate_url(dossier) -> str:
    return f"/tai-khoan/danh-gia/{dossier.code}/"


def test_the_rating_page_takes_a_rating_once(client, world, citizen):
    dossier = returned_dossier(world, citizen)
    client.force_login(citizen)
    page = client.get(rate_url(dossier))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rất hài lòng" in html and "Không hài lòng" in html
    assert "Trung tâm Phục vụ hành chính công tỉnh" in html
    missing = client.post(rate_url(dossier), {"comment": "Tốt"})
    assert missing.status_code == 400
    assert "Chưa chọn mức độ hài lòng." in missing.content.decode()
    response = client.post(rate_url(dossier), {"score": "2", "comment": "Nhanh gọn"})
    assert response.status_code == 302 and response["Location"] == rate_url(dossier)
    thanks = client.get(rate_url(dossier)).content.decode()
    assert "Cảm ơn bạn đã đánh giá" in thanks and "Nhanh gọn" in thanks
    again = client.post(rate_url(dossier), {"score": "1"})
    assert again.status_code == 409
    assert "mỗi hồ sơ chỉ được đánh giá một lần" in again.content.decode()
    assert Rating.objects.get().score == 2


def test_someone_elses_dossier_is_not_found(client, world, citizen):
    dossier = returned_dossier(world, citizen)
    client.force_login(make_citizen("0987654321"))
    assert client.get(rate_url(dossier)).status_code == 404
    assert client.post(rate_url(dossier), {"score": "3"}).status_code == 404
    assert client.get("/tai-khoan/danh-gia/khong-co-ma-nay/").status_code == 404
    client.force_login(world.counter)  # an officer is no applicant either
    assert client.get(rate_url(dossier)).status_code == 404
    assert not Rating.objects.exists()


def test_a_dossier_not_returned_shows_why(client, world, citizen):
    dossier = world.received()
    Applicant.objects.filter(pk=dossier.applicant_id).update(user=citizen)
    client.force_login(citizen)
    response = client.post(rate_url(dossier), {"score": "3"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Hồ sơ chưa được trả kết quả nên chưa thể đánh giá" in html
    assert "Gửi đánh giá" not in html
    assert not Rating.objects.exists()


def test_signed_out_goes_to_the_sign_in_first(client, world, citizen):
    dossier = returned_dossier(world, citizen)
    response = client.get(rate_url(dossier))
    assert response.status_code == 302
    assert response["Location"].startswith("/tai-khoan/dang-nhap/?next=")
    signed = client.post(response["Location"], {"identifier": "0912345678", "password": PASSWORD})
    assert signed["Location"] == rate_url(dossier)


def test_the_profile_lists_the_dossiers_waiting_for_a_rating(client, world, citizen):
    dossier = returned_dossier(world, citizen)
    client.force_login(citizen)
    html = client.get("/tai-khoan/").content.decode()
    assert "mời bạn đánh giá" in html and rate_url(dossier) in html
    services.rate(dossier, actor=citizen, score=3)
    html = client.get("/tai-khoan/").content.decode()
    assert "mời bạn đánh giá" not in html
    assert "Đánh giá đã gửi" in html and "Rất hài lòng" in html


def test_the_admin_lists_ratings_read_only(admin_client):
    from django.urls import reverse

    page = admin_client.get(reverse("admin:dossiers_rating_changelist"))
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:dossiers_rating_add")).status_code == 403
