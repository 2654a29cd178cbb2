"""The content types of the moved models change app label, deliberation -> meetings.

Keeping the rows (and their ids) keeps what points at them: permissions, Wagtail's logs and any
generic relation. If `meetings` rows exist already (post_migrate ran in between), they are empty
twins made by Django and give way to the old ones.
"""

from django.db import migrations

MOVED = ["session", "agendaitem", "rosterentry", "motion", "vote", "minutes"]


def _relabel(apps, schema_editor, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        moving = ContentType.objects.using(db).filter(app_label=old, model=model).first()
        if moving is None:
            continue
        ContentType.objects.using(db).filter(app_label=new, model=model).delete()
        moving.app_label = new
        moving.save(update_fields=["app_label"])
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _relabel(apps, schema_editor, old="deliberation", new="meetings")


def backwards(apps, schema_editor):
    _relabel(apps, schema_editor, old="meetings", new="deliberation")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("meetings", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
