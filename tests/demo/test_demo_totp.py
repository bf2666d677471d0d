"""Demo leaders' second factor: a published demo key and `demo_totp`, which serves it only."""

from __future__ import annotations

from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.accounts.models import Role
from motcua.demo import loader
from tests.backoffice.conftest import build_officers, confirmed_device


@pytest.fixture
def demo(db):
    return loader.load_demo(accounts=True, dossiers=False)


def test_the_published_secret_is_the_devices_key():
    assert len(loader.DEMO_TOTP_SECRET) == 32
    assert b32decode(loader.DEMO_TOTP_SECRET).hex() == loader.DEMO_TOTP_KEY_HEX


def test_demo_leaders_and_the_admin_and_only_they_get_a_confirmed_demo_device(demo):
    # Leaders give a code in the back office; the admin asks staff for one (core.admin_site).
    leaders = {o.username for o in loader.DEMO_OFFICERS if o.role == Role.LEADER}
    devices = TOTPDevice.objects.select_related("user")
    assert {d.user.username for d in devices} == leaders | {loader.DEMO_USERNAME}
    assert all(d.confirmed and d.key == loader.DEMO_TOTP_KEY_HEX for d in devices)
    loader.load_demo(accounts=True, dossiers=False)
    assert TOTPDevice.objects.count() == len(leaders) + 1


def test_a_device_set_up_by_hand_is_left_alone(db):
    officers = build_officers()
    own = confirmed_device(officers.leader)
    loader.ensure_demo_totp_device(officers.leader)
    assert list(TOTPDevice.objects.filter(user=officers.leader)) == [own]


@pytest.mark.urls("tests.backoffice.gate_urls")
def test_demo_totp_prints_a_code_that_signs_the_demo_leader_in(demo, client):
    out, err = StringIO(), StringIO()
    call_command("demo_totp", "motcua.lanhdao", stdout=out, stderr=err)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    assert "giây" in err.getvalue()
    response = client.post(
        "/can-bo/dang-nhap/", {"username": "motcua.lanhdao", "password": loader.DEMO_PASSWORD}
    )
    assert response["Location"] == "/can-bo/xac-thuc/"
    assert client.post("/can-bo/xac-thuc/", {"code": code})["Location"] == "/can-bo/"
    assert client.get("/can-bo/ho-so/").status_code == 200


def test_demo_totp_never_prints_the_code_of_a_real_device(db):
    officers = build_officers()
    confirmed_device(officers.leader)  # a random key, as on a real deployment
    with pytest.raises(CommandError, match="không có thiết bị xác thực mẫu"):
        call_command("demo_totp", officers.leader.username, stdout=StringIO())


def test_demo_totp_refuses_on_a_production_like_setup(demo, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("MOTCUA_DEMO", "0")
    with pytest.raises(CommandError, match="môi trường thật"):
        call_command("demo_totp", "motcua.lanhdao", stdout=StringIO())


def test_load_demo_tells_how_leaders_get_their_code(db):
    out = StringIO()
    call_command("load_demo", "--no-dossiers", stdout=out)
    text = out.getvalue()
    assert "demo-totp motcua.lanhdao" in text
    assert loader.DEMO_TOTP_SECRET in text
    assert "/can-bo/" in text
