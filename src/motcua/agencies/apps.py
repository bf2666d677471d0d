from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AgenciesConfig(AppConfig):
    name = "motcua.agencies"
    label = "agencies"
    verbose_name = "Cơ quan, đơn vị hành chính và lịch làm việc"

    def ready(self) -> None:
        from motcua.agencies.calendar import clear_calendar_cache
        from motcua.agencies.models import Agency, CalendarDay, WorkingSession

        # Built calendars are cached per process; any edit of their inputs drops them.
        for model in (CalendarDay, WorkingSession, Agency):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_calendar_cache,
                    sender=model,
                    dispatch_uid=f"agencies_calendar_cache_{model.__name__}_{signal is post_save}",
                )
