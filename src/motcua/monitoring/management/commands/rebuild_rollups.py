import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from motcua.monitoring.rollups import METHODS, rebuild


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Ngày «{value}» không hợp lệ (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Tính lại số liệu tổng hợp giám sát (theo ngày, cơ quan, thủ tục, kênh) và số hồ sơ đang "
        "giải quyết cuối ngày từ lịch sử hồ sơ. Không có --from/--to: toàn bộ lịch sử."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=_day, help="từ ngày (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", type=_day, help="đến ngày (YYYY-MM-DD)")
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="auto",
            help=(
                "python: phát lại từng sự kiện; sql: tính lại toàn bộ bằng truy vấn tập hợp "
                "(chỉ khi không có --from/--to); auto (mặc định): sql trên PostgreSQL khi tính "
                "lại toàn bộ, còn lại python"
            ),
        )

    def handle(self, *args, date_from=None, date_to=None, method="auto", verbosity=1, **options):
        if date_from and date_to and date_to < date_from:
            raise CommandError("--to phải sau --from.")
        if method == "sql" and (date_from or date_to):
            raise CommandError("--method sql chỉ dùng khi tính lại toàn bộ (không có --from/--to).")
        progress = self.stdout.write if verbosity > 1 else None
        report = rebuild(date_from, date_to, progress=progress, method=method)
        self.stdout.write(
            f"Đã tính lại {report.date_from:%d/%m/%Y}–{report.date_to:%d/%m/%Y}: "
            f"{report.dossiers} hồ sơ, {report.events} sự kiện, {report.rollup_rows} dòng tổng "
            f"hợp, {report.snapshot_days} ngày đang giải quyết ({report.seconds:.1f} giây)."
        )
