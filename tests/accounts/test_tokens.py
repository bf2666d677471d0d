import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from motcua.accounts.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def test_issue_stores_only_the_hash(capsys):
    call_command(
        "issue_api_token",
        "--name",
        "Cổng DVCQG",
        "--user",
        "dvcqg",
        "--create-user",
        "--scope",
        "dossiers:submit",
        "--scope",
        "dossiers:read",
    )
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert raw.startswith("mc_") and len(raw) > 40
    assert token.key_hash == hash_token(raw) and raw not in token.key_hash
    assert token.scopes == ["dossiers:submit", "dossiers:read"]
    assert token.user.username == "dvcqg" and not token.user.has_usable_password()


def test_unknown_user_and_scope_are_refused():
    with pytest.raises(CommandError):
        call_command(
            "issue_api_token", "--name", "X", "--user", "nobody", "--scope", "dossiers:read"
        )
    user = get_user_model().objects.create_user("svc")
    with pytest.raises(ValueError):
        ApiToken.issue(name="X", user=user, scopes=["everything"])
    assert not ApiToken.objects.exists()


def _lookup_status(raw: str) -> int:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/dossiers").status_code


def test_token_is_read_once_per_interval_and_revocation_takes_effect(
    django_assert_max_num_queries, monkeypatch
):
    from motcua.accounts import auth

    user = get_user_model().objects.create_user("svc")
    token, raw = ApiToken.issue(name="Cổng", user=user, scopes=["dossiers:read"])
    assert _lookup_status(raw) == 200
    # A second request within the interval does not read the token again.
    with django_assert_max_num_queries(20) as first:
        _lookup_status(raw)
    assert not any("accounts_apitoken" in q["sql"] for q in first.captured_queries)

    # Revoked through the admin or a save: refused at once in this process.
    token.is_active = False
    token.save()
    assert _lookup_status(raw) == 401

    # Revoked by another process (no signal here): refused once the interval has passed.
    token2, raw2 = ApiToken.issue(name="Cổng 2", user=user, scopes=["dossiers:read"])
    assert _lookup_status(raw2) == 200
    ApiToken.objects.filter(pk=token2.pk).update(is_active=False)
    assert _lookup_status(raw2) == 200
    later = auth._clock() + auth.TOKEN_CACHE_SECONDS + 1
    monkeypatch.setattr(auth, "_clock", lambda: later)
    assert _lookup_status(raw2) == 401


def test_deactivated_user_loses_token_access():
    user = get_user_model().objects.create_user("svc2")
    _token, raw = ApiToken.issue(name="Cổng", user=user, scopes=["dossiers:read"])
    assert _lookup_status(raw) == 200
    user.is_active = False
    user.save()
    assert _lookup_status(raw) == 401
