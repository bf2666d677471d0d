from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "motcua.dossiers"
    label = "dossiers"
    verbose_name = "Hồ sơ thủ tục hành chính"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from motcua.agencies.models import AdministrativeUnit, Agency
        from motcua.catalog.models import (
            Component,
            Fee,
            Procedure,
            ProcedureAgency,
            ProcedureVersion,
            TimeLimit,
            Variant,
        )

        from . import signals
        from .services import clear_reference_cache

        signals.connect()
        for model in (
            AdministrativeUnit,
            Agency,
            Procedure,
            ProcedureAgency,
            ProcedureVersion,
            Variant,
            Component,
            TimeLimit,
            Fee,
        ):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_reference_cache, sender=model, dispatch_uid=f"ref-cache-{model.__name__}"
                )
