"""Sessions moved to meetings/ (issue 15): the models leave deliberation's state only.

Their tables keep their names (`deliberation_session`, ...; each model sets Meta.db_table), so no
database operation runs here or in meetings/migrations/0001_initial.py, which takes them over.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('deliberation', '0004_topic_rating'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='motion',
                    name='agenda_item',
                ),
                migrations.RemoveField(
                    model_name='minutes',
                    name='corrects',
                ),
                migrations.RemoveField(
                    model_name='minutes',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='minutes',
                    name='session',
                ),
                migrations.RemoveField(
                    model_name='motion',
                    name='implementation_record',
                ),
                migrations.RemoveField(
                    model_name='motion',
                    name='resolution_record',
                ),
                migrations.RemoveField(
                    model_name='motion',
                    name='session',
                ),
                migrations.RemoveField(
                    model_name='vote',
                    name='motion',
                ),
                migrations.RemoveField(
                    model_name='rosterentry',
                    name='household',
                ),
                migrations.RemoveField(
                    model_name='rosterentry',
                    name='person',
                ),
                migrations.RemoveField(
                    model_name='rosterentry',
                    name='proxy_holder',
                ),
                migrations.RemoveField(
                    model_name='rosterentry',
                    name='session',
                ),
                migrations.RemoveField(
                    model_name='vote',
                    name='entry',
                ),
                migrations.RemoveField(
                    model_name='session',
                    name='convened_by',
                ),
                migrations.RemoveField(
                    model_name='session',
                    name='council',
                ),
                migrations.RemoveField(
                    model_name='vote',
                    name='cast_by',
                ),
                migrations.DeleteModel(
                    name='AgendaItem',
                ),
                migrations.DeleteModel(
                    name='Minutes',
                ),
                migrations.DeleteModel(
                    name='Motion',
                ),
                migrations.DeleteModel(
                    name='RosterEntry',
                ),
                migrations.DeleteModel(
                    name='Session',
                ),
                migrations.DeleteModel(
                    name='Vote',
                ),
            ],
        ),
    ]
