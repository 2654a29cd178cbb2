"""Photos get random storage names (core.uploads.RandomName) and are served through a view
that checks who may see them (docs/files.md); existing files are moved to random names."""

from django.db import migrations, models

import core.uploads


def move_files(apps, schema_editor):
    core.uploads.move_to_random_names(apps.get_model("budgets", "ProposalPhoto"), "image")
    core.uploads.move_to_random_names(apps.get_model("budgets", "ProgressUpdate"), "photo")


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0005_register_and_sealed_ballots"),
    ]

    operations = [
        migrations.AlterField(
            model_name="proposalphoto",
            name="image",
            field=models.ImageField(
                upload_to=core.uploads.RandomName("budgets/proposals"), verbose_name="photo"
            ),
        ),
        migrations.AlterField(
            model_name="progressupdate",
            name="photo",
            field=models.ImageField(
                blank=True,
                upload_to=core.uploads.RandomName("budgets/progress"),
                verbose_name="photo",
            ),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop, elidable=True),
    ]
