"""``manage.py import_procedures FILE [FILE...]`` (``motcua import-procedures FILE``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from motcua.catalog.importers import import_procedures


class Command(BaseCommand):
    help = (
        "Nhập thủ tục hành chính từ tệp JSON Lines của Cổng dịch vụ công quốc gia (danh mục "
        "hoặc bản ghi chi tiết, có thể nén gzip). Bản ghi lỗi được liệt kê và bỏ qua; chạy lại "
        "không tạo phiên bản mới nếu nội dung không đổi."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="tệp .jsonl hoặc .jsonl.gz")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=250,
            help="số bản ghi mỗi giao dịch (mỗi bản ghi vẫn được lưu riêng rẽ)",
        )

    def handle(self, *args, files: list[str], batch_size: int, **options):
        report = import_procedures(
            files,
            progress=self.stdout.isatty(),
            batch_size=max(batch_size, 1),
            log=lambda message: self.stderr.write(message),
        )
        if report.failures:
            self.stdout.write(f"Bản ghi bị bỏ qua ({len(report.failures)}):")
            for failure in report.failures:
                self.stdout.write(f"  {failure}")
        self.stdout.write(report.summary())
        if report.file_errors:
            raise CommandError("Không đọc được tệp: " + "; ".join(report.file_errors))
        self.stdout.write(self.style.SUCCESS("Nhập thủ tục hành chính xong."))
