import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from motcua.monitoring.facts import day_start
from motcua.monitoring.violations import RULES, sweep


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Ngày «{value}» không hợp lệ (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Chạy các quy tắc phát hiện vi phạm trên sự kiện hồ sơ của một khoảng thời gian (mặc "
        "định 30 ngày gần nhất; --all: toàn bộ) và trên hồ sơ, bước xử lý đang quá hạn."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=_day, help="từ ngày (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", type=_day, help="đến ngày (YYYY-MM-DD)")
        parser.add_argument("--all", action="store_true", help="toàn bộ lịch sử")
        parser.add_argument(
            "--rule", action="append", choices=sorted(RULES), dest="rules", help="chỉ quy tắc này"
        )

    def handle(self, *args, date_from=None, date_to=None, all=False, rules=None, **options):
        now = timezone.now()
        if all:
            since = None
        elif date_from:
            since = day_start(date_from)
        else:
            since = now - dt.timedelta(days=30)
        until = day_start(date_to + dt.timedelta(days=1)) if date_to else now
        found = sweep(since, until, now=now, rules=rules)
        for code, count in found.items():
            self.stdout.write(f"{code}: {count} vi phạm mới — {RULES[code].description}")
        self.stdout.write(f"Tổng cộng {sum(found.values())} vi phạm mới.")
