from django.core.management.base import BaseCommand

from motcua.dossiers.outbox import deliver_pending


class Command(BaseCommand):
    help = "Gửi các việc còn chờ trong hộp thư đi (outbox) của hồ sơ."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, limit: int, **options):
        delivered, failed = deliver_pending(limit=limit)
        self.stdout.write(f"Đã gửi {delivered}, lỗi {failed}.")
