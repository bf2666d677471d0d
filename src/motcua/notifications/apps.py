from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "motcua.notifications"
    label = "notifications"
    verbose_name = "Thông báo cho người nộp hồ sơ"

    def ready(self) -> None:
        connect()


def connect() -> None:
    """Deliver ``notify.*`` outbox messages here (outside the claim's transaction: an e-mail
    or an SMS cannot be rolled back, see ``dossiers.outbox``)."""
    from motcua.dossiers import outbox

    from .services import TOPIC, handle

    outbox.register_handler(TOPIC, handle, atomic=False)
