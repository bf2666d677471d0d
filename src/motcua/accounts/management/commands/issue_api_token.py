from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from motcua.accounts.models import ApiToken, Scope


class Command(BaseCommand):
    help = (
        "Cấp mã truy cập API cho một ứng dụng (hiển thị một lần duy nhất). "
        "Ví dụ: issue_api_token --name 'Cổng DVCQG' --user dvcqg --scope dossiers:submit "
        "--scope dossiers:read --create-user"
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="tên ứng dụng")
        parser.add_argument("--user", required=True, help="tài khoản dịch vụ")
        parser.add_argument(
            "--scope", action="append", required=True, choices=Scope.values, dest="scopes"
        )
        parser.add_argument(
            "--create-user", action="store_true", help="tạo tài khoản dịch vụ nếu chưa có"
        )

    def handle(self, *args, name, user, scopes, create_user, **options):
        User = get_user_model()
        account = User.objects.filter(username=user).first()
        if account is None:
            if not create_user:
                raise CommandError(f"Không có tài khoản «{user}» (thêm --create-user để tạo).")
            account = User.objects.create_user(username=user, password=None)
        token, raw = ApiToken.issue(name=name, user=account, scopes=scopes)
        self.stdout.write(f"Mã truy cập cho «{token.name}» (chỉ hiển thị một lần):")
        self.stdout.write(raw)
