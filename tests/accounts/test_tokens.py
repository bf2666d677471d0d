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
