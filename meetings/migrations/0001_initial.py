"""Sessions, agenda items, roster entries, motions, votes and minutes, taken over from deliberation/.

State only: the tables were made by deliberation/migrations/0002_sessions.py and keep their names
(Meta.db_table), so every row stays where it is. A database made before issue 15 just changes
hands; a new database gets the same tables from deliberation's 0002. 0002_content_types moves the
content types.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('budgets', '0003_proposalphoto'),
        ('councils', '0001_initial'),
        ('deliberation', '0005_sessions_moved_to_meetings'),
        ('disclosure', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AgendaItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveIntegerField(verbose_name='number')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('description', models.TextField(blank=True, verbose_name='description')),
                        ('budget_cycle', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='agenda_items', to='budgets.budgetcycle', verbose_name='budget cycle')),
                        ('record', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='agenda_items', to='disclosure.record', verbose_name='published record')),
                        ('topic', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='agenda_items', to='deliberation.topic', verbose_name='hall topic')),
                    ],
                    options={
                        'verbose_name': 'agenda item',
                        'verbose_name_plural': 'agenda',
                        'db_table': 'deliberation_agendaitem',
                        'ordering': ['session', 'position'],
                    },
                ),
                migrations.CreateModel(
                    name='Session',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('representatives', "Village representatives' meeting"), ('assembly', "Villagers' assembly"), ('two_committees', 'Joint meeting of the two committees'), ('party_members', "Party members' meeting")], max_length=20, verbose_name='kind of meeting')),
                        ('roster_mode', models.CharField(choices=[('representatives', 'Committee members and village representatives'), ('residents', 'All verified adult residents'), ('households', 'One representative per household (the household head)'), ('committee', 'Committee members')], max_length=20, verbose_name='who may attend and vote')),
                        ('title', models.CharField(max_length=120, verbose_name='title')),
                        ('starts_at', models.DateTimeField(verbose_name='starts at')),
                        ('place', models.CharField(max_length=200, verbose_name='place')),
                        ('is_public', models.BooleanField(default=True, verbose_name='public')),
                        ('status', models.CharField(choices=[('scheduled', 'Scheduled'), ('open', 'In session'), ('closed', 'Closed')], default='scheduled', max_length=10, verbose_name='status')),
                        ('rule', models.JSONField(verbose_name='counting rule')),
                        ('entitled_count', models.PositiveIntegerField(default=0, verbose_name='entitled to attend')),
                        ('opened_at', models.DateTimeField(blank=True, null=True, verbose_name='opened at')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                        ('check_in_open', models.BooleanField(default=False, verbose_name='check-in open')),
                        ('check_in_code', models.CharField(blank=True, editable=False, max_length=6)),
                        ('last_seq', models.PositiveIntegerField(default=0, editable=False)),
                        ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('convened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='convened by')),
                        ('council', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='councils.councilpage', verbose_name='council')),
                    ],
                    options={
                        'verbose_name': 'session',
                        'verbose_name_plural': 'sessions',
                        'db_table': 'deliberation_session',
                        'ordering': ['-starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='RosterEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, verbose_name='name')),
                        ('capacity', models.CharField(blank=True, max_length=40, verbose_name='capacity')),
                        ('attendance', models.CharField(choices=[('absent', 'Absent'), ('present', 'Present'), ('proxy', 'Represented by proxy')], default='absent', max_length=8, verbose_name='attendance')),
                        ('checked_in_at', models.DateTimeField(blank=True, null=True, verbose_name='checked in at')),
                        ('check_in_method', models.CharField(blank=True, choices=[('chair', 'Recorded by the chair'), ('code', 'Checked in with the room code')], max_length=8, verbose_name='how')),
                        ('household', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='councils.household', verbose_name='household')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='roster_entries', to=settings.AUTH_USER_MODEL, verbose_name='person')),
                        ('proxy_holder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='proxies_held', to='meetings.rosterentry', verbose_name='proxy held by')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='roster', to='meetings.session', verbose_name='session')),
                    ],
                    options={
                        'verbose_name': 'roster entry',
                        'verbose_name_plural': 'roster',
                        'db_table': 'deliberation_rosterentry',
                        'ordering': ['session', 'name', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Motion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='motion')),
                        ('text', models.TextField(blank=True, verbose_name='text')),
                        ('majority', models.CharField(choices=[('session', "The session's rule (more than half of those present)"), ('two_thirds_present', 'At least two thirds of those present'), ('half_members', 'More than half of all members'), ('two_thirds_members', 'At least two thirds of all members')], default='session', max_length=20, verbose_name='majority required')),
                        ('status', models.CharField(choices=[('draft', 'Not yet put to the vote'), ('open', 'Voting'), ('closed', 'Vote closed')], default='draft', max_length=8, verbose_name='status')),
                        ('rule', models.JSONField(blank=True, null=True, verbose_name='counting rule')),
                        ('voters', models.JSONField(blank=True, default=list, verbose_name='who votes, and who casts each vote')),
                        ('entitled_count', models.PositiveIntegerField(default=0)),
                        ('present_count', models.PositiveIntegerField(default=0)),
                        ('result', models.CharField(blank=True, choices=[('passed', 'passed'), ('failed', 'failed'), ('no_quorum', 'no_quorum')], max_length=10, verbose_name='result')),
                        ('opened_at', models.DateTimeField(blank=True, null=True, verbose_name='vote opened')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='vote closed')),
                        ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('agenda_item', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='motions', to='meetings.agendaitem', verbose_name='agenda item')),
                        ('implementation_record', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='implemented_motion', to='disclosure.record', verbose_name='disclosure of the implementation')),
                        ('resolution_record', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='resolved_motion', to='disclosure.record', verbose_name='disclosure of the resolution')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='motions', to='meetings.session', verbose_name='session')),
                    ],
                    options={
                        'verbose_name': 'motion',
                        'verbose_name_plural': 'motions',
                        'db_table': 'deliberation_motion',
                        'ordering': ['session', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Minutes',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('narrative', models.TextField(blank=True, verbose_name='narrative')),
                        ('record', models.JSONField(default=dict, verbose_name='record of the session')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('published', 'Published')], default='draft', max_length=10, verbose_name='status')),
                        ('correction_reason', models.TextField(blank=True, verbose_name='reason for the correction')),
                        ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published at')),
                        ('corrects', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='corrected_by', to='meetings.minutes', verbose_name='corrects')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='written by')),
                        ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='minutes', to='meetings.session', verbose_name='session')),
                    ],
                    options={
                        'verbose_name': 'minutes',
                        'verbose_name_plural': 'minutes',
                        'db_table': 'deliberation_minutes',
                        'ordering': ['session', 'pk'],
                    },
                ),
                migrations.AddField(
                    model_name='agendaitem',
                    name='session',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agenda', to='meetings.session', verbose_name='session'),
                ),
                migrations.CreateModel(
                    name='Vote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('choice', models.CharField(choices=[('yes', 'For'), ('no', 'Against'), ('abstain', 'Abstain')], max_length=8, verbose_name='vote')),
                        ('by_proxy', models.BooleanField(default=False, verbose_name='by proxy')),
                        ('created', models.DateTimeField(auto_now_add=True, verbose_name='cast at')),
                        ('cast_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cast by')),
                        ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='votes', to='meetings.rosterentry', verbose_name='member')),
                        ('motion', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='votes', to='meetings.motion', verbose_name='motion')),
                    ],
                    options={
                        'verbose_name': 'vote',
                        'verbose_name_plural': 'votes',
                        'db_table': 'deliberation_vote',
                        'ordering': ['motion', 'entry__name', 'pk'],
                    },
                ),
                migrations.AddIndex(
                    model_name='session',
                    index=models.Index(fields=['council', '-starts_at'], name='deliberatio_council_4aaacd_idx'),
                ),
                migrations.AddConstraint(
                    model_name='rosterentry',
                    constraint=models.UniqueConstraint(fields=('session', 'person'), name='one_roster_entry_each'),
                ),
                migrations.AddConstraint(
                    model_name='rosterentry',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('attendance', 'proxy'), ('proxy_holder__isnull', False)), models.Q(models.Q(('attendance', 'proxy'), _negated=True), ('proxy_holder__isnull', True)), _connector='OR'), name='roster_proxy_has_holder'),
                ),
                migrations.AddConstraint(
                    model_name='minutes',
                    constraint=models.UniqueConstraint(condition=models.Q(('corrects__isnull', True)), fields=('session',), name='one_original_minutes_per_session'),
                ),
                migrations.AddConstraint(
                    model_name='agendaitem',
                    constraint=models.UniqueConstraint(fields=('session', 'position'), name='unique_agenda_position'),
                ),
                migrations.AddConstraint(
                    model_name='vote',
                    constraint=models.UniqueConstraint(fields=('motion', 'entry'), name='one_vote_per_member'),
                ),
            ],
        ),
    ]
