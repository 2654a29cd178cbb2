"""Attachments get random storage names; import spreadsheets move out of the media root into
the private storage (settings.STORAGES["private"]), under random names too; an import keeps the
id of the task that reads it. docs/files.md. The hash chain records each attachment's original
name, size and SHA-256, never its stored name, so moving a file changes no hash."""

from django.core.files.storage import storages
from django.db import migrations, models

import core.uploads


def move_files(apps, schema_editor):
    core.uploads.move_to_random_names(apps.get_model("disclosure", "Attachment"), "file")
    core.uploads.move_to_random_names(
        apps.get_model("disclosure", "ImportBatch"), "file", from_storage=storages["default"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0002_finance_tools"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attachment",
            name="file",
            field=models.FileField(
                upload_to=core.uploads.RandomName("disclosure/attachments"), verbose_name="file"
            ),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="file",
            field=models.FileField(
                blank=True,
                storage=core.uploads.private_storage,
                upload_to=core.uploads.RandomName("disclosure/imports"),
                verbose_name="file",
            ),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="task_id",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="reading task"
            ),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop, elidable=True),
    ]
