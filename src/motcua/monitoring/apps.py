from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "motcua.monitoring"
    label = "monitoring"
    verbose_name = "Giám sát, đánh giá"

    def ready(self) -> None:
        from motcua.dossiers import outbox

        from . import checks  # noqa: F401  (registers the rule-set check)
        from .rollups import handle_message

        # Every dossier event carries a "monitor.<action>" outbox message (dossiers.services
        # ._record): the rollups and the violation rules follow the history through it, so the
        # per-minute outbox sweep (dossiers.tasks.sweep_outbox) keeps them at most a minute late.
        outbox.register_handler("monitor", handle_message)
