from django.apps import AppConfig


class PrintingConfig(AppConfig):
    name = "motcua.printing"
    label = "printing"
    verbose_name = "In biểu mẫu"
