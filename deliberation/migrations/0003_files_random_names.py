"""Topic photos get random storage names (core.uploads.RandomName) and are served through a
view that checks who may see the topic (docs/files.md); existing files are moved."""

from django.db import migrations, models

import core.uploads


def move_files(apps, schema_editor):
    core.uploads.move_to_random_names(apps.get_model("deliberation", "TopicPhoto"), "image")


class Migration(migrations.Migration):
    dependencies = [
        ("deliberation", "0002_sessions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="topicphoto",
            name="image",
            field=models.ImageField(
                upload_to=core.uploads.RandomName("topics"), verbose_name="photo"
            ),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop, elidable=True),
    ]
