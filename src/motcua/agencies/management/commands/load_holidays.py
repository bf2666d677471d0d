"""``manage.py load_holidays [--agency ELECTRONIC_ID] [PATH]``: load days off and make-up days."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from motcua.agencies.models import Agency
from motcua.agencies.services import SHIPPED_HOLIDAYS, load_calendar_csv
from motcua.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Nạp ngày nghỉ lễ, Tết và ngày làm bù từ tệp CSV (date,kind,name,basis). "
        "Mặc định là lịch toàn quốc đi kèm phần mềm."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=str(SHIPPED_HOLIDAYS),
            help="tệp CSV (mặc định: lịch toàn quốc đi kèm)",
        )
        parser.add_argument(
            "--agency",
            metavar="ELECTRONIC_ID",
            help="mã định danh điện tử của cơ quan (để trống: lịch toàn quốc)",
        )

    def handle(self, *args, path: str, agency: str | None, **options):
        target = None
        if agency:
            target = Agency.objects.filter(electronic_id=agency.strip()).first()
            if target is None:
                raise CommandError(f"Không tìm thấy cơ quan có mã định danh «{agency}».")
        try:
            report = load_calendar_csv(path, agency=target)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        scope = f"cơ quan {target.electronic_id}" if target else "toàn quốc"
        if report.errors:
            for line, reason in report.errors:
                self.stderr.write(f"Dòng {line}: {reason}.")
            raise CommandError(
                f"Tệp có {len(report.errors)} dòng lỗi; chưa ghi gì vào lịch {scope}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Lịch {scope}: tạo mới {report.created}, cập nhật {report.updated}, "
                f"không đổi {report.unchanged}."
            )
        )
