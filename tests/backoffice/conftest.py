"""Back-office test data: one agency with an officer in every role, made here (not the demo).

Sign a user in with ``client.force_login(user)`` (django-axes refuses ``client.login()``,
which gives it no request); a leader then still needs ``verify_otp(client, user)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.accounts.models import Membership, Role
from motcua.agencies.models import Agency
from tests.agencies.factories import ProvincialAgencyFactory
from tests.browser.fixtures import (  # noqa: F401  (fixtures and the screenshot-on-failure hook)
    axe,
    browser,
    chromium_path,
    page,
    pytest_runtest_makereport,
    screenshot,
    tablet_page,
)

PASSWORD = "mat-khau-thu-nghiem-1"


@dataclass
class Officers:
    agency: Agency
    counter: object
    specialist: object
    leader: object
    clerk: object
    monitor: object
    administrator: object
    no_membership: object

    def by_role(self) -> dict[str, object]:
        return {
            Role.COUNTER_OFFICER: self.counter,
            Role.SPECIALIST: self.specialist,
            Role.LEADER: self.leader,
            Role.CLERK: self.clerk,
            Role.MONITOR: self.monitor,
            Role.ADMINISTRATOR: self.administrator,
        }


def make_user(username: str, *, first_name: str = "", last_name: str = "", **extra):
    return get_user_model().objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@example.invalid",
        **extra,
    )


def make_officer(username: str, agency: Agency, role: str, **names):
    user = make_user(username, **names)
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def build_officers() -> Officers:
    agency = ProvincialAgencyFactory(
        name="Trung tâm Phục vụ hành chính công tỉnh", short_name="TTPVHCC tỉnh"
    )
    return Officers(
        agency=agency,
        counter=make_officer(
            "tiepnhan", agency, Role.COUNTER_OFFICER, first_name="Lê Thị", last_name="Hương"
        ),
        specialist=make_officer(
            "chuyenvien", agency, Role.SPECIALIST, first_name="Nguyễn Văn", last_name="Hùng"
        ),
        leader=make_officer(
            "lanhdao", agency, Role.LEADER, first_name="Trịnh Đình", last_name="Thắng"
        ),
        clerk=make_officer("vanthu", agency, Role.CLERK, first_name="Phạm Thị", last_name="Lan"),
        monitor=make_officer(
            "giamsat", agency, Role.MONITOR, first_name="Lê Minh", last_name="Đức"
        ),
        administrator=make_officer("quantri", agency, Role.ADMINISTRATOR),
        no_membership=make_user("khongvaitro", first_name="Vũ Văn", last_name="An"),
    )


@pytest.fixture
def officers(db) -> Officers:
    return build_officers()


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now for ``device``."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def verify_otp(client, user) -> TOTPDevice:
    """Pass the second factor for a user already signed in with ``force_login``."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_device(user)
    response = client.post("/can-bo/xac-thuc/", {"code": current_code(device)})
    assert response.status_code == 302, response.content.decode()[:500]
    return device
