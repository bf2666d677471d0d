"""``manage.py demo_totp USER`` (or ``motcua demo-totp USER``): the current TOTP code of a demo
leader, so the demo can be tried without an authenticator app.

Demo only: it answers only for a device holding the published demo key
(``loader.DEMO_TOTP_SECRET``), and not at all on a production-like set-up (``DEBUG`` off and
``MOTCUA_DEMO=0``). It cannot reveal the code of a real officer's device.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.demo import loader


class Command(BaseCommand):
    help = (
        "In mã xác thực hai bước (TOTP) hiện tại của một tài khoản lãnh đạo mẫu. "
        "Chỉ dùng cho dữ liệu mẫu."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="Tên đăng nhập mẫu, ví dụ motcua.lanhdao.")

    def handle(self, *args, username: str, **options):
        if not loader.demo_accounts_allowed():
            raise CommandError(
                "Không dùng được lệnh này: DEBUG tắt và MOTCUA_DEMO=0 (môi trường thật)."
            )
        device = TOTPDevice.objects.filter(
            user__username=username, confirmed=True, key=loader.DEMO_TOTP_KEY_HEX
        ).first()
        if device is None:
            raise CommandError(
                f"Tài khoản «{username}» không có thiết bị xác thực mẫu (khóa mẫu công khai). "
                "Lệnh này chỉ in mã cho tài khoản lãnh đạo mẫu."
            )
        now = time.time()
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        left = device.step - int(now - device.t0) % device.step
        self.stdout.write(f"{code:0{device.digits}d}")
        self.stderr.write(
            f"Mã của {username}, còn hiệu lực khoảng {left} giây (mỗi mã chỉ dùng được một lần)."
        )
