"""A citizen's account in the demo (`make run`, default settings): registration by e-mail works
with nothing configured, the one-time code being printed on the console (README, "Demo
accounts")."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from motcua import settings as project_settings

PASSWORD = "Hoa-sen-nở-2026"
EMAIL = "thu.demo@example.vn"


def _default_settings(monkeypatch):
    """src/motcua/settings.py as `make run` reads it: no e-mail configuration."""
    for name in ("EMAIL_HOST", "EMAIL_BACKEND", "MOTCUA_NOTIFY_EMAIL_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location(
        "motcua_settings_as_in_make_run", Path(project_settings.__file__)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_a_citizen_registers_in_the_demo_with_the_code_from_the_console(
    client, settings, monkeypatch, capsys
):
    defaults = _default_settings(monkeypatch)
    assert defaults.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    settings.EMAIL_BACKEND = defaults.EMAIL_BACKEND
    settings.MOTCUA_NOTIFY_EMAIL_PROVIDER = defaults.MOTCUA_NOTIFY_EMAIL_PROVIDER

    response = client.post(
        "/tai-khoan/dang-ky/",
        {"identifier": EMAIL, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    console = capsys.readouterr().out
    assert f"To: {EMAIL}" in console
    (code,) = re.findall(r"của bạn là: (\d{6})", console)

    response = client.post("/tai-khoan/dang-ky/xac-minh/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    user = get_user_model().objects.get(username=EMAIL)
    assert user.check_password(PASSWORD) and user.citizen_profile.email_verified
