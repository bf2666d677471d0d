"""``manage.py load_demo``: load the demo province (idempotent; ``make run`` calls it).

Production deployments do not call this command.
"""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from motcua.demo import loader
from motcua.dossiers.models import Status


class Command(BaseCommand):
    help = (
        "Nạp dữ liệu mẫu tỉnh Thanh Hóa (đơn vị hành chính, cơ quan, thủ tục, tài khoản mẫu, "
        "khoảng 200 hồ sơ mẫu)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-accounts", action="store_true", help="Không tạo tài khoản mẫu.")
        parser.add_argument(
            "--no-dossiers", action="store_true", help="Không tạo hồ sơ mẫu (khoảng 200 hồ sơ)."
        )
        parser.add_argument(
            "--base-url",
            default=os.environ.get("MOTCUA_BASE_URL", "http://127.0.0.1:8000"),
            help="Địa chỉ gốc để in đường dẫn (mặc định http://127.0.0.1:8000).",
        )

    def handle(self, *args, **options):
        report = loader.load_demo(
            accounts=not options["no_accounts"], dossiers=not options["no_dossiers"]
        )
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                "Dữ liệu mẫu: "
                f"{report.units_created} đơn vị hành chính, {report.agencies_created} cơ quan, "
                f"{report.departments_created} phòng ban, {report.counters_created} quầy mới; "
                f"{report.procedures_total} thủ tục ({report.procedures_created} thủ tục mới, "
                f"{report.versions_created} phiên bản mới)."
            )
        )
        base = options["base_url"].rstrip("/")
        if report.accounts_refused:
            out.write(
                self.style.WARNING(
                    "Không tạo tài khoản mẫu: DEBUG tắt và MOTCUA_DEMO=0 (môi trường thật)."
                )
            )
        elif not options["no_accounts"]:
            note = " (vừa tạo)" if report.accounts_created else ""
            out.write(
                f"Tài khoản mẫu: {loader.DEMO_USERNAME} / {loader.DEMO_PASSWORD} (quản trị){note}"
            )
            for username, role, agency in loader.demo_officer_rows():
                out.write(f"  {username} / {loader.DEMO_PASSWORD} ({role}, {agency})")
            out.write(
                "  Lãnh đạo và quản trị nhập thêm mã xác thực hai bước: `.venv/bin/motcua "
                "demo-totp motcua.lanhdao` (hoặc `admin`) in mã hiện tại, hoặc thêm khóa mẫu "
                f"{loader.DEMO_TOTP_SECRET} vào ứng dụng xác thực (chỉ dùng cho dữ liệu mẫu)."
            )
        self.write_dossiers(report.dossiers)
        if not options["no_dossiers"]:
            # The demo's outbox is marked delivered (nothing is sent), so the monitoring
            # rollups are computed from the dossiers' history instead.
            call_command("rebuild_rollups", stdout=out)
        out.write(f"Trang chủ: {base}/")
        out.write(f"Trang cán bộ: {base}/can-bo/")
        out.write(f"Quản trị: {base}/admin/")
        out.write(f"Tài liệu API: {base}/api/v1/docs")

    def write_dossiers(self, report) -> None:
        """One line for the demo dossiers, one per status, one per failed story."""
        if report is None or report.refused:
            return
        out = self.stdout
        if report.already_loaded:
            out.write("Hồ sơ mẫu: đã có, không tạo thêm.")
        else:
            out.write(f"Hồ sơ mẫu: {report.created} hồ sơ mới trong {report.seconds:.1f} giây.")
            if report.by_status:
                out.write(
                    "  Theo trạng thái: "
                    + "; ".join(
                        f"{Status(status).label} {count}"
                        for status, count in report.by_status.items()
                    )
                    + "."
                )
        for failure in report.failures:
            out.write(self.style.ERROR(f"Hồ sơ mẫu lỗi: {failure}"))
