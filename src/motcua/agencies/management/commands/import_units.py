"""``manage.py import_units PATH [--historical] [--formed-from FILE]`` (``motcua import-units``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from motcua.agencies.services import import_units, iter_report_lines
from motcua.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Nhập danh mục đơn vị hành chính từ tệp JSON (thanglequoc/vietnamese-provinces-database): "
        "34 tỉnh, thành phố và 3.321 xã, phường, đặc khu từ 01/7/2025, hoặc danh mục trước "
        "01/7/2025 với --historical. Chạy lại nhiều lần không tạo bản trùng."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="tệp JSON đơn vị hành chính")
        parser.add_argument(
            "--historical",
            action="store_true",
            help="tệp 63 tỉnh – huyện – xã (hiệu lực đến 30/6/2025)",
        )
        parser.add_argument(
            "--formed-from",
            metavar="FILE",
            help="tệp sapnhap_donvi_truocsapnhap.json để điền «hình thành từ»",
        )

    def handle(self, *args, path: str, historical: bool, formed_from: str | None, **options):
        is_terminal = self.stdout.isatty()
        try:
            report = import_units(
                path, historical=historical, formed_from=formed_from, progress=is_terminal
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for line in iter_report_lines(report):
            self.stdout.write(line)
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} bản ghi bị bỏ qua vì lỗi; các bản ghi hợp lệ đã được nhập."
            )
        self.stdout.write(self.style.SUCCESS("Nhập đơn vị hành chính xong."))
