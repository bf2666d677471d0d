"""Shared by the citizens' account tests: a recording SMS gateway, a citizen, a returned dossier."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from motcua.accounts.models import CitizenProfile
from motcua.dossiers import services
from motcua.dossiers.models import Applicant, Dossier
from motcua.dossiers.services import SYSTEM, ResultInput
from motcua.notifications.providers import (
    OutgoingMessage,
    Provider,
    SendResult,
    TemporaryFailure,
)
from tests.dossiers.world import vn

PASSWORD = "Hoa-sen-nở-2026"
SENT: list[OutgoingMessage] = []
RECORDING_SMS = "tests.portal.account.helpers.RecordingSms"
DOWN_SMS = "tests.portal.account.helpers.DownSms"
CODE = re.compile(r"\b(\d{6})\b")


class RecordingSms(Provider):
    """An SMS gateway that keeps what it is given (the live server runs in this process)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        SENT.append(message)
        return SendResult(message_id=f"sms-{len(SENT)}", response={"ok": True})


class DownSms(Provider):
    def send(self, message: OutgoingMessage) -> SendResult:
        raise TemporaryFailure("HTTP 503 từ cổng SMS")


def last_code(text: str) -> str:
    found = CODE.findall(text)
    assert found, f"no code in {text!r}"
    return found[-1]


def sms_code(to: str) -> str:
    messages = [m for m in SENT if m.recipient == to]
    assert messages, f"no SMS to {to}"
    return last_code(messages[-1].text)


def make_citizen(identifier: str = "0912345678", password: str = PASSWORD, **profile):
    user = get_user_model().objects.create_user(username=identifier, password=password)
    phone = "@" not in identifier
    CitizenProfile.objects.create(
        user=user,
        phone=identifier if phone else "",
        phone_verified=phone,
        email="" if phone else identifier,
        email_verified=not phone,
        **profile,
    )
    return user


def returned_dossier(world, user=None, **submission) -> Dossier:
    """A dossier received, processed and returned at the counter (by ``world.counter``),
    whose applicant is linked to ``user``; ``submission`` overrides ``world.submission``."""
    dossier = world.received(at=vn(2, 9), **submission)
    for _ in range(3):
        services.complete_step(dossier, actor=SYSTEM, note="Hồ sơ đủ điều kiện", at=vn(3, 9))
    result = ResultInput(number="15/GP", signed_on=vn(4, 9).date(), signer="Lê Văn Bình")
    services.record_result(dossier, actor=SYSTEM, result=result, at=vn(4, 9))
    services.return_result(
        dossier,
        actor=world.counter,
        method="counter",
        recipient_name="Nguyễn Thị Hằng",
        at=vn(5, 9),
    )
    if user is not None:
        Applicant.objects.filter(pk=dossier.applicant_id).update(user=user)
    dossier.refresh_from_db()
    return dossier
