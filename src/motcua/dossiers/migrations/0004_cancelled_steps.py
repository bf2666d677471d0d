from django.db import migrations, models

# Stopped (8) and withdrawn (7) dossiers: their steps not done yet are cancelled, as
# services.stop / services.withdraw now do, so no inbox or deadline check reads them.
ENDED_WITHOUT_RESULT = (7, 8)


def cancel_steps_of_ended_dossiers(apps, schema_editor):
    Step = apps.get_model("dossiers", "Step")
    Step.objects.filter(
        dossier__status__in=ENDED_WITHOUT_RESULT, state__in=("pending", "active")
    ).update(state="cancelled")


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0003_rating"),
    ]

    operations = [
        migrations.AlterField(
            model_name="step",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Chờ"),
                    ("active", "Đang thực hiện"),
                    ("done", "Đã hoàn thành"),
                    ("sent_back", "Đã chuyển trả bước trước"),
                    ("cancelled", "Không thực hiện (hồ sơ đã dừng hoặc rút)"),
                ],
                max_length=10,
                verbose_name="tình trạng",
            ),
        ),
        migrations.RunPython(cancel_steps_of_ended_dossiers, migrations.RunPython.noop),
    ]
