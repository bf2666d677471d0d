from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "motcua.accounts"
    label = "accounts"
    verbose_name = "Tài khoản, vai trò và mã truy cập API"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from .auth import clear_token_cache
        from .models import ApiToken

        # A token or user changed in this process is read afresh at once; other processes
        # follow within auth.TOKEN_CACHE_SECONDS.
        for signal in (post_save, post_delete):
            signal.connect(clear_token_cache, sender=ApiToken, dispatch_uid=f"tok-{signal}")
            signal.connect(
                clear_token_cache, sender=settings.AUTH_USER_MODEL, dispatch_uid=f"usr-{signal}"
            )
